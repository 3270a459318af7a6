"""Python source generation for a Graph: the code that runs is the code you read.

Layout follows torch.fx: one statement per node, `;  a = b = None` after a value's last
use, infix operators, `x.sum()` for methods, `self.lin(x)` for modules, string type
annotations like `"f32[3]"` in verbose mode, and `# File: ...` comments before each group of
nodes that come from the same user source line.
"""
import ast
import builtins
import math
import operator
import re
import struct
import types

import numpy as _np

import tensorlite
from tensorlite._primitive import PRIMITIVES, Primitive

from .node import Node
from .symbolic import SymInt, sym_shape

_BINARY = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
    operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.lshift: "<<",
    operator.rshift: ">>", operator.eq: "==", operator.ne: "!=", operator.lt: "<",
    operator.le: "<=", operator.gt: ">", operator.ge: ">=", operator.is_: "is",
    operator.is_not: "is not", operator.contains: "in",
}
_INPLACE = {
    operator.iadd: "+=", operator.isub: "-=", operator.imul: "*=", operator.itruediv: "/=",
    operator.ifloordiv: "//=", operator.imod: "%=", operator.ipow: "**=", operator.imatmul: "@=",
    operator.iand: "&=", operator.ior: "|=", operator.ixor: "^=",
}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~", operator.not_: "not "}
_isfinite = math.isfinite
_pack_d = struct.Struct("<d").pack

DTYPE_ABBRS = {
    "float16": "f16", "float32": "f32", "float64": "f64", "bfloat16": "bf16", "int8": "i8",
    "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8", "uint16": "u16",
    "uint32": "u32", "uint64": "u64", "bool": "b8", "complex64": "c64", "complex128": "c128",
}

_ILLEGAL = re.compile(r"[^0-9a-zA-Z_]+")


class PythonCode:
    """Generated source (`src`), the globals it names, and `lineno_map`, each node's line in
    src (line -> node name)."""

    def __init__(self, src, globals_, lineno_map=None):
        self.src = src
        self.globals = globals_
        self.lineno_map = lineno_map or {}


def type_annotation(val):
    """The string annotation of a meta value: "f32[2, 3]", "f32[s0, 3]", "b8[]", "Sym(s0)",
    or None."""
    if val is None:
        return None
    if type(val) is SymInt:
        return f"Sym({val.expr})"
    shape = sym_shape(val) or getattr(val, "shape", None)
    dtype = getattr(val, "dtype", None)
    if shape is None or dtype is None:
        return None
    name = getattr(dtype, "name", None) or str(dtype)
    abbr = DTYPE_ABBRS.get(name, name)
    return f"{abbr}[{', '.join(str(s) for s in shape)}]"


def munge(qualified):
    """A callable without an importable name prints as its munged qualified name."""
    return _ILLEGAL.sub("_", qualified.replace(".", "_"))


class _Globals:
    def __init__(self):
        self.g = {"tl": tensorlite, "operator": operator, "inf": math.inf, "nan": math.nan,
                  "__builtins__": builtins}
        self._by_id = {}

    def name_for(self, obj):
        """An expression naming obj in the generated module (importable name or a munged global)."""
        key = id(obj)
        if key in self._by_id:
            return self._by_id[key]
        name = _importable_name(obj)
        if name is None:
            qual = _qualified_name(obj)
            base = munge(qual)
            name = base
            i = 1
            while name in self.g and self.g[name] is not obj:
                name = f"{base}_{i}"
                i += 1
            self.g[name] = obj
        self._by_id[key] = name
        return name


def _qualified_name(obj):
    if isinstance(obj, Primitive):
        return f"tensorlite.ops.{obj.name}"
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qual is None:
        qual = type(obj).__qualname__
        mod = type(obj).__module__
    if mod in (None, "builtins"):
        return qual
    if mod == "_operator":
        mod = "operator"
    return f"{mod}.{qual}"


def _importable_name(obj):
    if isinstance(obj, Primitive):
        return f"tl.ops.{obj.name}" if PRIMITIVES.get(obj.name) is obj else None
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if mod == "builtins" and qual and getattr(builtins, qual, None) is obj:
        return qual
    if mod in ("_operator", "operator") and getattr(operator, qual or "", None) is obj:
        return f"operator.{qual}"
    if mod and mod.startswith("tensorlite") and qual and "<" not in qual:
        import importlib
        try:
            target = importlib.import_module(mod)
            for part in qual.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError):
            return None
        if target is obj:
            # prefer the shortest public path: tl.sin rather than tl._functions.sin
            short = getattr(tensorlite, qual, None) if "." not in qual else None
            if short is obj:
                return f"tl.{qual}"
            return "tl." + mod[len("tensorlite."):] + "." + qual if mod != "tensorlite" else f"tl.{qual}"
    return None


_LITERAL_INT_BITS = 2000  # ints of at most ~600 digits print under any int-str digit limit (>= 640)


def literal(v):
    """Source text that evaluates to exactly v (its type, its value, the sign of a zero), or
    None when v has none: only exact types whose repr round-trips are written out (a finite
    float, an int that prints under any digit limit, str, bytes, bool, None, Ellipsis, a
    complex whose repr reads back bit for bit, a tuple of these). Subclasses (IntFlag
    members, numpy scalars), inf, nan, -0j and huge ints are bound by name instead."""
    t = type(v)
    if t is int:
        return repr(v) if v.bit_length() <= _LITERAL_INT_BITS else None
    if t is float:
        return repr(v) if _isfinite(v) else None
    if t is str or t is bytes or t is bool or v is None:
        return repr(v)
    if v is Ellipsis:
        return "..."
    if t is complex:
        if not (_isfinite(v.real) and _isfinite(v.imag)):
            return None
        r = repr(v)
        try:
            back = ast.literal_eval(r)
        except (ValueError, SyntaxError):
            return None
        return r if type(back) is complex and repr(back) == r else None
    if t is tuple:
        items = [literal(x) for x in v]
        if None in items:
            return None
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    return None


_pack_dd = struct.Struct("<dd").pack
_PLAIN = (int, str, bytes)  # exact types whose == is sameness of behaviour


def same(a, b):
    """Whether constant a behaves exactly as b. They must have the same exact type and the
    same value. Floats and complex numbers compare by bits, so signed zeros and nan payloads
    differ. Tuples, frozensets, slices and ranges compare element by element, numpy scalars by
    their bytes, and everything else by identity. `==` is coarser than behaviour:
    0.0 == -0.0 and 1 == 1.0 == True.

    >>> same(0.0, -0.0), same(1, 1.0), same(1, True), same((1, 2.5), (1, 2.5))
    (False, False, False, True)
    """
    t = type(a)
    if t is not type(b):
        return False
    if t in _PLAIN:
        return a == b
    if t is float:
        return _pack_d(a) == _pack_d(b)
    if t is complex:
        return _pack_dd(a.real, a.imag) == _pack_dd(b.real, b.imag)
    if t is tuple:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if t is range or t is slice:
        return same((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if t is frozenset:
        if len(a) != len(b) or a != b:
            return False
        mine = {x: x for x in b}
        try:
            return all(same(x, mine[x]) for x in a)
        except KeyError:  # nan: equal sets, but no element of b equals it
            return False
    if isinstance(a, _np.generic):  # exact type, same bytes (np.float64(-0.0) is not 0.0)
        return a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, _np.dtype):
        return a == b and a.str == b.str and a.descr == b.descr
    return a is b


class _Identity:
    """A dict key for an object that is equal only to itself (the object is kept alive, so its
    id stays its own)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return type(other) is _Identity and other.obj is self.obj

    def __repr__(self):
        return f"<identity of {type(self.obj).__name__} at {id(self.obj):#x}>"


def same_key(v):
    """A hashable key with same_key(a) == same_key(b) only when same(a, b). Use it for dicts of
    constants: a plain `v` key merges 0.0 with -0.0 and 1 with 1.0 and True, because their
    hashes and == agree. Frozensets, dtypes and other objects are keyed by identity, which
    is stricter than same() (a cache keyed this way only misses more often).

    >>> same_key(0.0) == same_key(-0.0), same_key(1) == same_key(True), same_key((2, 0.5)) == same_key((2, 0.5))
    (False, False, True)
    """
    t = type(v)
    if t in _PLAIN or t is bool or v is None:
        return (t, v)
    if t is float:
        return (t, _pack_d(v))
    if t is complex:
        return (t, _pack_dd(v.real, v.imag))
    if t is tuple:
        return (t, tuple(same_key(x) for x in v))
    if t is range or t is slice:
        return (t, same_key((v.start, v.stop, v.step)))
    if isinstance(v, _np.generic) and v.dtype.kind in "biufcmM":
        return (t, v.dtype.str, v.tobytes())
    return _Identity(v)


def primary(text):
    """text as an operand that binds tighter than any operator (`(-2.0) ** x`, `(5).real`):
    a negative or numeric literal is parenthesized."""
    if text[:1] == "-" or text[:1].isdigit():
        return f"({text})"
    return text


def _bind(a, gl):
    """A global naming constant a in the generated module."""
    for k, v in gl.g.items():
        if v is a and k.startswith("_const_"):
            return k
    name = f"_const_{len(gl.g)}"
    while name in gl.g:
        name += "_"
    gl.g[name] = a
    return name


def _repr_arg(a, gl):
    if isinstance(a, Node):
        return a.name
    t = type(a)
    if t is float:  # the common constant
        if _isfinite(a):
            return repr(a)
        if math.isinf(a):  # torch.fx prints these, with inf and nan among its globals
            return "inf" if a > 0 else "-inf"
        if _same_float(a, math.nan):
            return "nan"
        return _bind(a, gl)
    if isinstance(a, tuple):
        if hasattr(a, "_fields"):
            return gl.name_for(t) + "(" + ", ".join(_repr_arg(x, gl) for x in a) + ")"
        if t is not tuple:
            return _bind(a, gl)
        inner = ", ".join(_repr_arg(x, gl) for x in a)
        return f"({inner},)" if len(a) == 1 else f"({inner})"
    if t is list:
        return "[" + ", ".join(_repr_arg(x, gl) for x in a) + "]"
    if t is dict:
        return "{" + ", ".join(f"{_repr_arg(k, gl)}: {_repr_arg(v, gl)}" for k, v in a.items()) + "}"
    if t is slice:
        return f"slice({_repr_arg(a.start, gl)}, {_repr_arg(a.stop, gl)}, {_repr_arg(a.step, gl)})"
    text = literal(a)
    if text is not None:
        return text
    from tensorlite._dtype import dtype as tl_dtype
    if t is tl_dtype:
        return f"tl.{a.name}"
    if isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)) or callable(a):
        return gl.name_for(a)
    return _bind(a, gl)


def _same_float(a, b):
    return _pack_d(a) == _pack_d(b)


def _attr_path(root, target):
    out = root
    for part in target.split("."):
        out = f"{out}.{part}" if part.isidentifier() else f'getattr({out}, "{part}")'
    return out


def _call_args(args, kwargs, gl):
    parts = [_repr_arg(a, gl) for a in args]
    parts += [f"{k} = {_repr_arg(v, gl)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _expr(node, root, gl):
    op, t, args, kwargs = node.op, node.target, node._args, node._kwargs
    if op == "call_function":
        if t in _BINARY and len(args) == 2 and not kwargs:
            sym = _BINARY[t]
            if t is operator.contains:
                return f"{_repr_arg(args[1], gl)} in {_repr_arg(args[0], gl)}"
            lhs = _repr_arg(args[0], gl)
            return f"{primary(lhs) if sym == '**' else lhs} {sym} {_repr_arg(args[1], gl)}"
        if t in _UNARY and len(args) == 1 and not kwargs:
            return f"{_UNARY[t]}{_repr_arg(args[0], gl)}"
        if t is operator.getitem and len(args) == 2 and not kwargs:
            return f"{primary(_repr_arg(args[0], gl))}[{_repr_arg(args[1], gl)}]"
        if t is builtins.getattr and len(args) == 2 and isinstance(args[1], str) and args[1].isidentifier():
            return f"{primary(_repr_arg(args[0], gl))}.{args[1]}"
        return f"{gl.name_for(t)}({_call_args(args, kwargs, gl)})"
    if op == "call_method":
        if len(args) == 1 and not kwargs:
            return f"{primary(_repr_arg(args[0], gl))}.{t}()"
        return f"{primary(_repr_arg(args[0], gl))}.{t}({_call_args(args[1:], kwargs, gl)})"
    if op == "call_module":
        return f"{_attr_path(root, t)}({_call_args(args, kwargs, gl)})"
    if op == "get_attr":
        return _attr_path(root, t)
    raise ValueError(f"no expression for node op {op}")


_FRAME_LINE = re.compile(r'\s*File "(.+)", line (\d+), in (.+)')


class StackTrace(str):
    """The text of a stack trace that also knows its innermost frame (file, line, function,
    code), so that generating code need not parse the text back (tracers make one per node).

    >>> st = StackTrace('  File "f.py", line 3, in g\\n    y = x + 1\\n', ("f.py", 3, "g", "y = x + 1"))
    >>> parse_stack_trace(st)
    ('f.py', 3, 'g', 'y = x + 1')
    """

    def __new__(cls, text, innermost):
        self = super().__new__(cls, text)
        self.innermost = innermost
        return self

    def __reduce__(self):  # pickles (and copies) as the plain text
        return str, (str(self),)


def parse_stack_trace(st):
    """(file, line, fn, code) of the innermost frame of a stored stack trace, or None."""
    if not st:
        return None
    if type(st) is StackTrace:
        return st.innermost
    i = st.rfind('File "')
    while i != -1:  # from the end: the last line that is a frame line
        start = st.rfind("\n", 0, i) + 1
        end = st.find("\n", i)
        m = _FRAME_LINE.match(st[start:end] if end != -1 else st[start:])
        if m:
            code = st[end + 1:].split("\n", 1)[0].strip() if end != -1 else ""
            return m.group(1), int(m.group(2)), m.group(3), code
        i = st.rfind('File "', 0, start)
    return None


def python_code(graph, root_module="self", *, verbose=False):
    """The source of `forward` for graph: one line per node, in torch.fx's layout."""
    gl = _Globals()
    nodes = list(graph.nodes)
    last_uses = _last_uses(nodes)
    params = [root_module]
    lines = []  # the body's lines, indented ("" for a blank line); lines[k] is line k + 2 of src
    lineno_map = {}
    prev_trace = None
    pending_blank = False  # a blank line separates placeholder renames from the body
    has_output = False
    for node in nodes:
        op = node.op
        if op == "placeholder":
            params.append(_parameter(node, gl, verbose))
            local = node.target.replace("*", "")
            if node.name != local:
                lines.append(f"    {node.name} = {local}")
                pending_blank = True
            continue
        if op != "output":
            st = node.meta.get("stack_trace")
            if st != prev_trace:
                prev_trace = st
                if _trace_comment(lines, st, verbose):
                    pending_blank = False  # the comment's own blank line separates the renames
        if pending_blank:
            lines.append("")
            pending_blank = False
        lineno_map[len(lines) + 2] = node.name
        if op == "output":
            has_output = True
            lines.append(f"    return {_repr_arg(node.args[0], gl)}")
        else:
            lines.append(_statement(node, root_module, gl, verbose, last_uses.get(node, ())))
    if not has_output:
        lines.append("    return None")
    src = f"def forward({', '.join(params)}):\n" + "\n".join(lines) + "\n"
    return PythonCode(src, gl.g, lineno_map)


def _last_uses(nodes):
    """node -> the names of the values whose last use it is (set to None on its line)."""
    last_uses = {}
    seen = set()
    for node in reversed(nodes):
        for inp in node._input_nodes:  # first occurrences, in argument order
            if inp not in seen:
                seen.add(inp)
                last_uses.setdefault(node, []).append(inp.name)
    return last_uses


def _parameter(node, gl, verbose):
    """A placeholder's parameter in forward's signature."""
    if verbose:
        ann = type_annotation(node.meta.get("val"))
        if ann is not None:
            return f'{node.target}: "{ann}"'
        if node.type is not None:
            return f"{node.target} : {getattr(node.type, '__name__', str(node.type))}"
    return node.target + (f"={_repr_arg(node.args[0], gl)}" if node.args else "")


def _trace_comment(lines, st, verbose):
    """Append the comment that starts a new group of nodes (those of user source line st);
    True when it was a `# File:` comment, which comes with its own blank line."""
    parsed = parse_stack_trace(st)
    if parsed:
        f, ln, fn, code = parsed
        if lines:
            lines.append("")
        lines.append(f"    # File: {f}:{ln} in {fn}, code: {code}")
        return True
    if st is None and verbose and lines and any(not b.startswith("    #") for b in lines):
        lines += ("", "    # No stacktrace found for following nodes")
    return False


def _statement(node, root, gl, verbose, dead):
    """A node's line: `name = expression`, then `;  a = b = None` for the values that die there
    (dead, and the node's own value when nothing uses it)."""
    lhs = node.name
    if verbose:
        ann = type_annotation(node.meta.get("val"))
        if ann is not None:
            lhs = f'{lhs}: "{ann}"'
    if node.op == "call_function" and node.target in _INPLACE and len(node.args) == 2:
        target = _repr_arg(node.args[0], gl)
        stmt = f"{target} {_INPLACE[node.target]} {_repr_arg(node.args[1], gl)};  {lhs} = {target}"
    else:
        stmt = f"{lhs} = {_expr(node, root, gl)}"
    if not node.users:
        dead = [*dead, node.name]
    if dead:
        return f"    {stmt};  {' = '.join(dead)} = None"
    return "    " + stmt
