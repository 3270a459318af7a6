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

PY = sys.version_info[:2]
NULL_BEFORE_CALLABLE = PY < (3, 13)
END_FOR_POPS = 2 if PY == (3, 12) else 1

_DROP = {"CACHE", "PRECALL", "NOP", "EXTENDED_ARG", "RESUME", "COPY_FREE_VARS", "NOT_TAKEN"}
_JUMPS = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE", "JUMP",
          "JUMP_NO_INTERRUPT"}
_INTRINSICS = {"INTRINSIC_UNARY_POSITIVE": "UNARY_POSITIVE", "INTRINSIC_LIST_TO_TUPLE": "LIST_TO_TUPLE"}


class Inst:
    """One normalized instruction."""

    __slots__ = ("opname", "arg", "argval", "offset", "lineno", "target", "kw_names", "index",
                 "positions")

    def __init__(self, opname, arg=None, argval=None, offset=-1, lineno=None, target=None,
                 positions=None):
        self.opname = opname
        self.arg = arg
        self.argval = argval
        self.offset = offset
        self.lineno = lineno
        self.target = target  # an offset while building, an index afterwards
        self.kw_names = None
        self.index = -1
        self.positions = positions

    def __repr__(self):
        extra = f" -> {self.target}" if self.target is not None else ""
        return f"Inst({self.opname} {self.argval!r}{extra} @{self.offset})"


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

        def emit(name, arg=None, argval=None, target=None):
            i = Inst(name, arg, argval, ins.offset, line, target, ins.positions)
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
            i = emit("CALL", arg=ins.arg, argval=ins.arg)
            i.kw_names = pending_kw or ()
            pending_kw = None
            continue
        if op == "CALL_KW":
            emit("CALL_KW", arg=ins.arg, argval=ins.arg)
            continue
        emit(op, arg=ins.arg, argval=ins.argval)

    # resolve jump targets (offsets) to indices
    offsets = sorted(offset_to_first)
    for idx, inst in enumerate(out):
        inst.index = idx
    for inst in out:
        if inst.target is None:
            continue
        tgt = offset_to_first.get(inst.target)
        if tgt is None:  # the target was a dropped instruction: take the next kept one
            nxt = [o for o in offsets if o > inst.target]
            tgt = offset_to_first[nxt[0]] if nxt else len(out)
        if inst.opname == "FOR_ITER" and PY >= (3, 12):
            while tgt < len(out) and out[tgt].opname == "END_FOR":
                tgt += 1
                if PY >= (3, 13) and tgt < len(out) and out[tgt].opname == "POP_TOP":
                    tgt += 1
        inst.target = tgt
    return out


def split_callable(below, top):
    """The two stack slots under a call's arguments -> (callable, self_or_None-marker).

    3.11/3.12 push [NULL, callable] or [method, self]; 3.13 pushes [callable, NULL] or
    [callable, self]. Returns (callable, self_value) where self_value is None when the slot
    held NULL. `below` and `top` are interpreter values; NULL is recognised by `is_null`.
    """
    from .variables.base import is_null

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
