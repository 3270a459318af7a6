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

Two facts about the call protocol remain, exposed as functions: where the NULL goes
(`NULL_BEFORE_CALLABLE`) and how to split the two slots below a call's arguments
(`split_callable`).
"""
import dis
import sys
import weakref
from collections import namedtuple
from itertools import chain as _chain

PY = sys.version_info[:2]
NULL_BEFORE_CALLABLE = PY < (3, 13)
END_FOR_POPS = 2 if PY == (3, 12) else 1

_DROP = {"CACHE", "PRECALL", "NOP", "EXTENDED_ARG", "RESUME", "COPY_FREE_VARS", "NOT_TAKEN"}
_JUMPS = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE", "JUMP",
          "JUMP_NO_INTERRUPT"}
_INTRINSICS = {"INTRINSIC_UNARY_POSITIVE": "UNARY_POSITIVE", "INTRINSIC_LIST_TO_TUPLE": "LIST_TO_TUPLE"}


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
    last_line = code.co_firstlineno
    raw = list(dis.get_instructions(code))
    for ins in raw:
        op = ins.opname
        line = _lineno(ins, last_line)
        last_line = line
        first_index = len(out)
        offset_to_first.setdefault(ins.offset, first_index)

        def emit(name, arg=None, argval=None, target=None, kw_names=None):
            i = Inst(name, arg, argval, ins.offset, line, target, kw_names, len(out))
            out.append(i)
            return i

        if op in _DROP:
            continue
        if op == "KW_NAMES":
            pending_kw = code.co_consts[ins.arg] if PY == (3, 11) else ins.argval
            continue
        if op in ("LOAD_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST"):
            a, b = ins.argval
            first, second = op.split("_FAST_")[0] + "_FAST", op.split("_FAST_")[1]
            emit(first, argval=a)
            emit(second if second.endswith("FAST") else second + "_FAST", argval=b)
            continue
        if op == "LOAD_FAST_CHECK":
            emit("LOAD_FAST", argval=ins.argval)
            continue
        if op == "RETURN_CONST":
            emit("LOAD_CONST", argval=ins.argval)
            emit("RETURN_VALUE")
            continue
        if op in _JUMPS:
            emit("JUMP", argval=ins.argval, target=ins.argval)
            continue
        if op.startswith("POP_JUMP_") and "_IF_" in op:
            cond = op.split("_IF_")[1]
            emit("POP_JUMP_IF_" + cond, argval=ins.argval, target=ins.argval)
            continue
        if op in ("JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP"):
            emit(op, argval=ins.argval, target=ins.argval)
            continue
        if op == "FOR_ITER":
            emit("FOR_ITER", argval=ins.argval, target=ins.argval)
            continue
        if op == "LOAD_ATTR" and PY >= (3, 12) and ins.arg & 1:
            emit("LOAD_METHOD", argval=ins.argval)
            continue
        if op == "LOAD_GLOBAL":
            emit("LOAD_GLOBAL", arg=ins.arg & 1, argval=ins.argval)
            continue
        if op == "BINARY_OP":
            emit("BINARY_OP", arg=ins.arg, argval=dis._nb_ops[ins.arg][1])
            continue
        if op == "COMPARE_OP":
            v = ins.argval
            if isinstance(v, str) and v.startswith("bool("):
                v = v[5:-1]
            emit("COMPARE_OP", argval=v)
            continue
        if op == "CALL_INTRINSIC_1":
            name = ins.argrepr
            emit(_INTRINSICS.get(name, "CALL_INTRINSIC_1"), argval=name)
            continue
        if op == "CALL":
            emit("CALL", arg=ins.arg, argval=ins.arg, kw_names=pending_kw or ())
            pending_kw = None
            continue
        if op == "CALL_KW":
            emit("CALL_KW", arg=ins.arg, argval=ins.arg)
            continue
        emit(op, arg=ins.arg, argval=ins.argval)

    if any(inst.target is not None for inst in out):
        _resolve_targets(out, offset_to_first)
    return out


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


# ---------------------------------------------------------------------- the fast decoder
# A direct walk over `code.co_code` producing exactly what `_normalize_dis` produces (checked
# over a large corpus by tests/minidynamo/test_bytecode_compat.py on every version), without
# dis's Instruction objects, positions, labels and argrepr strings.

import opcode as _opcode  # noqa: E402


class _NotFast(Exception):
    """The fast decoder met something it does not model: use the dis reference."""


def _cache_counts():
    ice = _opcode._inline_cache_entries
    out = [0] * 256
    for op in range(256):
        name = _opcode.opname[op]
        if isinstance(ice, dict):  # 3.13: keyed by name
            out[op] = ice.get(name, 0)
        elif op < len(ice):
            out[op] = ice[op]
    return out


# argument kinds (how dis computes argval)
(_A_NONE, _A_RAW, _A_CONST, _A_NAME, _A_NAME1, _A_NAME2, _A_JREL, _A_JBACK, _A_JABS, _A_LOCAL,
 _A_CMP, _A_FORMAT, _A_CONVERT, _A_FUSED) = range(14)
# normalization kinds (what `_normalize_dis` does with the instruction)
(_N_GENERIC, _N_DROP, _N_KW, _N_FUSED, _N_LOAD_FAST, _N_RETURN_CONST, _N_JUMP, _N_POP_JUMP,
 _N_TARGET, _N_LOAD_ATTR, _N_LOAD_GLOBAL, _N_BINARY_OP, _N_COMPARE, _N_INTRINSIC, _N_CALL,
 _N_CALL_KW, _N_BAD) = range(17)
_FUSED = ("LOAD_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST")


def _tables():
    names = _opcode.opname
    hasarg = set(getattr(_opcode, "hasarg", range(_opcode.HAVE_ARGUMENT, 256)))
    ext = _opcode.opmap["EXTENDED_ARG"]
    akind = [_A_NONE] * 256
    nkind = [_N_GENERIC] * 256
    newname = list(names)
    for op in range(256):
        name = names[op]
        if name.startswith("<") or name.startswith("INSTRUMENTED_") or name == "ENTER_EXECUTOR":
            nkind[op] = _N_BAD  # not in co_code (or unknown): let dis handle it
            continue
        if op in hasarg:
            a = _A_RAW
            if op in _opcode.hasconst:
                a = _A_CONST
            elif op in _opcode.hasname:
                if name == "LOAD_GLOBAL" or (name == "LOAD_ATTR" and PY >= (3, 12)):
                    a = _A_NAME1
                elif name == "LOAD_SUPER_ATTR":
                    a = _A_NAME2
                else:
                    a = _A_NAME
            elif op in _opcode.hasjabs:
                a = _A_JABS
            elif op in _opcode.hasjrel:
                back = ("JUMP_BACKWARD" in name if PY < (3, 13)
                        else name in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT"))
                a = _A_JBACK if back else _A_JREL
            elif name in _FUSED:
                a = _A_FUSED
            elif op in _opcode.haslocal or op in _opcode.hasfree:
                a = _A_LOCAL
            elif op in _opcode.hascompare:
                a = _A_CMP
            elif name == "FORMAT_VALUE":
                a = _A_FORMAT
            elif name == "CONVERT_VALUE":
                a = _A_CONVERT
            akind[op] = a
        if name in _DROP:
            n = _N_DROP
        elif name == "KW_NAMES":
            n = _N_KW
        elif name in _FUSED:
            n = _N_FUSED
        elif name == "LOAD_FAST_CHECK":
            n, newname[op] = _N_LOAD_FAST, "LOAD_FAST"
        elif name == "RETURN_CONST":
            n = _N_RETURN_CONST
        elif name in _JUMPS:
            n, newname[op] = _N_JUMP, "JUMP"
        elif name.startswith("POP_JUMP_") and "_IF_" in name:
            n, newname[op] = _N_POP_JUMP, "POP_JUMP_IF_" + name.split("_IF_")[1]
        elif name in ("JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP", "FOR_ITER"):
            n = _N_TARGET
        elif name == "LOAD_ATTR" and PY >= (3, 12):
            n = _N_LOAD_ATTR
        elif name == "LOAD_GLOBAL":
            n = _N_LOAD_GLOBAL
        elif name == "BINARY_OP":
            n = _N_BINARY_OP
        elif name == "COMPARE_OP":
            n = _N_COMPARE
        elif name == "CALL_INTRINSIC_1":
            n = _N_INTRINSIC
        elif name == "CALL":
            n = _N_CALL
        elif name == "CALL_KW":
            n = _N_CALL_KW
        else:
            n = _N_GENERIC
        if n in (_N_JUMP, _N_POP_JUMP, _N_TARGET) and akind[op] not in (_A_JREL, _A_JBACK, _A_JABS):
            n = _N_BAD
        nkind[op] = n
    return ext, akind, nkind, newname, hasarg


_EXT, _AKIND, _NKIND, _NEWNAME, _HASARG = _tables()
_HASARG = [op in _HASARG for op in range(256)]
# the fast decoder's first test: the kinds of most instructions, in one lookup
(_F_OTHER, _F_NOARG, _F_DROP, _F_LOCAL, _F_CONST, _F_NAME) = range(6)  # the argument kinds last: one test
_FAST = [_F_OTHER] * 256
for _op in range(256):
    if _op == _EXT:
        continue
    if _NKIND[_op] == _N_DROP:
        _FAST[_op] = _F_DROP
    elif _NKIND[_op] == _N_GENERIC:
        _FAST[_op] = ({_A_LOCAL: _F_LOCAL, _A_CONST: _F_CONST, _A_NAME: _F_NAME}.get(_AKIND[_op], _F_OTHER)
                      if _HASARG[_op] else _F_NOARG)
del _op
_CACHES = _cache_counts()
_STEP = [2 + 2 * c for c in _CACHES]  # bytes from an instruction to the next one
_JUMP_CACHES = PY >= (3, 12)  # dis adds the jump's inline caches to relative targets from 3.12
_CMP_SHIFT = {(3, 11): 0, (3, 12): 4}.get(PY, 5)
_NB_SYMBOL = [sym for _, sym in dis._nb_ops]
_INTRINSIC_1 = list(getattr(dis, "_intrinsic_1_descs", ()))
_CONVERTERS = (None, str, repr, ascii)


def _normalize_fast(code):
    co = code.co_code
    if len(co) % 2:
        raise _NotFast
    consts = code.co_consts
    names = code.co_names
    varname = code._varname_from_oparg
    cmp_op = dis.cmp_op
    akind, nkind, newname, hasarg, step, fast = _AKIND, _NKIND, _NEWNAME, _HASARG, _STEP, _FAST
    out = []
    append = out.append
    new = _new
    jumps = False
    pending_kw = None
    # line numbers: each instruction takes the line of the co_lines() range it starts in (a
    # range without a line keeps the line before it); the last range runs to the end
    line = code.co_firstlineno
    ext = 0
    i = 0
    n = len(co)
    for _, end, r_line in _chain(code.co_lines(), ((n, n, None),)):
        if i >= end:
            continue
        if r_line is not None:
            line = r_line
        while i < end:
            op = co[i]
            offset = i
            i += step[op]
            f = fast[op]
            # the most frequent kinds first: a local, a constant or a name; dropped; no argument
            if f >= _F_LOCAL:
                arg = co[offset + 1] | ext
                ext = 0
                argval = varname(arg) if f == _F_LOCAL else consts[arg] if f == _F_CONST else names[arg]
                append(new(Inst, (newname[op], arg, argval, offset, line, None, None, len(out))))
                continue
            if f == _F_DROP:
                ext = 0
                continue
            if f == _F_NOARG:
                ext = 0
                append(new(Inst, (newname[op], None, None, offset, line, None, None, len(out))))
                continue
            if hasarg[op]:
                arg = co[offset + 1] | ext
                if op == _EXT:
                    ext = arg << 8
                    continue
                ext = 0
            else:
                arg = None
                ext = 0
            k = nkind[op]
            if k == _N_GENERIC:
                a = akind[op]
                if a <= _A_RAW:
                    argval = arg
                else:
                    argval = _argval(a, arg, offset, op, code)
                append(new(Inst, (newname[op], arg, argval, offset, line, None, None, len(out))))
            elif k == _N_LOAD_ATTR:
                if arg & 1:
                    append(new(Inst, ("LOAD_METHOD", None, names[arg >> 1], offset, line, None, None, len(out))))
                else:
                    append(new(Inst, ("LOAD_ATTR", arg, names[arg >> 1], offset, line, None, None, len(out))))
            elif k == _N_LOAD_GLOBAL:
                append(new(Inst, ("LOAD_GLOBAL", arg & 1, names[arg >> 1], offset, line, None, None, len(out))))
            elif k == _N_BINARY_OP:
                append(new(Inst, ("BINARY_OP", arg, _NB_SYMBOL[arg], offset, line, None, None, len(out))))
            elif k == _N_CALL:
                append(new(Inst, ("CALL", arg, arg, offset, line, None, pending_kw or (), len(out))))
                pending_kw = None
            elif k == _N_JUMP or k == _N_POP_JUMP or k == _N_TARGET:
                t = _argval(akind[op], arg, offset, op, code)
                append(new(Inst, (newname[op], None, t, offset, line, t, None, len(out))))
                jumps = True
            elif k == _N_FUSED:
                first, second = _FUSED_SPLIT[newname[op]]
                append(new(Inst, (first, None, varname(arg >> 4), offset, line, None, None, len(out))))
                append(new(Inst, (second, None, varname(arg & 15), offset, line, None, None, len(out))))
            elif k == _N_LOAD_FAST:
                append(new(Inst, ("LOAD_FAST", None, varname(arg), offset, line, None, None, len(out))))
            elif k == _N_RETURN_CONST:
                append(new(Inst, ("LOAD_CONST", None, consts[arg], offset, line, None, None, len(out))))
                append(new(Inst, ("RETURN_VALUE", None, None, offset, line, None, None, len(out))))
            elif k == _N_KW:
                pending_kw = consts[arg]
            elif k == _N_COMPARE:
                append(new(Inst, ("COMPARE_OP", None, cmp_op[arg >> _CMP_SHIFT], offset, line, None, None,
                                  len(out))))
            elif k == _N_INTRINSIC:
                name = _INTRINSIC_1[arg]
                append(new(Inst, (_INTRINSICS.get(name, "CALL_INTRINSIC_1"), None, name, offset, line,
                                  None, None, len(out))))
            elif k == _N_CALL_KW:
                append(new(Inst, ("CALL_KW", arg, arg, offset, line, None, None, len(out))))
            else:
                raise _NotFast
    if ext:
        raise _NotFast
    if jumps:
        _resolve_targets(out)
    return out


_FUSED_SPLIT = {"LOAD_FAST_LOAD_FAST": ("LOAD_FAST", "LOAD_FAST"),
                "STORE_FAST_STORE_FAST": ("STORE_FAST", "STORE_FAST"),
                "STORE_FAST_LOAD_FAST": ("STORE_FAST", "LOAD_FAST")}


def _argval(a, arg, offset, op, code):
    """dis's argval for the less common argument kinds."""
    if a == _A_JREL or a == _A_JBACK:
        t = offset + 2 + (-arg if a == _A_JBACK else arg) * 2
        if _JUMP_CACHES:
            t += 2 * _CACHES[op]
        return t
    if a == _A_JABS:
        return arg * 2
    if a == _A_NAME1:
        return code.co_names[arg >> 1]
    if a == _A_NAME2:
        return code.co_names[arg >> 2]
    if a == _A_CMP:
        return dis.cmp_op[arg >> _CMP_SHIFT]
    if a == _A_FORMAT:
        return (_CONVERTERS[arg & 3], bool(arg & 4))
    if a == _A_CONVERT:
        return _CONVERTERS[arg]
    if a == _A_FUSED:
        return (code._varname_from_oparg(arg >> 4), code._varname_from_oparg(arg & 15))
    if a == _A_CONST:
        return code.co_consts[arg]
    if a == _A_NAME:
        return code.co_names[arg]
    if a == _A_LOCAL:
        return code._varname_from_oparg(arg)
    return arg



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
    import dis as _dis
    return _dis._parse_exception_table(code)


def exception_regions(code, offset):
    """How many exception-table entries (try, with, cleanup handlers) protect offset."""
    return sum(1 for e in exception_table(code) if e.start <= offset < e.end)
