"""Graph breaks: compile the graph traced so far, run the unsupported instruction eagerly,
and continue in a resume function (itself compiled lazily, cached per code and offset).

Only breaks at a call or at a conditional jump of the root frame, outside loops, are split
this way; anything else runs the whole frame eagerly (never silently wrong).
"""
import ast
import dataclasses
import re

import tensorlite as tl
from tensorlite import _state as tl_state

from . import bytecode_compat as bc
from .exc import Unsupported
from .resume_execution import live_locals, make_resume_function, resume_code
from .variables.base import LazyVariable, is_null, unsupported
from .variables.functions import BaseUserFunction, UserMethodVariable
from .variables.iterators import IteratorVariable
from .variables.objects import GradModeExit, NNModuleVariable

# builtins that read the calling frame: they cannot run from generated code
_FRAME_BUILTINS = {super, locals, globals, vars, dir, eval, exec, breakpoint}
# names through which code reads its own or its callers' frames: such a function is never
# split at a break (the code after the break would run in a resume function, another code
# object under minidynamo's frames), it runs eagerly as a whole
_FRAME_NAMES = frozenset({
    "_getframe", "_getframemodulename", "currentframe", "exc_info", "exception", "locals",
    "globals", "vars", "eval", "exec", "warn", "warn_explicit", "stack", "extract_stack",
    "print_stack", "format_stack", "walk_stack", "f_back", "tb_frame", "f_locals", "f_globals",
    "f_code", "f_lineno", "f_lasti", "getframeinfo", "getouterframes"})

# names through which code observes when objects die
_LIFETIME_NAMES = frozenset({
    "ref", "proxy", "getweakrefcount", "getweakrefs", "finalize", "WeakSet", "WeakMethod",
    "WeakKeyDictionary", "WeakValueDictionary", "getrefcount", "collect", "gc_collect",
    "get_referrers", "get_referents"})


def reads_frames(code):
    """Whether code may read its own or its callers' frames: it runs as itself, called from
    the real caller (never split at a break, never called through a compiled wrapper)."""
    return not _FRAME_NAMES.isdisjoint(code.co_names)


# Functions that are never split at a graph break (they run eagerly as a whole on a break),
# because the code after the break, run in a resume function, would be seen to differ:
_NEVER_SPLIT = (
    # another code object, called from minidynamo's frames, with other locals
    (reads_frames, "the function reads frames (sys._getframe, f_back, warn, ...): never split"),
    # super() reads the frame's first argument and its __class__ cell
    (lambda code: "super" in code.co_names, "the function calls super(): never split"),
    # the values passed to the resume function stay referenced by the transformed function's
    # frame until it returns: a weak reference would not die where it does
    (lambda code: not _LIFETIME_NAMES.isdisjoint(code.co_names),
     "the function observes object lifetimes (weakref, gc, getrefcount): never split"),
    # a resume function makes cells of its own: closures made before the break would no
    # longer share a variable with the code after it
    (lambda code: bool(code.co_cellvars),
     "graph break in a function with cell variables (closures share them)"),
)
_BREAKABLE = {"CALL", "CALL_KW", "CALL_FUNCTION_EX", "POP_JUMP_IF_TRUE", "POP_JUMP_IF_FALSE"}
_RESUME_WRAPPERS = {}


def can_break_at(tx, e):
    """Whether an Unsupported raised at root instruction e.root_index can become a break."""
    idx = e.root_index
    if idx is None:
        return False, "the break happened outside the function's own bytecode"
    if e.whole_frame:
        return False, e.msg
    for never_split, why in _NEVER_SPLIT:
        if never_split(tx.code):
            return False, why
    inst = tx.insts[idx]
    if inst.opname not in _BREAKABLE:
        return False, f"cannot resume after {inst.opname}"
    if e.root_count != 1:
        return False, "graph break inside a loop"
    for j in tx.insts:  # any backward jump (3.11's POP_JUMP_BACKWARD_IF_X too) closes a loop
        if j.target is not None and j.target <= idx < j.index:
            return False, "graph break inside a loop"
    # inside try/except/finally the resume function would jump into a protected region whose
    # handler expects a stack it never built: only with-blocks we re-create are allowed
    covering = bc.exception_regions(tx.code, inst.offset)
    n_with = sum(1 for v in tx.stack if isinstance(v, GradModeExit))
    if covering > n_with:
        return False, "graph break inside a try/except/finally block"
    return True, None


def _next_offset(code, offset):
    from .resume_execution import _raw_instructions
    for r in _raw_instructions(code):
        if r.offset > offset:
            return r.offset
    raise Unsupported("no instruction after the graph break")


def resume_wrapper(fn, code, backend, dynamic=None):
    """The compiled wrapper of a resume function (one per resume code object); it compiles
    with the `dynamic` flag of the frame it resumes."""
    from .eval_frame import _BackendKey
    key = (code, _BackendKey(backend), fn if fn.__closure__ else None, dynamic)
    w = _RESUME_WRAPPERS.get(key)
    if w is None:
        w = _RESUME_WRAPPERS[key] = _resume_class()(make_resume_function(fn, code), backend, dynamic)
    return w


_RESUME_CLASS = []


def _resume_class():
    """OptimizedFunction for resume functions. Generated code is their only caller and passes
    arguments positionally, so the call needs no keyword path, and the FrameCache can be
    bound once (md.reset drops the wrapper with it)."""
    if not _RESUME_CLASS:
        from .eval_frame import OptimizedFunction

        class ResumeFunction(OptimizedFunction):
            def __init__(self, fn, backend, dynamic=None):
                super().__init__(fn, backend, dynamic=dynamic)
                self._frame_cache = self._cache

            def __call__(self, *args):
                cache = self._frame_cache
                for entry in cache.entries:
                    if entry.check(*args):
                        cache.hits += 1
                        return entry.fn(*args)
                return self._miss(cache, args, {})

        _RESUME_CLASS.append(ResumeFunction)
    return _RESUME_CLASS[0]


class GradModeRestore:
    """The `__exit__` of a grad-mode `with` block that a graph break split: the generated
    code passes one to the resume function, which calls it where the block ends."""

    def __init__(self, mode):
        self.mode = mode

    def __call__(self, *exc_info):
        tl.set_grad_enabled(self.mode)


def _set_grad_mode(mode):
    tl_state.grad_enabled = mode


def _stack_exprs(cg, values):
    layout, exprs = [], []
    for v in values:
        if is_null(v):
            layout.append(False)
        else:
            if isinstance(v, IteratorVariable):
                unsupported("graph break with a live iterator on the stack")
            layout.append(True)
            if isinstance(v, GradModeExit):
                exprs.append(f"{cg.global_obj(GradModeRestore)}({bool(v.ctx.initial)!r})")
            else:
                exprs.append(cg(v))
    return layout, exprs


def _grad_mode_lines(cg, tx):
    """Inside a split grad-mode block, the instruction and the resume run in the block's mode."""
    if tx.grad_enabled() == tx.output.initial_grad_mode:
        return []
    return [f"{cg.global_obj(_set_grad_mode)}({bool(tx.grad_enabled())!r})"]


def _bound(tx, names):
    """The live locals that hold a value at the break: they become the resume function's
    parameters; the others start unbound there too (its loads of them are checked)."""
    for n in names:
        if n in tx.cells:  # an argument that is also a cell holds its value in the cell
            unsupported(f"graph break with live cell variable {n!r}")
    return [n for n in names if tx.symbolic_locals.get(n) is not None]


def _local_exprs(cg, tx, names):
    return [cg(tx.symbolic_locals[n]) for n in names]


def _callable_expr(cg, fn_vt):
    """(the callable's expression, the bound self's expression or None)."""
    if isinstance(fn_vt, UserMethodVariable) and fn_vt.source is None:
        # obj.method with no source of its own: call the function with obj first
        return _callable_expr(cg, fn_vt.fn_var)[0], cg(fn_vt.obj)
    return _callable_expr1(cg, fn_vt), None


def _callable_expr1(cg, fn_vt):
    expr = cg(fn_vt)
    if isinstance(fn_vt, LazyVariable):  # a sourced callable not yet realized
        if _compiles_when_called(fn_vt.value):
            return f"___call_compiled({expr})"
        return expr
    if isinstance(fn_vt, (BaseUserFunction, UserMethodVariable, NNModuleVariable)):
        return f"___call_compiled({expr})"
    return expr


def _compiles_when_called(obj):
    import types
    import tensorlite as tl
    if getattr(obj, "_minidynamo_disable", False):
        return False
    return isinstance(obj, (types.FunctionType, types.MethodType, tl.nn.Module))


def break_code(tx, inst, cg, fn, backend):
    """Lines that run the unsupported instruction and return the resume call(s)."""
    code = tx.code
    # cell variables are locals too: a live one cannot be passed on (the frame runs eagerly)
    varnames = list(code.co_varnames) + [c for c in code.co_cellvars if c not in code.co_varnames]
    if inst.opname in ("CALL", "CALL_KW", "CALL_FUNCTION_EX"):
        return _break_at_call(tx, inst, cg, fn, backend, varnames)
    return _break_at_jump(tx, inst, cg, fn, backend, varnames)


@dataclasses.dataclass
class _CallOperands:
    """The stack items a call instruction consumes."""

    n: int  # how many
    fn_vt: object  # the callable
    self_vt: object  # the bound self pushed beside it, or None
    args: list  # positional then keyword argument trackers (CALL, CALL_KW)
    kw_names: tuple  # the names of the keyword arguments, last in args
    star_args: object = None  # CALL_FUNCTION_EX: the *args tracker
    star_kwargs: object = None  # CALL_FUNCTION_EX: the **kwargs tracker, or None


def _call_operands(inst, stack):
    if inst.opname == "CALL_FUNCTION_EX":
        has_kw = bool(inst.arg & 1)
        n = 3 + has_kw
        fn_vt, self_vt = bc.split_callable(stack[-n], stack[-n + 1])
        return _CallOperands(n, fn_vt, self_vt, [], (), stack[-n + 2], stack[-1] if has_kw else None)
    extra = 1 if inst.opname == "CALL_KW" else 0
    n = inst.arg + 2 + extra
    fn_vt, self_vt = bc.split_callable(stack[-n], stack[-n + 1])
    kw_names = inst.kw_names or (stack[-1].as_python_constant() if extra else ())
    return _CallOperands(n, fn_vt, self_vt, stack[len(stack) - n + 2: len(stack) - extra], kw_names)


def _call_source(cg, ops):
    """The callable expression, positional parts (`*e` unpacks) and (name or None for **, expr)."""
    call, bound = _callable_expr(cg, ops.fn_vt)
    first = ([bound] if bound is not None else []) + ([cg(ops.self_vt)] if ops.self_vt is not None else [])
    if ops.star_args is not None:
        pos_parts = first + [f"*{cg(ops.star_args)}"]
        kw_parts = [(None, cg(ops.star_kwargs))] if ops.star_kwargs is not None else []  # None: **
    else:
        k = len(ops.args) - len(ops.kw_names)
        pos_parts = first + [cg(a) for a in ops.args[:k]]
        kw_parts = [(name, cg(v)) for name, v in zip(ops.kw_names, ops.args[k:])]
    return call, pos_parts, kw_parts


def _break_at_call(tx, inst, cg, fn, backend, varnames):
    from .variables.builder import UnsupportedCallVariable
    code = tx.code
    ops = _call_operands(inst, list(tx.stack))
    if any(getattr(ops.fn_vt, "fn", getattr(ops.fn_vt, "value", None)) is b for b in _FRAME_BUILTINS):
        unsupported(f"cannot run {ops.fn_vt} outside its frame (it reads the caller's frame)")
    layout, stack_vals = _stack_exprs(cg, list(tx.stack)[:-ops.n])
    live = _bound(tx, live_locals(tx.insts, inst.index + 1, varnames, tx.code))
    local_vals = _local_exprs(cg, tx, live)
    call, pos_parts, kw_parts = _call_source(cg, ops)
    # the values are read before the recorded side effects are replayed (a value read
    # from a list that the frame then mutated is the value it read), the call runs after;
    # names and graph outputs cannot change in between and are used where they are needed
    cap = _Capture(cg)
    stack_vals = [cap(e) for e in stack_vals]
    local_vals = [cap(e) for e in local_vals]
    if isinstance(ops.fn_vt, UnsupportedCallVariable) and ops.fn_vt.value is graph_break_fn():
        call_src = "None"  # md.graph_break() does nothing when it runs eagerly
    else:
        pos_src = [f"*{cap(e[1:])}" if e.startswith("*") else cap(e) for e in pos_parts]
        kw_src = [f"{k}={cap(e)}" if k is not None else f"**{cap(e)}" for k, e in kw_parts]
        call_src = f"{cap(call)}({', '.join(pos_src + kw_src)})"
    lines = _with_grad_mode_restored(cg, tx, f"___result = {call_src}")
    rcode = resume_code(code, _next_offset(code, inst.offset), layout + [True], live)
    name = cg.global_obj(resume_wrapper(fn, rcode, backend, tx.output.shape_env.policy.dynamic))
    lines.append(f"return {name}({', '.join(stack_vals + ['___result'] + local_vals)})")
    return lines


def _with_grad_mode_restored(cg, tx, statement):
    """`statement` after the lines that leave the frame's grad-mode blocks; an exception out of
    it restores the initial mode, as leaving the `with` blocks would."""
    grad_lines = _grad_mode_lines(cg, tx)
    if not grad_lines:
        return [statement]
    return grad_lines + ["try:", f"    {statement}", "except BaseException:",
                         f"    {cg.global_obj(_set_grad_mode)}({bool(tx.output.initial_grad_mode)!r})",
                         "    raise"]


def _break_at_jump(tx, inst, cg, fn, backend, varnames):
    """A conditional jump on a tensor's value: both branches become resume functions."""
    code = tx.code
    stack = list(tx.stack)
    cond = stack[-1]
    layout, stack_vals = _stack_exprs(cg, stack[:-1])
    jump_if = inst.opname == "POP_JUMP_IF_TRUE"
    target_inst = tx.insts[inst.target]
    taken_live = _bound(tx, live_locals(tx.insts, inst.target, varnames, tx.code))
    fall_live = _bound(tx, live_locals(tx.insts, inst.index + 1, varnames, tx.code))
    cap = _Capture(cg)
    stack_vals = [cap(e) for e in stack_vals]
    lines = _grad_mode_lines(cg, tx)
    dynamic = tx.output.shape_env.policy.dynamic
    taken = resume_wrapper(fn, resume_code(code, target_inst.offset, layout, taken_live), backend, dynamic)
    fall = resume_wrapper(fn, resume_code(code, _next_offset(code, inst.offset), layout, fall_live), backend, dynamic)
    t_name, f_name = cg.global_obj(taken), cg.global_obj(fall)
    t_args = stack_vals + [cap(e) for e in _local_exprs(cg, tx, taken_live)]
    f_args = stack_vals + [cap(e) for e in _local_exprs(cg, tx, fall_live)]
    lines.append(f"if {'' if jump_if else 'not '}{cg(cond)}:")
    lines.append(f"    return {t_name}({', '.join(t_args)})")
    lines.append(f"return {f_name}({', '.join(f_args)})")
    return lines


_STABLE = re.compile(r"(?:[A-Za-z_]\w*|___graph_out\[\d+\])\Z")


class _Capture:
    """Expressions for values passed across a break: a name or a graph output is used as it
    is; anything else (an attribute, an item, a call) is read into a temporary in the prelude,
    before the side effects are replayed."""

    def __init__(self, cg):
        self.cg = cg

    def __call__(self, expr):
        if _STABLE.match(expr) or _is_literal(expr):
            return expr
        name = f"___v{len(self.cg.prelude)}"
        self.cg.prelude.append(f"{name} = {expr}")
        return name


def _is_literal(expr):
    try:
        ast.literal_eval(expr)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def graph_break_fn():
    from .eval_frame import graph_break
    return graph_break
