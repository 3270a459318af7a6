"""The one module that knows how CPython 3.11, 3.12 and 3.13 bytecode differ.

`normalize(code)` returns a list of `Inst` in one instruction set that the interpreter's
handlers understand:

* fused 3.13 ops are split (LOAD_FAST_LOAD_FAST -> LOAD_FAST, LOAD_FAST);
* RETURN_CONST becomes LOAD_CONST + RETURN_VALUE, LOAD_FAST_CHECK becomes LOAD_FAST;
* every unconditional jump is JUMP, every POP_JUMP_{FORWARD,BACKWARD}_IF_X is POP_JUMP_IF_X;
* the method form of LOAD_ATTR (3.12+) is LOAD_METHOD; LOAD_SUPER_ATTR stays (unsupported);
* KW_NAMES is folded into the CALL that follows it (`Inst.kw_names`); PRECALL, CACHE, NOP,
  RESUME and COPY_FREE_VARS disappear;
* CALL_INTRINSIC_1 becomes the opcode it stands for (UNARY_POSITIVE, LIST_TO_TUPLE);
* FOR_ITER's exhaustion target points past the loop's clean-up (END_FOR / POP_TOP);
* jump targets are instruction indices (`Inst.target`).

These rules are written once (`_rule`) and read by two decoders that must agree exactly: the
reference here, over `dis.get_instructions`, and the fast decoder that `normalize` uses
(bytecode_decode.py, a direct walk over co_code; tests/minidynamo/test_bytecode_compat.py).

Two facts about the call protocol remain, exposed as functions: where the NULL goes
(`NULL_BEFORE_CALLABLE`) and how to split the two slots below a call's arguments
(`split_callable`).
"""
import dis
import sys
import weakref
from collections import namedtuple

PY = sys.version_info[:2]
NULL_BEFORE_CALLABLE = PY < (3, 13)
END_FOR_POPS = 2 if PY == (3, 12) else 1

_DROP = {"CACHE", "PRECALL", "NOP", "EXTENDED_ARG", "RESUME", "COPY_FREE_VARS", "NOT_TAKEN"}
_JUMPS = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE", "JUMP",
          "JUMP_NO_INTERRUPT"}
_TARGETS = {"JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP", "FOR_ITER"}  # jumps that keep their name
_INTRINSICS = {"INTRINSIC_UNARY_POSITIVE": "UNARY_POSITIVE", "INTRINSIC_LIST_TO_TUPLE": "LIST_TO_TUPLE"}
_FUSED_SPLIT = {"LOAD_FAST_LOAD_FAST": ("LOAD_FAST", "LOAD_FAST"),
                "STORE_FAST_STORE_FAST": ("STORE_FAST", "STORE_FAST"),
                "STORE_FAST_LOAD_FAST": ("STORE_FAST", "LOAD_FAST")}

# what normalization does with an instruction (`_rule`): keep it as it is, drop it, fold it
# into the next CALL, split it, rename it, make it a jump, or rewrite its argument
(_N_GENERIC, _N_DROP, _N_KW, _N_FUSED, _N_LOAD_FAST, _N_RETURN_CONST, _N_JUMP, _N_LOAD_ATTR,
 _N_LOAD_GLOBAL, _N_BINARY_OP, _N_COMPARE, _N_INTRINSIC, _N_CALL, _N_CALL_KW) = range(14)
_BY_NAME = {"KW_NAMES": _N_KW, "RETURN_CONST": _N_RETURN_CONST, "LOAD_GLOBAL": _N_LOAD_GLOBAL,
            "BINARY_OP": _N_BINARY_OP, "COMPARE_OP": _N_COMPARE, "CALL_INTRINSIC_1": _N_INTRINSIC,
            "CALL": _N_CALL, "CALL_KW": _N_CALL_KW}


def _rule(name):
    """(kind, normalized name) of the instructions named name (the module docstring's rules)."""
    if name in _DROP:
        return _N_DROP, name
    if name in _FUSED_SPLIT:
        return _N_FUSED, name
    if name == "LOAD_FAST_CHECK":
        return _N_LOAD_FAST, "LOAD_FAST"
    if name in _JUMPS:
        return _N_JUMP, "JUMP"
    if name.startswith("POP_JUMP_") and "_IF_" in name:
        return _N_JUMP, "POP_JUMP_IF_" + name.split("_IF_")[1]
    if name in _TARGETS:
        return _N_JUMP, name
    if name == "LOAD_ATTR" and PY >= (3, 12):  # its method form (arg & 1) is LOAD_METHOD
        return _N_LOAD_ATTR, name
    return _BY_NAME.get(name, _N_GENERIC), name


_FIELDS = ("opname", "arg", "argval", "offset", "lineno", "target", "kw_names", "index")


class Inst(namedtuple("Inst", _FIELDS)):
    """One normalized instruction: opname, arg, argval, offset, lineno, target (a jump's
    instruction index), kw_names (a CALL's keyword names) and index (its position in the list).
    Immutable, and a tuple: the decoder makes many, with `_new(Inst, fields)` (no Python call)."""

    __slots__ = ()

    def __new__(cls, opname, arg=None, argval=None, offset=-1, lineno=None, target=None,
                kw_names=None, index=-1):
        return _new(cls, (opname, arg, argval, offset, lineno, target, kw_names, index))

    def __repr__(self):
        extra = f" -> {self.target}" if self.target is not None else ""
        return f"Inst({self.opname} {self.argval!r}{extra} @{self.offset})"


_new = tuple.__new__

_MEMO = {}  # id(code) -> (weakref to code, instructions); code objects are immutable


def normalize(code):
    """Normalized instructions of a code object (see the module docstring); computed once
    per code object (the list is shared: callers must not modify it)."""
    hit = _MEMO.get(id(code))
    if hit is not None and hit[0]() is code:
        return hit[1]
    out = _normalize(code)
    if len(_MEMO) > 4096:
        for k in [k for k, (ref, _) in _MEMO.items() if ref() is None] or list(_MEMO)[:1024]:
            del _MEMO[k]
    _MEMO[id(code)] = (weakref.ref(code), out)
    return out


def _normalize(code):
    """The fast decoder, or the dis-based reference for code it does not handle."""
    try:
        return _normalize_fast(code)
    except _NotFast:
        return _normalize_dis(code)


def _normalize_dis(code):
    """The reference: normalization over `dis.get_instructions` (slow: builds Instruction
    objects with positions and argrepr strings). The fast decoder must agree with it exactly
    (tests/minidynamo/test_bytecode_compat.py)."""
    out = []
    offset_to_first = {}
    pending_kw = None
    line = code.co_firstlineno
    for ins in dis.get_instructions(code):
        line = _lineno(ins, line)
        offset_to_first.setdefault(ins.offset, len(out))
        kind, name = _rule(ins.opname)
        if kind == _N_DROP:
            continue
        if kind == _N_KW:
            pending_kw = code.co_consts[ins.arg] if PY == (3, 11) else ins.argval
            continue
        for opname, arg, argval, target in _dis_parts(ins, kind, name):
            kw_names = (pending_kw or ()) if kind == _N_CALL else None
            out.append(Inst(opname, arg, argval, ins.offset, line, target, kw_names, len(out)))
        if kind == _N_CALL:
            pending_kw = None
    if any(inst.target is not None for inst in out):
        _resolve_targets(out, offset_to_first)
    return out


def _lineno(ins, last):
    pos = getattr(ins, "positions", None)
    if pos is not None and pos.lineno is not None:
        return pos.lineno
    ln = getattr(ins, "line_number", None)
    if ln is not None:
        return ln
    sl = ins.starts_line
    if isinstance(sl, int) and not isinstance(sl, bool):
        return sl
    return last


def _dis_parts(ins, kind, name):
    """The normalized instructions (opname, arg, argval, jump target) of dis's instruction ins,
    whose rule is (kind, name)."""
    arg, argval = ins.arg, ins.argval
    if kind == _N_FUSED:
        first, second = _FUSED_SPLIT[name]
        return (first, None, argval[0], None), (second, None, argval[1], None)
    if kind == _N_LOAD_FAST:
        return ((name, None, argval, None),)
    if kind == _N_RETURN_CONST:
        return ("LOAD_CONST", None, argval, None), ("RETURN_VALUE", None, None, None)
    if kind == _N_JUMP:
        return ((name, None, argval, argval),)
    if kind == _N_LOAD_ATTR and arg & 1:
        return (("LOAD_METHOD", None, argval, None),)
    if kind == _N_LOAD_GLOBAL:
        return ((name, arg & 1, argval, None),)  # arg: whether a NULL is pushed too
    if kind == _N_BINARY_OP:
        return ((name, arg, dis._nb_ops[arg][1], None),)
    if kind == _N_COMPARE:
        if isinstance(argval, str) and argval.startswith("bool("):  # 3.13: COMPARE_OP with bool()
            argval = argval[5:-1]
        return ((name, None, argval, None),)
    if kind == _N_INTRINSIC:
        return ((_INTRINSICS.get(ins.argrepr, name), None, ins.argrepr, None),)
    if kind == _N_CALL or kind == _N_CALL_KW:
        return ((name, arg, arg, None),)
    return ((name, arg, argval, None),)


def _resolve_targets(out, offset_to_first=None):
    """Jump targets (offsets) -> instruction indices; FOR_ITER's past END_FOR (3.12+). Without
    offset_to_first, it is made from the kept instructions (a target that was dropped then
    resolves to the next kept instruction, as it does with the full map)."""
    if offset_to_first is None:
        offset_to_first = {}
        for inst in out:
            offset_to_first.setdefault(inst.offset, inst.index)
    for k, inst in enumerate(out):
        if inst.target is None:
            continue
        tgt = offset_to_first.get(inst.target)
        if tgt is None:  # the target was a dropped instruction: take the next kept one
            nxt = sorted(o for o in offset_to_first if o > inst.target)
            tgt = offset_to_first[nxt[0]] if nxt else len(out)
        if inst.opname == "FOR_ITER" and PY >= (3, 12):
            while tgt < len(out) and out[tgt].opname == "END_FOR":
                tgt += 1
                if PY >= (3, 13) and tgt < len(out) and out[tgt].opname == "POP_TOP":
                    tgt += 1
        out[k] = inst._replace(target=tgt)
    return out


_IS_NULL = [None]


def split_callable(below, top):
    """The two stack slots under a call's arguments -> (callable, self_or_None-marker).

    3.11/3.12 push [NULL, callable] or [method, self]; 3.13 pushes [callable, NULL] or
    [callable, self]. Returns (callable, self_value) where self_value is None when the slot
    held NULL. `below` and `top` are interpreter values; NULL is recognised by `is_null`.
    """
    is_null = _IS_NULL[0]
    if is_null is None:  # imported on first use (variables imports this module)
        from .variables.base import is_null
        _IS_NULL[0] = is_null
    if NULL_BEFORE_CALLABLE:
        if is_null(below):
            return top, None
        return below, top
    if is_null(top):
        return below, None
    return below, top


def code_signature_names(code):
    """Positional names, *args name, keyword-only names, **kwargs name of a code object."""
    n = code.co_argcount
    k = code.co_kwonlyargcount
    names = list(code.co_varnames[: n + k])
    i = n + k
    varargs = varkw = None
    if code.co_flags & 0x04:
        varargs = code.co_varnames[i]
        i += 1
    if code.co_flags & 0x08:
        varkw = code.co_varnames[i]
    return names[:n], varargs, names[n:], varkw


def exception_table(code):
    """The code's exception-table entries (start, end, target offsets; depth; lasti)."""
    return dis._parse_exception_table(code)


def exception_regions(code, offset):
    """How many exception-table entries (try, with, cleanup handlers) protect offset."""
    return sum(1 for e in exception_table(code) if e.start <= offset < e.end)


# last: the fast decoder applies this module's rules, so it is imported once they are defined
from .bytecode_decode import NotFast as _NotFast, decode as _normalize_fast  # noqa: E402
