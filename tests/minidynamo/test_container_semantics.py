"""Containers and iterators under md.compile behave as in CPython (issue #18): OrderedDicts,
live dict views, sets in CPython's order, iterators consumed exactly as far as CPython consumes
them, the operator module acting on the objects themselves, and no user __hash__/__eq__ run
behind the user's back. Each program runs plainly and compiled (backend="eager") on fresh
copies of its arguments, twice (the second call hits the cache); values, exceptions and the
changes made to the arguments must agree. Where the compiled frame must not fall back for the
test to mean anything, the test also checks that it traced to the end."""
import collections
import copy
import operator
import sys

import pytest

import minidynamo as md


@pytest.fixture(autouse=True)
def _reset():
    md.reset()
    yield
    md.reset()


def outcome(fn, args):
    """('ok', value) or ('raise', type, message) of one call, and the arguments after it."""
    try:
        r = ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001
        r = ("raise", type(e), str(e))
    return r, args


def same(a, b, seen=None):
    """Equal values of the same types, dicts compared in order (self-references too)."""
    if type(a) is not type(b):
        return False
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return True
    if isinstance(a, (list, tuple, dict)):
        seen.add((id(a), id(b)))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, seen) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k], seen) for k in a)
    if isinstance(a, Plain):  # copies of one object: equal states
        return vars(a) == vars(b)
    return a == b or a is b


def check(fn, *calls, traced=False):
    """fn compiled agrees with fn on every call (tuples of arguments), each made twice."""
    compiled = md.compile(fn, backend="eager")
    for args in calls:
        for _ in range(2):
            want = outcome(fn, copy.deepcopy(args))
            got = outcome(compiled, copy.deepcopy(args))
            assert same(got, want), (args, got, want)
    if traced:
        assert traced_to_the_end(compiled), "the frame did not trace to the end"
    return compiled


def traced_to_the_end(compiled):
    return any(e.break_reason is None for e in md.inspect(compiled).entries)


# --- OrderedDict: compared by order with another OrderedDict, its own methods, its repr
def test_ordered_dicts_compare_by_order():
    def f(a, b):
        return a == b, a != b, a == dict(b), dict(b) == a

    od = collections.OrderedDict
    check(f, (od([(1, 1), (2, 2)]), od([(2, 2), (1, 1)])), (od([(1, 1), (2, 2)]), od([(1, 1), (2, 2)])),
          traced=True)


def test_ordered_dict_methods_and_repr():
    def f(d):
        d.move_to_end("a")
        d.move_to_end("c", last=False)
        first = d.popitem(last=False)
        d.setdefault("g", default=9)
        return first, repr(d), list(d.items()), d

    check(f, (collections.OrderedDict([("a", 1), ("b", 2), ("c", 3), ("d", 4)]),), traced=True)


def test_an_ordered_dict_made_inside_stays_one():
    def f(d):
        e = d.copy()
        e["z"] = 0
        e.move_to_end("z", last=False)
        return e, isinstance(e, collections.OrderedDict), e == d

    check(f, (collections.OrderedDict([("a", 1), ("b", 2)]),), traced=True)


def test_dict_setdefault_takes_no_keywords():
    def f(d):
        return d.setdefault("x", default=1)

    check(f, ({},))


# --- dict views are views: they see later changes, and compare as sets
def test_a_view_sees_later_changes():
    def f(d):
        k, v, i = d.keys(), d.values(), d.items()
        d["new"] = 5
        del d["a"]
        return list(k), list(v), list(i), len(k), "new" in k, 5 in v, ("new", 5) in i

    check(f, ({"a": 1, "b": 2},), traced=True)


def test_views_compare_like_sets():
    def f(d, e):
        return (d.keys() == {1, 2}, {1, 2} == d.keys(), d.keys() < e.keys(), e.keys() >= d.keys(),
                d.items() == {(1, 1), (2, 2)}, d.keys() == e.keys(), d.values() == d.values())

    check(f, ({1: 1, 2: 2}, {1: 1, 2: 2, 3: 3}), ({1: 1, 2: 2}, {1: 1}))


def test_view_set_operations():
    def f(d):
        return d.keys() | {2}, {2} | d.keys(), d.items() | {2}, d.keys() & {1, 5}, d.keys() - {1}

    check(f, ({1: 1},), ({3: 1, 1: 2},))


def test_a_values_view_is_equal_to_itself_only():
    def f(d):
        v = d.values()
        return v == v, v == d.values(), v != v

    check(f, ({1: 2},))


# --- iterators: consumed exactly as far as CPython consumes them
def test_zip_leaves_a_shared_iterator_where_cpython_does():
    def f(x, y):
        it = iter(x)
        pairs = list(zip(it, y))
        return pairs, next(it, "end"), list(it)

    def g(x, y):
        it = iter(x)
        pairs = list(zip(y, it))  # y runs out first: `it` is not advanced again
        return pairs, next(it, "end")

    check(f, ([1, 2, 3, 4, 5], [10, 20]), ([1], [10, 20]), traced=True)
    check(g, ([1, 2, 3, 4, 5], [10, 20]), ([1], [10, 20]), traced=True)


def test_zip_strict():
    def f(x, y):
        return list(zip(x, y, strict=True))

    check(f, ([1, 2], [3, 4]), ([1, 2], [3]), ([1], [3, 4]))


def test_map_filter_enumerate_are_lazy():
    def f(xs):
        log = []

        def g(v):
            log.append(v)
            return v * 2

        m = map(g, xs)
        first = next(m)
        seen = list(log)
        rest = list(filter(lambda v: v > 2, m))
        e = enumerate(iter(xs), 5)
        next(e)
        return first, seen, rest, log, list(e)

    check(f, ([1, 2, 3],), ([],), traced=False)


def test_any_and_all_stop_at_the_first_answer():
    def f(xs):
        it = iter(xs)
        return any(v > 1 for v in [0]) or any(map(bool, it)), list(it), all(iter([1, 0, 1]))

    def g(xs):
        it = iter(xs)
        return any(it), list(it)

    check(f, ([0, 1, 0, 2],))
    check(g, ([0, 3, 0, 2],), ([],), traced=True)


def test_a_list_grown_while_iterated_is_iterated_to_its_new_end():
    def f(lst):
        for v in lst:
            if len(lst) < 6:
                lst.append(v * 10)
        return lst

    def g(lst):
        out = []
        for v in reversed(lst):
            out.append(v)
            if len(lst) > 1:
                lst.pop()
        return out, lst

    check(f, ([1, 2],), traced=True)
    check(g, ([1, 2, 3, 4],), traced=True)


def test_a_dict_or_set_changing_size_while_iterated_raises():
    def f(d):
        for k in d:
            d[k + "x"] = 1
        return d

    def g():
        s = {1, 2, 3}
        for i in s:
            s.update([4])
        return s

    def h(d):
        for k in d:  # same keys: values may change
            d[k] = d[k] + 1
        return d

    check(f, ({"a": 1},))
    check(g, ())
    check(h, ({"a": 1, "b": 2},), traced=True)


def test_range_iteration_is_lazy():
    def f(n):
        it = iter(range(n))
        return next(it), next(it)

    check(f, (10**9,), traced=True)


# --- the operator module acts on the objects themselves
def test_operator_setitem_and_delitem_change_the_list():
    def f(a):
        operator.setitem(a, 0, 2)
        operator.delitem(a, 1)
        return a

    def g():
        a = list(range(3))
        operator.setitem(a, 0, 2)
        return a

    check(f, ([0, 1, 2],), traced=True)
    check(g, (), traced=True)
    check(f, ([],))


def test_operator_functions_keep_identity():
    def f(ll):
        inner = operator.getitem(ll, 0)
        same_inner = inner is ll[0]
        r = operator.iadd(ll, [5])
        return same_inner, r is ll, ll

    def g(a):
        b = a[:3] + a[3:]
        return operator.is_(a, a), operator.is_(a, b), operator.is_not(a, None)

    check(f, ([[1], 2],), traced=True)
    check(g, ("xyzpdq",))


def test_id_is_not_folded():
    def f():
        s = set(range(3))
        t = set(s)
        return id(s) != id(t), t is not s

    check(f, ())


# --- sets: CPython's order, its errors, new objects where CPython makes them
def test_set_order_follows_cpython():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]

    def f(ws, extra):
        s = set()
        for w in ws:
            s.add(w)
        s.discard("beta")
        s.add(extra)
        t = set(ws) - {"gamma"}
        return list(s), list(t), list(s | t), repr(s), s.pop()

    check(f, (words, "omega"), (words[:3], "x"), traced=True)


def test_set_literals_and_updates():
    def f(x):
        s = {"a", "b", "c", "d", "e"}
        s.discard(x)
        t = {*s, "z"}
        return sorted(s), sorted(t), len(t), x in s

    check(f, ("a",), ("q",))


def test_set_errors():
    def f(s_items, k):
        s = set(s_items)
        s.remove(k)
        return s

    check(f, ([1, 2], 1), ([1, 2], 3))


# --- user objects: their __hash__ and __eq__ run only when the program runs them
class Recorded:
    calls = []

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        Recorded.calls.append("hash")
        return hash(self.n)

    def __eq__(self, other):
        Recorded.calls.append("eq")
        return isinstance(other, Recorded) and other.n == self.n


def _calls(fn, *args):
    Recorded.calls.clear()
    r = fn(*args)
    return r, list(Recorded.calls)


def test_a_user_hash_in_a_set_or_dict_key_is_not_called_while_tracing():
    def f(o, p):
        s = {o}
        d = {o: 1}
        return len(s), p in s, d.get(p)

    compiled = md.compile(f, backend="eager")
    for _ in range(2):
        assert _calls(compiled, Recorded(1), Recorded(1)) == _calls(f, Recorded(1), Recorded(1))


def test_passing_a_user_object_does_not_hash_it():
    def f(o):
        return o

    compiled = md.compile(f, backend="eager")
    assert _calls(compiled, Recorded(1))[1] == []


def test_in_a_list_with_user_objects_falls_back():
    def f(o, items):
        return o in items, items.count(o), items.index(o)

    check(f, (Recorded(1), [Recorded(2), Recorded(1)]))


# --- lists: sort, min/max and sorted keep the objects
def test_sort_min_max_sorted_keep_the_objects():
    def f(ll):
        a, b = ll[0], ll[1]
        s = sorted(ll)
        ll.sort(key=len, reverse=True)
        return s[0] is b, min(ll) is b, max(ll, key=len) is a, ll, ll[0] is a

    check(f, ([[3, 3], [1]],), traced=True)


def test_sort_sees_an_empty_list_from_its_key():
    def f(lst):
        seen = []
        lst.sort(key=lambda v: (seen.append(len(lst)), v)[1])
        return seen, lst

    check(f, ([3, 1, 2],))


def test_list_methods_raise_as_cpython_does():
    def f(lst, i):
        lst.insert(i, 9)
        lst[i:i] = (7, 8)
        lst[::2] = [0] * len(lst[::2])
        return lst, lst.index(9), lst.pop(i)

    check(f, ([1, 2, 3], 1), ([1, 2, 3], "a"), ([], 5))


# --- recursive and deeply nested containers: no RecursionError inside minidynamo
def test_a_list_that_contains_itself():
    def f():
        a = [1]
        a.append(a)
        return len(a), a[1] is a, repr(a)

    def g(od):
        od["x"] = od
        return repr(od), len(od)

    check(f, ())
    check(g, (collections.OrderedDict.fromkeys("abc"),))


def test_repr_of_a_deep_dict_raises_recursion_error_as_in_cpython():
    def f():
        d = {}
        for _ in range(sys.getrecursionlimit() + 100):
            d = {1: d}
        try:
            repr(d)
        except RecursionError:
            return "recursion"
        return "no error"

    check(f, ())


# --- results that must not be one object shared by every call
def test_a_container_made_by_an_operator_is_new_at_every_call():
    def f():
        return [1] + [2], {1} | {2}, {1: 1} | {2: 2}

    compiled = md.compile(f, backend="eager")
    a, b = compiled(), compiled()
    assert all(x is not y for x, y in zip(a, b))


class Plain:
    """An object compared by identity (object's __eq__)."""


def test_in_a_list_of_objects_compared_by_identity():
    a, b = Plain(), Plain()

    def f(x, y, items):
        return x in items, items.count(y), items.index(x), 5 in items, [x] == [y], (x, 1) in [(y, 1)]

    check(f, (a, b, [b, a]), (a, a, [b, a]), (a, b, [b, a]))


def test_repeated_keyword_arguments_raise():
    def g(**kw):
        return kw

    def f(a, b):
        return g(**a, **b)

    check(f, ({"x": 1}, {"y": 2}), ({"x": 1}, {"x": 2}))


def test_in_place_operators_change_the_object():
    def f(lst):
        lst *= 2
        return lst

    def g(lst):
        s = set(lst)
        t = s
        s |= {"x"}
        s -= {lst[0]}
        return sorted(t)

    def h(d):
        d |= {"k": 1}
        return d

    check(f, ([1, 2],))
    check(g, (["a", "b"],))
    check(h, ({"z": 0},))
