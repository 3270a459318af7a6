"""Resume functions: continue a function's original bytecode at an instruction, with the
stack values and live locals passed as arguments.

    resume(___stack0, ..., ___stackN, *live_locals):
        <original prologue: COPY_FREE_VARS, MAKE_CELL, RESUME>
        LOAD_FAST ___stack0 ... (PUSH_NULL where the stack held NULL)
        JUMP <the instruction to resume at>
        <the whole original body>

Built with the `bytecode` package; cached per (code, resume offset, stack layout, locals).
"""
import dis
import types

from bytecode import Bytecode, Instr, Label

from . import bytecode_compat as bc

_CACHE = {}

_PROLOGUE_OPS = {"RESUME", "COPY_FREE_VARS", "MAKE_CELL", "NOP"}


def live_locals(insts, start, varnames, code=None):
    """Locals that may be read before being written on some path from instruction `start`.

    With code, an exception handler is a successor of every instruction it protects: a local
    read only in an `except` block (after a `raise` in the `try`) is live too.
    """
    n = len(insts)
    live_in = [set() for _ in range(n + 1)]
    changed = True
    succ_cache = {}
    handlers = _handler_indices(insts, code) if code is not None else {}

    def succs(i):
        if i in succ_cache:
            return succ_cache[i]
        inst = insts[i]
        out = []
        op = inst.opname
        if op in ("RETURN_VALUE", "RAISE_VARARGS", "RERAISE"):
            out = []
        elif op == "JUMP":
            out = [inst.target]
        elif inst.target is not None:
            out = [i + 1, inst.target]
        else:
            out = [i + 1]
        out += handlers.get(i, ())
        succ_cache[i] = [s for s in out if s <= n]
        return succ_cache[i]

    while changed:
        changed = False
        for i in range(n - 1, -1, -1):
            inst = insts[i]
            out = set()
            for s in succs(i):
                out |= live_in[s]
            op = inst.opname
            if op in ("STORE_FAST", "DELETE_FAST"):
                out.discard(inst.argval)
            elif op in ("LOAD_FAST", "LOAD_FAST_AND_CLEAR", "LOAD_DEREF", "LOAD_CLOSURE", "MAKE_CELL"):
                out.add(inst.argval)
            if out != live_in[i]:
                live_in[i] = out
                changed = True
    return [v for v in varnames if v in live_in[start]]


def _handler_indices(insts, code):
    """instruction index -> indices of the exception handlers protecting it."""
    first = {}
    for inst in insts:
        first.setdefault(inst.offset, inst.index)
    offsets = sorted(first)
    out = {}
    for entry in bc.exception_table(code):
        later = [o for o in offsets if o >= entry.target]
        if not later:
            continue
        target = first[later[0]]
        for inst in insts:
            if entry.start <= inst.offset < entry.end:
                out.setdefault(inst.index, []).append(target)
    return out


def _raw_instructions(code):
    return [i for i in dis.get_instructions(code) if i.opname not in ("EXTENDED_ARG", "CACHE")]


def resume_code(code, resume_offset, stack_layout, argnames):
    """A code object that continues `code` at the instruction at resume_offset.

    stack_layout: one entry per stack slot, True for a value passed as argument, False for NULL.
    argnames: the live locals, passed after the stack values.
    """
    key = (code, resume_offset, tuple(stack_layout), tuple(argnames))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    bcode = Bytecode.from_code(code)
    raw = _raw_instructions(code)
    instrs = [x for x in bcode if isinstance(x, Instr)]
    if len(raw) != len(instrs):
        raise RuntimeError("cannot map bytecode instructions for a resume function")
    by_offset = {r.offset: ins for r, ins in zip(raw, instrs)}
    target = by_offset[resume_offset]
    label = Label()
    body = list(bcode)
    body.insert(body.index(target), label)

    # the original prologue stays first
    cut = 0
    for i, x in enumerate(body):
        if isinstance(x, Instr) and x.name not in _PROLOGUE_OPS:
            break
        cut = i + 1
    stack_args = [f"___stack{i}" for i, v in enumerate(stack_layout) if v]
    lineno = target.lineno if target.lineno is not None else code.co_firstlineno
    pro = []
    j = 0
    for present in stack_layout:
        if present:
            pro.append(Instr("LOAD_FAST", stack_args[j], lineno=lineno))
            j += 1
        else:
            pro.append(Instr("PUSH_NULL", lineno=lineno))
    pro.append(Instr("JUMP_FORWARD", label, lineno=lineno))
    args = stack_args + list(argnames)
    new_body = body[:cut] + pro + _checked_loads(body[cut:], set(args))

    out = Bytecode(new_body)
    out.first_lineno = bcode.first_lineno
    out.name = bcode.name
    out.qualname = f"{getattr(code, 'co_qualname', code.co_name)}.<resume at {lineno}>" if bc.PY >= (3, 11) else code.co_name
    out.filename = bcode.filename
    out.docstring = None
    out.argcount = len(args)
    out.posonlyargcount = 0
    out.kwonlyargcount = 0
    out.argnames = args
    out.cellvars = list(bcode.cellvars)
    out.freevars = list(bcode.freevars)
    out.flags = bcode.flags & ~(0x04 | 0x08)  # no *args / **kwargs: everything is positional now
    try:
        new_code = out.to_code()
    except Exception as e:  # the bytecode package cannot assemble it: run the frame eagerly
        from .exc import Unsupported
        raise Unsupported(f"cannot build a resume function at offset {resume_offset}: {e}") from None
    _CACHE[key] = new_code
    return new_code


def _checked_loads(body, params):
    """The body's local loads and stores as a resume function needs them (3.12+).

    The compiler emits unchecked loads (LOAD_FAST, and on 3.13 the fused forms) for locals it
    proved bound on every path from the function's start. A resume function starts elsewhere,
    where a local may be unbound (a live local that was unbound at the break): every load of a
    local that is not one of its parameters checks, as 3.11's LOAD_FAST always does, and
    raises UnboundLocalError instead of reading NULL."""
    if bc.PY < (3, 12):
        return body

    def load(name, like):
        return Instr("LOAD_FAST" if name in params else "LOAD_FAST_CHECK", name, location=like.location)

    out = []
    for x in body:
        if not isinstance(x, Instr) or not isinstance(x.arg, (str, tuple)):
            out.append(x)  # labels, and loads of cells (3.13: LOAD_FAST of a CellVar), always bound
        elif x.name == "LOAD_FAST":
            out.append(load(x.arg, x))
        # 3.13's fused forms pack two local numbers in 4 bits each: the resume function puts
        # its parameters first, so a local's number may pass 15 (written as is, it wraps to
        # another local): always split
        elif x.name == "LOAD_FAST_LOAD_FAST":
            out += [load(x.arg[0], x), load(x.arg[1], x)]
        elif x.name == "STORE_FAST_LOAD_FAST":
            out += [Instr("STORE_FAST", x.arg[0], location=x.location), load(x.arg[1], x)]
        elif x.name == "STORE_FAST_STORE_FAST":
            out += [Instr("STORE_FAST", x.arg[0], location=x.location),
                    Instr("STORE_FAST", x.arg[1], location=x.location)]
        else:
            out.append(x)
    return out


def make_resume_function(fn, code):
    """A function object for a resume code, sharing fn's globals and closure."""
    return types.FunctionType(code, fn.__globals__, code.co_name, None, fn.__closure__)
