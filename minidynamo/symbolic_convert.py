"""InstructionTranslator: symbolic execution of a frame's bytecode, one handler per opcode.

The stack and locals hold VariableTrackers. Tensor operations become graph nodes,
everything else is folded at trace time, and every fact relied upon becomes a guard.
"""
import operator
import traceback
import types

from fxlite.codegen import StackTrace

from . import bytecode_compat as bc
from .exc import Unsupported
from .source import ClosureSource, GlobalSource, LocalSource
from .variables.base import (NULL, ConstantVariable, UserError, VariableTracker, is_null, lazy_arithmetic,
                             unsupported)
from .variables.builder import VariableBuilder
from .variables.builtins_impl import get_iter
from .variables.containers import ContainerVariable, identity_eq, is_plain_constant
from .variables.dicts import DictVariable, DictViewVariable
from .variables.functions import CellVariable, NestedFunctionVariable
from .variables.iterators import IteratorVariable
from .variables.lists import BaseListVariable, ListVariable, SliceVariable, TupleVariable
from .variables.objects import GradModeVariable, InferenceModeVariable, UserDefinedObjectVariable
from .variables.operators import container_binary_op, contains, inplace
from .variables.sets import SetVariable
from .variables import sym
from .variables.sym import SymNodeVariable
from .variables.tensor import TensorVariable

MAX_INSTRUCTIONS = 200_000  # past this many traced instructions, a frame is assumed not to end
MAX_INLINE_DEPTH = 32

_BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
    ">>": operator.rshift,
}
_INPLACE = {k + "=": v for k, v in {
    "+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv,
    "//": operator.ifloordiv, "%": operator.imod, "**": operator.ipow, "@": operator.imatmul,
    "&": operator.iand, "|": operator.ior, "^": operator.ixor, "<<": operator.ilshift,
    ">>": operator.irshift}.items()}
_INPLACE_TO_BINARY = {v: _BINARY[k[:-1]] for k, v in _INPLACE.items()}
_COMPARE = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
            ">": operator.gt, ">=": operator.ge}
_INPLACE_METHODS = {operator.iadd: "add_", operator.isub: "sub_", operator.imul: "mul_",
                    operator.itruediv: "div_"}


_new_str = str.__new__


def format_frame(filename, lineno, name, line):
    """`traceback.format_list([FrameSummary(filename, lineno, name, line=line)])` for a
    stripped one-line `line`, without building the summary (one per captured node)."""
    if filename.startswith("<stdin>-"):  # 3.13 rewrites these names
        return "".join(traceback.format_list([traceback.FrameSummary(filename, lineno, name, line=line)]))
    if line:
        return f'  File "{filename}", line {lineno}, in {name}\n    {line}\n'
    return f'  File "{filename}", line {lineno}, in {name}\n'


def _pop_jump_if(truth):
    """POP_JUMP_IF_TRUE/FALSE: jump when the popped value's truth is `truth` (a tensor's
    truth is its data: a graph break)."""
    def handler(self, inst):
        value = self.pop()
        if isinstance(value, TensorVariable):
            unsupported("data-dependent branch: `if` on a tensor's value")
        if bool(value.truthy(self)) == truth:
            self.jump(inst)
    return handler


def _pop_jump_if_none(is_none):
    """POP_JUMP_IF_NONE/NOT_NONE: jump when the popped value is (not) None."""
    def handler(self, inst):
        v = self.pop()
        if (v.is_python_constant() and v.as_python_constant() is None) == is_none:
            self.jump(inst)
    return handler


def _jump_if_or_pop(truth):
    """JUMP_IF_TRUE/FALSE_OR_POP (3.11): jump keeping the value when its truth is `truth`,
    else pop it."""
    def handler(self, inst):
        v = self.stack[-1]
        if isinstance(v, TensorVariable):
            unsupported("data-dependent branch on a tensor's value")
        if bool(v.truthy(self)) == truth:
            self.jump(inst)
        else:
            self.pop()
    return handler


class InstructionTranslatorBase:
    def __init__(self, code, f_globals, symbolic_locals, cells, output, parent=None, fn_name=None):
        self.code = code
        self.f_globals = f_globals
        b = f_globals.get("__builtins__", __builtins__)
        self.f_builtins = b if isinstance(b, dict) else b.__dict__
        self.insts = bc.normalize(code)
        self.symbolic_locals = symbolic_locals
        self.cells = cells  # name -> CellVariable for cellvars and freevars
        self.output = output
        self.parent = parent
        self.stack = []
        self.ip = 0
        self.current = None
        self.return_value = None
        self.fn_name = fn_name or code.co_name
        self.depth = 0 if parent is None else parent.depth + 1
        self.instructions_run = 0

    # ------------------------------------------------------------------ state helpers
    def push(self, v):
        assert isinstance(v, VariableTracker), v
        self.stack.append(v)

    def pop(self):
        return self.stack.pop()

    def popn(self, n):
        if n == 0:
            return []
        out = self.stack[-n:]
        del self.stack[-n:]
        return out

    def grad_enabled(self):
        return self.output.grad_enabled()

    def set_grad_mode(self, mode):
        self.output.set_grad_mode(self, mode)

    def lineno(self):
        return self.current.lineno if self.current is not None else self.code.co_firstlineno

    def source_line(self, lineno):
        """The stripped text of a line of this frame's file (the file's lines are read from
        linecache once per translator)."""
        lines = self.__dict__.get("_src_lines")
        if lines is None:
            import linecache
            lines = self._src_lines = linecache.getlines(self.code.co_filename)
        return lines[lineno - 1].strip() if 1 <= lineno <= len(lines) else ""

    def frame_summary(self):
        lineno = self.lineno()
        return traceback.FrameSummary(self.code.co_filename, lineno, self.code.co_name,
                                      line=self.source_line(lineno))

    def user_stack(self):
        frames = []
        tx = self
        while tx is not None:
            frames.append(tx.frame_summary())
            tx = tx.parent
        return list(reversed(frames))

    def stack_trace(self):
        """The user stack as text (cached per source line: consecutive nodes share it)."""
        lineno = self.lineno()
        parent = self.parent.stack_trace() if self.parent is not None else None
        cached = self.__dict__.get("_st_cache")
        if cached is not None and cached[0] == lineno and cached[1] is parent:
            return cached[2]
        # the parent's text is the outer frames of traceback.format_list(self.user_stack())
        code = self.code
        filename, name, line = code.co_filename, code.co_name, self.source_line(lineno)
        text = format_frame(filename, lineno, name, line)
        if parent:
            text = parent + text
        if not filename.startswith("<stdin>-"):  # format_frame keeps the frame as it is
            text = _new_str(StackTrace, text)  # StackTrace(text, innermost), without a Python call
            text.innermost = (filename, lineno, name, line)
        self._st_cache = (lineno, parent, text)
        return text

    # ------------------------------------------------------------------ main loop
    stop_at = None

    def run(self):
        insts = self.insts
        n_insts = len(insts)
        root = self.parent is None
        exec_counts = self.exec_counts if root else None
        stop_at = self.stop_at
        output = self.output
        cls = type(self)  # handlers are looked up on the class: functions, no bound methods
        output.current_tx = self  # the innermost running translator (inlining sets it back)
        ip = self.ip
        while ip < n_insts:
            inst = insts[ip]  # inst.index == ip
            if root:
                exec_counts[ip] += 1
                if ip == stop_at:
                    raise StopTrace(inst)
            self.current = inst
            self.ip = ip + 1
            n = output.instructions = output.instructions + 1
            if n > MAX_INSTRUCTIONS:
                unsupported("too many instructions traced (an unbounded loop?)")
            handler = getattr(cls, inst.opname, None)
            try:
                if handler is None:
                    unsupported(f"unsupported bytecode {inst.opname}")
                done = handler(self, inst)
            except Unsupported as e:
                if not e.user_stack:
                    e.user_stack = self.user_stack()
                if root and e.root_index is None:
                    e.root_index = inst.index
                    e.root_count = self.exec_counts[inst.index]
                raise
            if done:
                return self.return_value
            ip = self.ip
        return self.return_value

    def jump(self, inst):
        self.ip = inst.target

    # ------------------------------------------------------------------ constants / locals
    # the most frequent handlers append to the stack directly (push checks what it pushes)
    def LOAD_CONST(self, inst):
        self.stack.append(ConstantVariable(inst.argval))

    def LOAD_FAST(self, inst):
        name = inst.argval
        if name in self.cells and name in self.code.co_cellvars + self.code.co_freevars:
            if bc.PY >= (3, 13) and self._loads_cell_for_closure():
                self.push(self.cells[name])
                return
        try:
            self.stack.append(self.symbolic_locals[name])
        except KeyError:
            raise UserError(UnboundLocalError(
                f"cannot access local variable '{name}' where it is not associated with a value")) from None

    def _loads_cell_for_closure(self):
        # on 3.13 LOAD_FAST of a cell inside a BUILD_TUPLE for MAKE_FUNCTION pushes the cell
        nxt = self.insts[self.ip] if self.ip < len(self.insts) else None
        return nxt is not None and nxt.opname in ("BUILD_TUPLE", "LOAD_FAST", "LOAD_CONST")

    def LOAD_FAST_AND_CLEAR(self, inst):
        self.push(self.symbolic_locals.pop(inst.argval, NULL))

    def STORE_FAST(self, inst):
        v = self.stack.pop()
        name = inst.argval
        if v is NULL:
            self.symbolic_locals.pop(name, None)
            return
        if name in self.cells and name in self.code.co_cellvars:
            self.cells[name].store(self, v)
            return
        self.output.name_value(v, name)
        self.symbolic_locals[name] = v

    def DELETE_FAST(self, inst):
        self.symbolic_locals.pop(inst.argval, None)

    def MAKE_CELL(self, inst):
        name = inst.argval
        if name not in self.cells:
            init = self.symbolic_locals.get(name)
            self.cells[name] = CellVariable(contents=init)

    def LOAD_CLOSURE(self, inst):
        self.push(self.cells[inst.argval])

    def LOAD_DEREF(self, inst):
        self.push(self.cells[inst.argval].load(self))

    def STORE_DEREF(self, inst):
        self.cells[inst.argval].store(self, self.pop())

    def LOAD_GLOBAL(self, inst):
        if inst.arg and bc.NULL_BEFORE_CALLABLE:
            self.push(NULL)
        self.push(self.load_global(inst.argval))
        if inst.arg and not bc.NULL_BEFORE_CALLABLE:
            self.push(NULL)

    def load_global(self, name):
        pending = self.output.side_effects.load_global(self.f_globals, name)
        if pending is not None:
            return pending
        if name in self.f_globals:
            idx = self.output.globals_index(self.f_globals)
            src = GlobalSource(name, idx, self.f_globals.get("__name__"))
            return VariableBuilder(self, src).wrap(self.f_globals[name])
        if name in self.f_builtins:
            return VariableBuilder(self, None).wrap(self.f_builtins[name])
        raise UserError(NameError(f"name '{name}' is not defined"))

    def STORE_GLOBAL(self, inst):
        self.output.side_effects.store_global(self, self.f_globals, inst.argval, self.pop())

    # ------------------------------------------------------------------ stack
    def POP_TOP(self, inst):
        self.pop()

    def PUSH_NULL(self, inst):
        self.push(NULL)

    def COPY(self, inst):
        self.push(self.stack[-inst.arg])

    def SWAP(self, inst):
        i = inst.arg
        self.stack[-1], self.stack[-i] = self.stack[-i], self.stack[-1]

    def END_FOR(self, inst):
        self.popn(bc.END_FOR_POPS)

    # ------------------------------------------------------------------ operators
    def binary_op(self, fn, a, b):
        if isinstance(a, TensorVariable) or isinstance(b, TensorVariable):
            return self.output.tensor_op(self, "call_function", fn, [a, b], {})
        if isinstance(a, SymNodeVariable) or isinstance(b, SymNodeVariable):
            r = sym.binary(self, fn, a, b)  # None: folded below, which specializes
            if r is not None:
                return r
        lazy = lazy_arithmetic(fn, a, b)
        if lazy is not None:
            self.output.lazy_exprs.append(lazy)
            return lazy
        r = container_binary_op(self, fn, a, b)  # lists, tuples, dicts, sets, views: new trackers
        if r is not None:
            return r
        if a.is_python_constant() and b.is_python_constant():
            try:
                return ConstantVariable(fn(a.as_python_constant(), b.as_python_constant()))
            except Exception as e:
                raise UserError(e)
        if isinstance(a, BaseListVariable) and isinstance(b, BaseListVariable) and fn is operator.add:
            return type(a)(a.items + b.items)
        if isinstance(a, BaseListVariable) and fn is operator.mul and b.is_python_constant():
            return type(a)(a.items * b.as_python_constant())
        if fn in (operator.is_, operator.is_not):
            return ConstantVariable(self.identical(a, b) == (fn is operator.is_))
        if fn in (operator.eq, operator.ne) and identity_eq(a) and identity_eq(b):
            # neither side defines __eq__/__ne__: object's, which compare identities
            return ConstantVariable(self.identical(a, b) == (fn is operator.eq))
        return self._user_binary(fn, a, b)

    def identical(self, a, b):
        """`a is b`, exactly, with the guards that keep the answer valid; else a break."""
        same = _identical(a, b)
        if same is not None:
            return same
        sa, sb = a.source, b.source
        va, vb = _real(a), _real(b)
        if sa is not None and sb is not None and va is not _NO_VALUE and vb is not _NO_VALUE:
            # two values from outside: the guards pin whether they are one object
            same = va is vb
            self.output.add_guard("DUPLICATE_INPUT" if same else "NO_DUPLICATE", sa, sb)
            return same
        unsupported(f"`is` between {a} and {b} (their identity is not known while tracing)")

    def _user_binary(self, fn, a, b):
        names = {operator.add: "__add__", operator.sub: "__sub__", operator.mul: "__mul__",
                 operator.truediv: "__truediv__", operator.matmul: "__matmul__"}
        if isinstance(a, UserDefinedObjectVariable) and fn in names:
            return a.var_getattr(self, names[fn]).call_function(self, [b], {})
        unsupported(f"{getattr(fn, '__name__', fn)} on {type(a).__name__} and {type(b).__name__}")

    def inplace_op(self, fn, a, b):
        if isinstance(a, TensorVariable):
            method = _INPLACE_METHODS.get(fn)
            if method is not None:
                return a.call_method(self, method, [b], {})
            return self.output.tensor_op(self, "call_function", fn, [a, b], {}, inplace_of=a)
        r = inplace(self, fn, a, b)  # a list, set or dict changed in place
        if r is not None:
            return r
        return self.binary_op(_INPLACE_TO_BINARY[fn], a, b)

    def BINARY_OP(self, inst):
        stack = self.stack
        b = stack.pop()
        a = stack.pop()
        sym = inst.argval
        if sym in _INPLACE:
            self.push(self.inplace_op(_INPLACE[sym], a, b))
        else:
            self.push(self.binary_op(_BINARY[sym], a, b))

    def COMPARE_OP(self, inst):
        b = self.pop()
        a = self.pop()
        self.push(self.binary_op(_COMPARE[inst.argval], a, b))

    def IS_OP(self, inst):
        b = self.pop()
        a = self.pop()
        self.push(ConstantVariable(self.identical(a, b) != bool(inst.argval)))

    def CONTAINS_OP(self, inst):
        container = self.pop()
        item = self.pop()
        if isinstance(container, (ContainerVariable, IteratorVariable)) or is_plain_constant(container):
            r = contains(self, container, item)
        else:
            r = container.call_method(self, "__contains__", [item], {}).as_python_constant()
        self.push(ConstantVariable(bool(r) != bool(inst.argval)))

    def _unary(self, fn, v):
        if isinstance(v, TensorVariable):
            return self.output.tensor_op(self, "call_function", fn, [v], {})
        if isinstance(v, SymNodeVariable):
            r = sym.unary(self, fn, v)
            if r is not None:
                return r
        if v.is_python_constant():
            try:
                return ConstantVariable(fn(v.as_python_constant()))
            except Exception as e:
                raise UserError(e)
        unsupported(f"{fn.__name__} of {v}")

    def UNARY_NEGATIVE(self, inst):
        self.push(self._unary(operator.neg, self.pop()))

    def UNARY_POSITIVE(self, inst):
        self.push(self._unary(operator.pos, self.pop()))

    def UNARY_INVERT(self, inst):
        self.push(self._unary(operator.invert, self.pop()))

    def UNARY_NOT(self, inst):
        self.push(ConstantVariable(not self.pop().truthy(self)))

    def TO_BOOL(self, inst):
        v = self.stack[-1]
        if not isinstance(v, TensorVariable):
            self.stack[-1] = ConstantVariable(v.truthy(self))

    # ------------------------------------------------------------------ subscripts
    def getitem(self, obj, key):
        if isinstance(obj, TensorVariable):
            return self.output.tensor_op(self, "call_function", operator.getitem, [obj, key], {})
        if isinstance(key, TensorVariable):
            unsupported("indexing a Python container with a tensor")
        k = key.as_python_constant()
        if isinstance(obj, BaseListVariable):
            return obj.getitem(self, k)
        if isinstance(obj, DictVariable):
            return obj.call_method(self, "__getitem__", [key], {})
        if obj.is_python_constant():
            try:
                from .variables.builder import wrap_constant_result
                return wrap_constant_result(self, obj.as_python_constant()[k])
            except Exception as e:
                raise UserError(e)
        return obj.call_method(self, "__getitem__", [key], {})

    def BINARY_SUBSCR(self, inst):
        key = self.pop()
        obj = self.pop()
        self.push(self.getitem(obj, key))

    def BINARY_SLICE(self, inst):
        stop = self.pop()
        start = self.pop()
        obj = self.pop()
        self.push(self.getitem(obj, _slice(start, stop, ConstantVariable(None))))

    def setitem(self, obj, key, value):
        if isinstance(obj, TensorVariable):
            self.output.tensor_op(self, "call_function", operator.setitem, [obj, key, value], {}, inplace_of=obj)
        else:
            obj.call_method(self, "__setitem__", [key, value], {})

    def STORE_SUBSCR(self, inst):
        key = self.pop()
        obj = self.pop()
        value = self.pop()
        self.setitem(obj, key, value)

    def STORE_SLICE(self, inst):
        stop = self.pop()
        start = self.pop()
        obj = self.pop()
        value = self.pop()
        self.setitem(obj, _slice(start, stop, ConstantVariable(None)), value)

    def DELETE_SUBSCR(self, inst):
        key = self.pop()
        obj = self.pop()
        obj.call_method(self, "__delitem__", [key], {})

    def BUILD_SLICE(self, inst):
        parts = self.popn(inst.arg)
        if len(parts) == 2:
            parts.append(ConstantVariable(None))
        self.push(_slice(*parts))

    # ------------------------------------------------------------------ attributes
    def LOAD_ATTR(self, inst):
        obj = self.pop()
        self.push(self.getattr(obj, inst.argval))

    def getattr(self, obj, name):
        return obj.var_getattr(self, name)

    def LOAD_METHOD(self, inst):
        stack = self.stack
        attr = stack.pop().var_getattr(self, inst.argval)
        if bc.NULL_BEFORE_CALLABLE:
            stack.append(NULL)
            self.push(attr)
        else:
            self.push(attr)
            stack.append(NULL)

    def STORE_ATTR(self, inst):
        obj = self.pop()
        value = self.pop()
        if isinstance(obj, UserDefinedObjectVariable):
            obj.store_attr(self, inst.argval, value)
        elif isinstance(obj, TensorVariable) and inst.argval == "grad" and obj.source is not None:
            self.output.side_effects.store_attr(self, obj, "grad", value)
        else:
            unsupported(f"setting attribute {inst.argval!r} on {obj}")

    def DELETE_ATTR(self, inst):
        unsupported("del obj.attr")

    # ------------------------------------------------------------------ building
    def BUILD_TUPLE(self, inst):
        self.push(TupleVariable(self.popn(inst.arg)))

    def BUILD_LIST(self, inst):
        self.push(ListVariable(self.popn(inst.arg)))

    def BUILD_SET(self, inst):
        self.push(SetVariable(self.popn(inst.arg)))

    def BUILD_MAP(self, inst):
        items = self.popn(2 * inst.arg)
        d = {}
        for k, v in zip(items[::2], items[1::2]):
            d[k.as_python_constant()] = v
        self.push(DictVariable(d))

    def BUILD_CONST_KEY_MAP(self, inst):
        keys = self.pop().as_python_constant()
        values = self.popn(inst.arg)
        self.push(DictVariable(dict(zip(keys, values))))

    def BUILD_STRING(self, inst):
        parts = self.popn(inst.arg)
        self.push(ConstantVariable("".join(p.as_python_constant() for p in parts)))

    def LIST_APPEND(self, inst):
        v = self.pop()
        self.stack[-inst.arg].items.append(v)

    def SET_ADD(self, inst):
        v = self.pop()
        self.stack[-inst.arg].call_method(self, "add", [v], {})

    def MAP_ADD(self, inst):
        v = self.pop()
        k = self.pop()
        self.stack[-inst.arg].items[k.as_python_constant()] = v

    def LIST_EXTEND(self, inst):
        v = self.pop()
        self.stack[-inst.arg].items.extend(v.unpack(self))

    def SET_UPDATE(self, inst):
        v = self.pop()
        self.stack[-inst.arg].call_method(self, "update", [v], {})

    def DICT_UPDATE(self, inst):
        v = self.pop()
        target = self.stack[-inst.arg]
        if isinstance(v, DictVariable):
            target.items.update(v.items)
        else:
            unsupported("dict.update with a non-dict")

    def DICT_MERGE(self, inst):
        # f(**a, **b): a repeated or non-string key raises TypeError, as in CPython
        v = self.pop()
        self.stack[-inst.arg].merge_keywords(self, v)

    def LIST_TO_TUPLE(self, inst):
        self.push(TupleVariable(self.pop().items))

    def UNPACK_SEQUENCE(self, inst):
        seq = self.pop()
        items = seq.unpack(self)
        if len(items) != inst.arg:
            raise UserError(ValueError(
                f"too many values to unpack (expected {inst.arg})" if len(items) > inst.arg
                else f"not enough values to unpack (expected {inst.arg}, got {len(items)})"))
        for v in reversed(items):
            self.push(v)

    def UNPACK_EX(self, inst):
        seq = self.pop()
        items = seq.unpack(self)
        before, after = inst.arg & 0xFF, inst.arg >> 8
        if len(items) < before + after:
            raise UserError(ValueError(f"not enough values to unpack (expected at least {before + after}, got {len(items)})"))
        mid = ListVariable(items[before:len(items) - after])
        vals = items[:before] + [mid] + items[len(items) - after:]
        for v in reversed(vals):
            self.push(v)

    def FORMAT_VALUE(self, inst):
        flags = inst.arg
        spec = self.pop().as_python_constant() if flags & 0x04 else ""
        v = self.pop()
        conv = {1: str, 2: repr, 3: ascii}.get(flags & 0x03)
        self.push(self._format(v, conv, spec))

    def _format(self, v, conv, spec):
        if not v.is_python_constant():
            unsupported("formatting a traced value into a string")
        x = v.as_python_constant()
        if conv is not None:
            x = conv(x)
        return ConstantVariable(format(x, spec))

    def CONVERT_VALUE(self, inst):
        v = self.pop()
        conv = {1: str, 2: repr, 3: ascii}[inst.arg]
        if not v.is_python_constant():
            unsupported("formatting a traced value into a string")
        self.push(ConstantVariable(conv(v.as_python_constant())))

    def FORMAT_SIMPLE(self, inst):
        self.push(self._format(self.pop(), None, ""))

    def FORMAT_WITH_SPEC(self, inst):
        spec = self.pop().as_python_constant()
        self.push(self._format(self.pop(), None, spec))

    # ------------------------------------------------------------------ control flow
    def JUMP(self, inst):
        self.jump(inst)

    POP_JUMP_IF_TRUE = _pop_jump_if(True)
    POP_JUMP_IF_FALSE = _pop_jump_if(False)
    POP_JUMP_IF_NONE = _pop_jump_if_none(True)
    POP_JUMP_IF_NOT_NONE = _pop_jump_if_none(False)
    JUMP_IF_TRUE_OR_POP = _jump_if_or_pop(True)
    JUMP_IF_FALSE_OR_POP = _jump_if_or_pop(False)

    def GET_ITER(self, inst):
        self.push(get_iter(self, self.pop()))  # a live iterator over a list, dict or set

    def FOR_ITER(self, inst):
        it = self.stack[-1]
        v = it.next_item(self)
        if v is None:
            self.pop()
            self.jump(inst)
        else:
            self.push(v)

    def RETURN_VALUE(self, inst):
        self.return_value = self.pop()
        return True

    # ------------------------------------------------------------------ with blocks
    def BEFORE_WITH(self, inst):
        ctx = self.pop()
        if not isinstance(ctx, (GradModeVariable, InferenceModeVariable)):
            unsupported(f"`with` on {ctx} (only tl.no_grad/enable_grad/set_grad_enabled/inference_mode are traced)")
        exit_fn = ctx.var_getattr(self, "__exit__")
        self.push(exit_fn)
        self.push(ctx.enter(self))

    # ------------------------------------------------------------------ calls
    def call_function(self, fn, args, kwargs):
        if is_null(fn):
            raise Unsupported("internal: calling NULL")
        return fn.call_function(self, list(args), dict(kwargs))

    def _do_call(self, argc, kw_names):
        args = self.popn(argc)
        top = self.pop()
        below = self.pop()
        fn, self_arg = bc.split_callable(below, top)
        if self_arg is not None:
            args = [self_arg] + args
        kwargs = {}
        if kw_names:
            n = len(kw_names)
            kwargs = dict(zip(kw_names, args[-n:]))
            args = args[:-n]
        self.push(self.call_function(fn, args, kwargs))

    def CALL(self, inst):
        self._do_call(inst.arg, inst.kw_names)

    def CALL_KW(self, inst):
        names = self.pop().as_python_constant()
        self._do_call(inst.arg, names)

    def CALL_FUNCTION_EX(self, inst):
        kwargs_vt = self.pop() if inst.arg & 1 else None
        args_vt = self.pop()
        top = self.pop()
        below = self.pop()
        fn, self_arg = bc.split_callable(below, top)
        args = args_vt.unpack(self)
        if self_arg is not None:
            args = [self_arg] + args
        kwargs = {}
        if kwargs_vt is not None:
            if not isinstance(kwargs_vt, DictVariable):
                unsupported("**kwargs that is not a dict")
            kwargs = dict(kwargs_vt.items)
        self.push(self.call_function(fn, args, kwargs))

    def MAKE_FUNCTION(self, inst):
        code = self.pop().as_python_constant()
        flags = inst.arg or 0
        closure = self.pop() if flags & 0x08 else None
        if flags & 0x04:
            self.pop()  # annotations
        kwdefaults = self.pop() if flags & 0x02 else None
        defaults = self.pop() if flags & 0x01 else None
        self.push(NestedFunctionVariable(code, code.co_qualname, self.f_globals, defaults, kwdefaults, closure))

    def SET_FUNCTION_ATTRIBUTE(self, inst):
        fn = self.pop()
        value = self.pop()
        flag = inst.arg
        if flag == 0x08:
            fn.closure = value
        elif flag == 0x01:
            fn.defaults = value
        elif flag == 0x02:
            fn.kwdefaults = value
        self.push(fn)

    # ------------------------------------------------------------------ inlining
    def inline_user_function(self, fn_vt, args, kwargs):
        if self.depth >= MAX_INLINE_DEPTH:
            unsupported("inlining too deep (recursion?)")
        bound, cells = fn_vt.bind(self, args, kwargs)
        code = fn_vt.get_code()
        sub = InliningInstructionTranslator(code, fn_vt.get_globals(), bound, dict(cells), self.output, self)
        for name in code.co_cellvars:
            if name not in sub.cells:
                sub.cells[name] = CellVariable(contents=bound.get(name))
        result = sub.run()
        self.output.current_tx = self
        return result

    # ------------------------------------------------------------------ misc
    def NOP(self, inst):
        pass

    def IMPORT_NAME(self, inst):
        fromlist = self.pop().as_python_constant()
        level = self.pop().as_python_constant()
        try:
            mod = __import__(inst.argval, self.f_globals, None, fromlist, level)
        except ImportError as e:
            raise UserError(e)
        self.push(VariableBuilder(self, None).wrap(mod))

    def IMPORT_FROM(self, inst):
        mod = self.stack[-1]
        self.push(mod.var_getattr(self, inst.argval))

    def LOAD_ASSERTION_ERROR(self, inst):
        self.push(VariableBuilder(self, None).wrap(AssertionError))

    def RAISE_VARARGS(self, inst):
        unsupported("raise inside a compiled region")


class StopTrace(Exception):
    """Raised when the root frame reaches the instruction where the graph must break."""

    def __init__(self, inst):
        super().__init__(inst.opname)
        self.inst = inst


class InstructionTranslator(InstructionTranslatorBase):
    """The root frame: arguments come from the caller (sources L['x'])."""

    def __init__(self, fn, args, kwargs, output, stop_at=None):
        code = fn.__code__
        self.fn = fn
        self.stop_at = stop_at
        output.root_globals = fn.__globals__
        super().__init__(code, fn.__globals__, {}, {}, output)
        self.exec_counts = [0] * len(self.insts)  # how often each instruction ran
        names = _bound_arguments(fn, args, kwargs)
        for name, value in names.items():
            self.symbolic_locals[name] = VariableBuilder(self, LocalSource(name)).wrap(value)
        for i, name in enumerate(code.co_freevars):
            self.cells[name] = CellVariable(real=fn.__closure__[i], source=ClosureSource(name))
            output.side_effects.track_cell(fn.__closure__[i], self.cells[name])
        for name in code.co_cellvars:
            self.cells[name] = CellVariable(contents=self.symbolic_locals.get(name))


class InliningInstructionTranslator(InstructionTranslatorBase):
    """A callee inlined into its caller's trace."""

    def __init__(self, code, f_globals, symbolic_locals, cells, output, parent):
        super().__init__(code, f_globals, symbolic_locals, cells, output, parent)


def simple_positional_call(fn, args, kwargs):
    """Whether fn(*args) binds each positional parameter to one argument, in order: a plain
    function without defaults in play, *args, keyword-only or **kwargs parameters, called with
    exactly as many positional arguments (what inspect.signature(fn).bind would accept)."""
    if kwargs or type(fn) is not types.FunctionType:
        return False
    code = fn.__code__
    d = fn.__dict__
    return (len(args) == code.co_argcount and not code.co_kwonlyargcount
            and not code.co_flags & 0x0C and "__wrapped__" not in d and "__signature__" not in d)


def _bound_arguments(fn, args, kwargs):
    """The frame's parameters bound to args and kwargs, as the call binds them: from the code
    object itself (inspect.signature would follow __wrapped__ or __signature__ to another
    function's parameters). The caller has checked the arity."""
    if simple_positional_call(fn, args, kwargs):
        return dict(zip(fn.__code__.co_varnames, args))
    from .namespaces import eval_namespace
    ns = eval_namespace(fn.__code__, fn, args, kwargs)
    pos, varargs, kwonly, varkw = bc.code_signature_names(fn.__code__)
    return {name: ns[name] for name in [*pos, varargs, *kwonly, varkw] if name}


def _slice(start, stop, step):
    s = SliceVariable(start, stop, step)
    if any(isinstance(p, SymNodeVariable) for p in s.parts):
        return s  # symbolic bounds: the slice of a tensor stays symbolic (x[:, :T])
    if s.is_python_constant() and all(type(p) is ConstantVariable for p in (start, stop, step)):
        return ConstantVariable(s.as_python_constant())
    # a list as a bound (slice([1], [2])) would become one list shared by every call
    unsupported("slice with traced or mutable bounds")


_SINGLETON_TYPES = (type(None), bool, type(Ellipsis), type(NotImplemented))
_NO_VALUE = object()
_MUTABLE = (ListVariable, DictVariable, SetVariable, DictViewVariable, IteratorVariable)


def _identical(a, b):
    """True/False when `a is b` is known from the trackers alone (one tracker; singletons;
    a tensor made in the graph), else None: values that came from outside are compared by
    `identical`, with guards; two other constants (strings, numbers: made, rebuilt and
    interned differently at run time) are not compared."""
    if a is b:
        return True
    if (isinstance(a, _MUTABLE) or isinstance(b, _MUTABLE)) and (a.source is None or b.source is None):
        return False  # a container made in the frame is none of the values that came in
    ca, cb = a.is_python_constant(), b.is_python_constant()
    x = a.as_python_constant() if ca else _NO_VALUE
    y = b.as_python_constant() if cb else _NO_VALUE
    if isinstance(x, _SINGLETON_TYPES) or isinstance(y, _SINGLETON_TYPES):
        if ca and cb:
            return x is y
        return False  # a singleton is never a tracked non-constant value
    if ca and cb and _differ(x, y):
        return False  # two values of other types, or unequal ones, are two objects
    if isinstance(a, TensorVariable) and isinstance(b, TensorVariable):
        if a.source is None or b.source is None:
            return False  # one was made in the graph: a new tensor
        return None
    if isinstance(a, TensorVariable) != isinstance(b, TensorVariable) and not (ca or cb):
        return False if a.source is None or b.source is None else None
    va, vb = _real(a), _real(b)
    if va is not _NO_VALUE and vb is not _NO_VALUE and not (ca or cb) \
            and _pinned(a) and _pinned(b):
        return va is vb
    return None


def _differ(x, y):
    if type(x) is not type(y):
        return True
    try:
        return x == x and y == y and x != y
    except Exception:  # noqa: BLE001 - no answer: not known to differ
        return False


def _real(v):
    """The real object a tracker stands for, when it holds one (constants, objects, functions)."""
    if v.is_python_constant() and not isinstance(v, (BaseListVariable, DictVariable)):
        return v.as_python_constant()
    value = getattr(v, "value", _NO_VALUE)
    if value is _NO_VALUE:
        value = getattr(v, "fn", _NO_VALUE)
    return value


def _pinned(v):
    """A tracker whose object is fixed for this entry: a class, module or function (guarded
    by identity, or baked into the code), or an object without a source (made or found
    while tracing, used as that object)."""
    if v.source is None:
        return True
    value = _real(v)
    return isinstance(value, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType))
