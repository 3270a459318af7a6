"""The fast decoder behind `bytecode_compat.normalize`: a direct walk over `code.co_code`.

It produces exactly what the dis-based reference (`bytecode_compat._normalize_dis`) produces,
checked over a large corpus on every supported Python (tests/minidynamo/test_bytecode_compat.py),
without dis's Instruction objects, positions, labels and argrepr strings, which cost several
times more than the rest of decoding. It applies bytecode_compat's normalization rules
(`_rule`); what it knows itself is how dis computes an instruction's argument from its raw bytes
in this Python version. Code it does not model raises NotFast, and normalize uses the reference.
"""
import dis
import opcode
from itertools import chain

from .bytecode_compat import (_FUSED_SPLIT, _INTRINSICS, _N_BINARY_OP, _N_CALL, _N_CALL_KW,
                              _N_COMPARE, _N_DROP, _N_FUSED, _N_GENERIC, _N_INTRINSIC, _N_JUMP,
                              _N_KW, _N_LOAD_ATTR, _N_LOAD_FAST, _N_LOAD_GLOBAL, _N_RETURN_CONST,
                              PY, Inst, _new, _resolve_targets, _rule)


class NotFast(Exception):
    """The fast decoder met something it does not model: use the dis reference."""


# argument kinds: how dis computes an instruction's argval from its argument
(_A_NONE, _A_RAW, _A_CONST, _A_NAME, _A_NAME1, _A_NAME2, _A_JREL, _A_JBACK, _A_JABS, _A_LOCAL,
 _A_CMP, _A_FORMAT, _A_CONVERT, _A_FUSED) = range(14)
_BAD = -1  # a normalization kind of the decoder's own: an opcode it leaves to dis


def _cache_counts():
    """Inline cache entries after each opcode."""
    ice = opcode._inline_cache_entries
    out = [0] * 256
    for op in range(256):
        if isinstance(ice, dict):  # 3.13: keyed by name
            out[op] = ice.get(opcode.opname[op], 0)
        elif op < len(ice):
            out[op] = ice[op]
    return out


def _arg_kind(op, name):
    """How dis computes the argval of opcode op (named name), which takes an argument."""
    if op in opcode.hasconst:
        return _A_CONST
    if op in opcode.hasname:
        if name == "LOAD_GLOBAL" or (name == "LOAD_ATTR" and PY >= (3, 12)):
            return _A_NAME1  # the name's index << 1, and a flag
        return _A_NAME2 if name == "LOAD_SUPER_ATTR" else _A_NAME
    if op in opcode.hasjabs:
        return _A_JABS
    if op in opcode.hasjrel:
        back = ("JUMP_BACKWARD" in name if PY < (3, 13)
                else name in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT"))
        return _A_JBACK if back else _A_JREL
    if name in _FUSED_SPLIT:
        return _A_FUSED
    if op in opcode.haslocal or op in opcode.hasfree:
        return _A_LOCAL
    if op in opcode.hascompare:
        return _A_CMP
    if name == "FORMAT_VALUE":
        return _A_FORMAT
    if name == "CONVERT_VALUE":
        return _A_CONVERT
    return _A_RAW


def _tables():
    """Per opcode: its argument kind, its normalization kind and name, whether it takes an
    argument."""
    hasarg = set(getattr(opcode, "hasarg", range(opcode.HAVE_ARGUMENT, 256)))
    akind = [_A_NONE] * 256
    nkind = [_N_GENERIC] * 256
    newname = list(opcode.opname[:256])
    for op in range(256):
        name = opcode.opname[op]
        if name.startswith("<") or name.startswith("INSTRUMENTED_") or name == "ENTER_EXECUTOR":
            nkind[op] = _BAD  # not in co_code (or unknown): let dis handle it
            continue
        if op in hasarg:
            akind[op] = _arg_kind(op, name)
        nkind[op], newname[op] = _rule(name)
        if nkind[op] == _N_JUMP and akind[op] not in (_A_JREL, _A_JBACK, _A_JABS):
            nkind[op] = _BAD
    return akind, nkind, newname, [op in hasarg for op in range(256)]


_AKIND, _NKIND, _NEWNAME, _HASARG = _tables()
_EXT = opcode.opmap["EXTENDED_ARG"]
_CACHES = _cache_counts()
_STEP = [2 + 2 * c for c in _CACHES]  # bytes from an instruction to the next one
_JUMP_CACHES = PY >= (3, 12)  # dis adds the jump's inline caches to relative targets from 3.12
_CMP_SHIFT = {(3, 11): 0, (3, 12): 4}.get(PY, 5)
_NB_SYMBOL = [sym for _, sym in dis._nb_ops]
_INTRINSIC_1 = list(getattr(dis, "_intrinsic_1_descs", ()))
_CONVERTERS = (None, str, repr, ascii)

# the hot loop's first test, one lookup per instruction: the kinds that need no more than it
# (a dropped instruction, one without an argument, one whose argument is a local, a constant or
# a name and which keeps its name), the argument kinds last so that one `>=` finds them
(_F_OTHER, _F_NOARG, _F_DROP, _F_LOCAL, _F_CONST, _F_NAME) = range(6)


def _fast_kinds():
    by_arg = {_A_LOCAL: _F_LOCAL, _A_CONST: _F_CONST, _A_NAME: _F_NAME}
    fast = [_F_OTHER] * 256
    for op in range(256):
        if op == _EXT:
            continue
        if _NKIND[op] == _N_DROP:
            fast[op] = _F_DROP
        elif _NKIND[op] == _N_GENERIC:
            fast[op] = by_arg.get(_AKIND[op], _F_OTHER) if _HASARG[op] else _F_NOARG
    return fast


_FAST = _fast_kinds()


def decode(code):
    """normalize's instructions for code, read from co_code; NotFast for what only dis reads."""
    co = code.co_code
    if len(co) % 2:
        raise NotFast
    consts, names, varname = code.co_consts, code.co_names, code._varname_from_oparg
    akind, nkind, newname, hasarg, step, fast = _AKIND, _NKIND, _NEWNAME, _HASARG, _STEP, _FAST
    out = []
    append = out.append
    new = _new
    jumps = False
    pending_kw = None
    ext = 0  # the argument bits of the EXTENDED_ARGs before the next instruction
    i, n = 0, len(co)
    # line numbers: each instruction takes the line of the co_lines() range it starts in (a
    # range without a line keeps the line before it); the last range runs to the end
    line = code.co_firstlineno
    for _, end, r_line in chain(code.co_lines(), ((n, n, None),)):
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
            ext_arg, ext = ext, 0
            if f == _F_DROP:
                continue
            if f == _F_NOARG:
                append(new(Inst, (newname[op], None, None, offset, line, None, None, len(out))))
                continue
            arg = co[offset + 1] | ext_arg if hasarg[op] else None
            k = nkind[op]
            if op == _EXT:  # the high bits of the next instruction's argument
                ext = arg << 8
            elif k == _N_GENERIC:
                a = akind[op]
                argval = arg if a <= _A_RAW else _argval(a, arg, offset, op, code)
                append(new(Inst, (newname[op], arg, argval, offset, line, None, None, len(out))))
            elif k == _N_CALL:
                append(new(Inst, ("CALL", arg, arg, offset, line, None, pending_kw or (), len(out))))
                pending_kw = None
            elif k == _N_KW:
                pending_kw = consts[arg]
            else:  # the less frequent kinds: a call each
                for opname, a, argval, target in _parts(k, op, arg, offset, code):
                    append(new(Inst, (opname, a, argval, offset, line, target, None, len(out))))
                jumps = jumps or k == _N_JUMP
    if ext:
        raise NotFast
    return _resolve_targets(out) if jumps else out


def _parts(k, op, arg, offset, code):
    """The normalized instructions (opname, arg, argval, jump target) of an instruction of
    normalization kind k other than GENERIC, CALL and KW_NAMES."""
    if k == _N_LOAD_ATTR:
        if arg & 1:
            return (("LOAD_METHOD", None, code.co_names[arg >> 1], None),)
        return (("LOAD_ATTR", arg, code.co_names[arg >> 1], None),)
    if k == _N_LOAD_GLOBAL:
        return (("LOAD_GLOBAL", arg & 1, code.co_names[arg >> 1], None),)
    if k == _N_BINARY_OP:
        return (("BINARY_OP", arg, _NB_SYMBOL[arg], None),)
    if k == _N_JUMP:
        target = _argval(_AKIND[op], arg, offset, op, code)
        return ((_NEWNAME[op], None, target, target),)
    if k == _N_FUSED:
        first, second = _FUSED_SPLIT[_NEWNAME[op]]
        varname = code._varname_from_oparg
        return (first, None, varname(arg >> 4), None), (second, None, varname(arg & 15), None)
    if k == _N_LOAD_FAST:
        return (("LOAD_FAST", None, code._varname_from_oparg(arg), None),)
    if k == _N_RETURN_CONST:
        return ("LOAD_CONST", None, code.co_consts[arg], None), ("RETURN_VALUE", None, None, None)
    if k == _N_COMPARE:
        return (("COMPARE_OP", None, dis.cmp_op[arg >> _CMP_SHIFT], None),)
    if k == _N_INTRINSIC:
        name = _INTRINSIC_1[arg]
        return ((_INTRINSICS.get(name, "CALL_INTRINSIC_1"), None, name, None),)
    if k == _N_CALL_KW:
        return (("CALL_KW", arg, arg, None),)
    raise NotFast


def _argval(a, arg, offset, op, code):
    """dis's argval for argument kind a (those the hot loop does not read itself)."""
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
