"""forward without compile(): a graph's plain code written straight to bytecode.

compile() parses the generated source, which costs more than everything else in building a
small graph's module. Plain straight-line code (python_code's `statements`: renames,
`name = expression;  dead = None`, one return) is written through an assembler instead; any
other form returns None and the source is compiled as before. The function runs exactly what
the source says, line for line (tracebacks show the source's lines), and a check mode compares
the two codes instruction by instruction.

fxlite knows which instructions a statement needs; which bytes those are in this Python
version is the assembler's business (`minidynamo.bytecode_compat.Assembler`, registered with
`use_assembler` when minidynamo is imported). Without one, everything is compiled.
"""
import builtins
import math
import operator
import os

from tensorlite._dtype import dtype as tl_dtype

from .codegen import _ARITHMETIC, _BINARY, _LITERAL_INT_BITS, _UNARY
from .node import Node

_ASSEMBLER = []  # the registered Assembler class (at most one)
_CHECK = []  # the registered checker: (assembled code, compiled code) -> None or raises
_CHECK_ON = [bool(os.environ.get("FXLITE_CHECK_ASSEMBLY"))]  # read once: os.environ is slow
_UNARY_OPS = {operator.neg: "UNARY_NEGATIVE", operator.invert: "UNARY_INVERT"}
_CONSTANT_TYPES = (type(None), bool, str, bytes)


def use_assembler(assembler, check=None):
    """Register the class that writes bytecode (and a function comparing its code with
    compile()'s, run when `FXLITE_CHECK_ASSEMBLY` is set or check_assembly(True) was called)."""
    _ASSEMBLER[:] = [assembler]
    _CHECK[:] = [check] if check is not None else []


def checking():
    """Whether assembled forwards are compared with compile()'s (check_assembly, or the
    FXLITE_CHECK_ASSEMBLY environment variable as it was when fxlite was imported, and a
    registered checker)."""
    return _CHECK_ON[0] and bool(_CHECK)


def check_assembly(on=True):
    """Compare every assembled forward with what compile() makes of its source (tests)."""
    _CHECK_ON[0] = on


def check(assembled, compiled):
    """Raise AssertionError when the assembled code does not do what the compiled module's
    function does."""
    fn_code = next(c for c in compiled.co_consts if hasattr(c, "co_code") and c.co_name == assembled.co_name)
    _CHECK[0](assembled, fn_code)


class _NotPlain(Exception):
    pass


def build_forward(pc, filename, globals_):
    """forward for PythonCode pc, assembled; None when it has a form not written here."""
    if pc.statements is None or not _ASSEMBLER:
        return None
    asm = _ASSEMBLER[0](pc.params)
    names = pc.names
    try:
        for line, kind, node, dead in pc.statements:
            if kind == "binary":  # the most common lines, each written in one call
                asm.binary_statement(line, *node, dead)
                continue
            if kind == "method":
                asm.method_statement(line, *node, dead)
                continue
            asm.at_line(line)
            if kind == "assign":
                _expr(asm, node, names)
                asm.assign(node.name, dead)
            elif kind == "rename":
                asm.load_fast(node.target)
                asm.store_fast(node.name)
            else:  # return
                if node is None:
                    asm.load_const(None)
                else:
                    _arg(asm, node.args[0], names)
                asm.return_value()
    except _NotPlain:
        return None
    return asm.function(filename, "forward", globals_)


def _expr(asm, node, names):
    """The instructions of codegen._expr's text for node (same cases, same order)."""
    op, t, args, kwargs = node.op, node.target, node._args, node._kwargs
    if op == "call_function":
        if t in _BINARY and len(args) == 2 and not kwargs:
            sym = _BINARY[t]
            if sym not in _ARITHMETIC:
                raise _NotPlain  # comparisons, `is`, `in`: other opcodes, rare in graphs
            _arg(asm, args[0], names)
            _arg(asm, args[1], names)
            asm.binary_op(sym)
        elif t in _UNARY and len(args) == 1 and not kwargs:
            if t not in _UNARY_OPS:
                raise _NotPlain
            _arg(asm, args[0], names)
            asm.unary(_UNARY_OPS[t])
        elif t is operator.getitem and len(args) == 2 and not kwargs:
            _arg(asm, args[0], names)
            _arg(asm, args[1], names)
            asm.binary_subscr()
        elif t is builtins.getattr and len(args) == 2 and isinstance(args[1], str) and args[1].isidentifier():
            _arg(asm, args[0], names)
            asm.load_attr(args[1])
        else:
            _call(asm, _dotted(names.name_for(t)), args, kwargs, names)
    elif op == "call_method":
        _arg(asm, args[0], names)
        asm.load_method(t)
        _call_args(asm, args[1:], kwargs, names)
    elif op == "call_module":
        _call(asm, ["self"] + _dotted(t), args, kwargs, names)
    elif op == "get_attr":
        _load_path(asm, ["self"] + _dotted(t))
    else:
        raise _NotPlain


def _dotted(name):
    parts = name.split(".")
    if not all(p.isidentifier() for p in parts):
        raise _NotPlain
    return parts


def _load_path(asm, parts):
    """self.a.b (a local) or tl.sin (a global), as a value."""
    if parts[0] == "self":
        asm.load_fast("self")
    else:
        asm.load_global(parts[0])
    for p in parts[1:]:
        asm.load_attr(p)


def _call(asm, parts, args, kwargs, names):
    if len(parts) == 1:
        asm.load_global(parts[0], push_null=True)
    else:
        _load_path(asm, parts[:-1])
        asm.load_method(parts[-1])
    _call_args(asm, args, kwargs, names)


def _call_args(asm, args, kwargs, names):
    for a in args:
        _arg(asm, a, names)
    for k, v in kwargs.items():
        if not k.isidentifier():
            raise _NotPlain
        _arg(asm, v, names)
    asm.call(len(args) + len(kwargs), tuple(kwargs))


def _arg(asm, a, names):
    """The instructions of codegen._repr_arg's text for a."""
    t = type(a)
    if t is Node:
        asm.load_fast(a.name)
    elif t is tuple:
        if _constant(a):  # compile() folds a tuple of constants into one constant
            asm.load_const(a)
            return
        if len(a) > 30:  # compile() builds long tuples through a list
            raise _NotPlain
        for x in a:
            _arg(asm, x, names)
        asm.build_tuple(len(a))
    elif _constant(a):
        asm.load_const(a)
    elif t is tl_dtype:
        _load_path(asm, ["tl", a.name])
    elif callable(a):  # codegen names it (a function, a class): a global, maybe dotted
        _load_path(asm, _dotted(names.name_for(a)))
    else:
        raise _NotPlain


def _constant(a):
    """Whether codegen writes a as a literal (codegen.literal: exact types only, finite
    floats, ints that print under any digit limit), so that compile() makes it a constant."""
    t = type(a)
    if t is tuple:
        return all(_constant(x) for x in a)
    if t is int:
        return a.bit_length() <= _LITERAL_INT_BITS
    return t in _CONSTANT_TYPES or (t is float and math.isfinite(a))
