"""Which of CPython's own test modules the suite runs (issue #18), and the fast slice."""

ALL = [
    "test_list", "test_tuple", "test_dict", "test_set", "test_bool", "test_int", "test_float",
    "test_complex", "test_math", "test_cmath", "test_sort", "test_iter", "test_itertools",
    "test_generators", "test_generator_stop", "test_contextlib", "test_exceptions",
    "test_exception_variations", "test_baseexception", "test_raise", "test_with", "test_operator",
    "test_heapq", "test_bisect", "test_collections", "test_defaultdict", "test_ordered_dict",
    "test_userdict", "test_userlist", "test_enum", "test_patma", "test_functools", "test_range",
    "test_slice", "test_string", "test_grammar", "test_class", "test_descr", "test_numeric_tower",
    "test_int_literal", "test_funcattrs", "test_scope", "test_unpack", "test_compare",
    "test_augassign", "test_types", "test_sys",
]

# run by `make test` (tests/cpython/test_suite.py): under two minutes on this machine
FAST = [
    "test_bool", "test_raise", "test_exception_variations", "test_baseexception", "test_with",
    "test_operator", "test_bisect", "test_heapq", "test_scope", "test_unpack", "test_compare",
    "test_augassign", "test_slice", "test_range", "test_userlist", "test_int_literal",
]
