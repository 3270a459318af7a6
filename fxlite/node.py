"""Node: one instruction of a Graph.

A node has an `op` (one of placeholder, get_attr, call_function, call_method, call_module,
output), a `target`, `args`/`kwargs` that may contain other nodes, and `users`. Setting
`args`/`kwargs` keeps every node's `users` up to date.

>>> import fxlite, operator
>>> g = fxlite.Graph()
>>> x = g.placeholder("x")
>>> y = g.call_function(operator.add, (x, 1))
>>> list(x.users) == [y]
True
"""
from .marks import call_is_impure

OPS = ("placeholder", "get_attr", "call_function", "call_method", "call_module", "output", "root")
_OP_SET = frozenset(OPS)
_STRING_TARGET_OPS = frozenset(("call_method", "call_module", "get_attr", "placeholder"))


_LEAF_TYPES = (int, float, bool, str, type(None))


def map_aggregate(a, fn):
    """Apply fn to every leaf of a nested tuple/list/dict/slice structure."""
    t = type(a)
    if t is tuple:
        return tuple([map_aggregate(e, fn) for e in a])
    if t in _LEAF_TYPES:
        return fn(a)
    if isinstance(a, tuple):
        t = tuple([map_aggregate(e, fn) for e in a])
        return type(a)(*t) if hasattr(a, "_fields") else t
    if isinstance(a, list):
        return [map_aggregate(e, fn) for e in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """Apply fn to every Node inside a nested argument structure."""
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


class Node:
    """One operation in a Graph (see module docstring)."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op not in _OP_SET:
            raise ValueError(
                f"unknown node op {op!r} for node {name!r}; expected one of "
                + ", ".join(OPS[:-1]))
        if op == "call_function" and not callable(target):
            raise ValueError(f"Node {name!r}: call_function target {target!r} is not callable")
        if op in _STRING_TARGET_OPS and not isinstance(target, str):
            raise ValueError(f"Node {name!r}: {op} target must be a string, got {target!r}")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self._input_nodes = {}
        self.users = {}
        self.type = return_type
        self.meta = {}
        self._prev = self
        self._next = self
        self._erased = False
        if args.__class__ is tuple and not kwargs:  # the usual new node: flat arguments
            for a in args:
                t = type(a)
                if t is Node:
                    self._input_nodes[a] = None
                elif t not in _LEAF_TYPES:
                    break
            else:
                self._args = args
                self._kwargs = {}
                for n in self._input_nodes:
                    n.users[self] = None
                return
            self._input_nodes = {}
        self._args = ()
        self._kwargs = {}
        self._update_args_kwargs(args, kwargs)

    # ------------------------------------------------------------------ args / users
    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, a):
        self._update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k):
        self._update_args_kwargs(self._args, k)

    def _update_args_kwargs(self, args, kwargs):
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._input_nodes = inputs = {}
        args = tuple(args)
        for a in args:  # flat args (nodes and scalars) are their own inputs: no map_arg needed
            t = type(a)
            if t is Node:
                inputs.setdefault(a, None)
            elif t not in _LEAF_TYPES:
                inputs.clear()
                args = map_arg(args, self._register_input)
                break
        self._args = args
        self._kwargs = map_arg(dict(kwargs), self._register_input) if kwargs else {}
        for n in inputs:
            n.users.setdefault(self, None)

    def _register_input(self, n):
        self._input_nodes.setdefault(n, None)
        return n

    @property
    def all_input_nodes(self):
        return list(self._input_nodes)

    def update_arg(self, idx, arg):
        args = list(self._args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx, arg):
        args = list(self._args)
        args.insert(idx, arg)
        self.args = tuple(args)

    def update_kwarg(self, key, arg):
        kw = dict(self._kwargs)
        kw[key] = arg
        self.kwargs = kw

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True):
        """Point every user of self at replace_with; returns the users changed."""
        changed = []
        for user in list(self.users):
            if not delete_user_cb(user):
                continue
            user.replace_input_with(self, replace_with)
            changed.append(user)
        return changed

    def replace_input_with(self, old, new):
        def swap(n):
            return new if n is old else n
        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    # ------------------------------------------------------------------ list position
    @property
    def next(self):
        return self._next

    @property
    def prev(self):
        return self._prev

    def prepend(self, x):
        """Move node x to just before self."""
        if x is self:
            return
        if x._next is not x:  # a new node links to itself: nothing to unlink
            x._remove_from_list()
        p = self._prev
        p._next, x._prev, x._next, self._prev = x, p, self, x

    def append(self, x):
        """Move node x to just after self."""
        self._next.prepend(x)

    def _remove_from_list(self):
        p, n = self._prev, self._next
        p._next, n._prev = n, p
        self._prev = self._next = self

    # ------------------------------------------------------------------ misc
    @property
    def stack_trace(self):
        return self.meta.get("stack_trace")

    @stack_trace.setter
    def stack_trace(self, v):
        self.meta["stack_trace"] = v

    def is_impure(self):
        """Whether this node must stay even when unused (see fxlite.marks.call_is_impure)."""
        return call_is_impure(self.op, self.target)

    def format_node(self):
        """One line of Graph.__str__."""
        if self.op == "placeholder":
            return f"%{self.name} : [num_users={len(self.users)}] = placeholder[target={self.target}]"
        if self.op == "output":
            return f"return {self.args[0]}"
        if self.op == "get_attr":
            return f"%{self.name} : [num_users={len(self.users)}] = get_attr[target={self.target}]"
        tgt = _target_str(self.target) if self.op == "call_function" else self.target
        kw = "{" + ", ".join(f"{k}: {_fmt_str(v)}" for k, v in self._kwargs.items()) + "}"
        return (f"%{self.name} : [num_users={len(self.users)}] = {self.op}[target={tgt}]"
                f"(args = {_fmt_str(self._args)}, kwargs = {kw})")

    def __repr__(self):
        return self.name

    def _pretty_print_target(self):
        return _target_str(self.target) if self.op == "call_function" else str(self.target)


def _target_str(t):
    from tensorlite._primitive import Primitive
    if isinstance(t, Primitive):
        return f"tensorlite.ops.{t.name}"
    mod = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or repr(t)
    if mod in ("_operator", "operator"):
        return f"operator.{name}"
    if mod == "builtins":
        return name
    if mod and mod.startswith("tensorlite"):
        return f"{mod}.{name}" if mod != "tensorlite" else f"tensorlite.{name}"
    if mod is None and hasattr(t, "name"):
        return repr(t)
    return f"{mod}.{name}" if mod else name


def _fmt_str(a):
    if isinstance(a, Node):
        return f"%{a.name}"
    if isinstance(a, tuple):
        inner = ", ".join(_fmt_str(x) for x in a)
        return f"({inner},)" if len(a) == 1 else f"({inner})"
    if isinstance(a, list):
        return "[" + ", ".join(_fmt_str(x) for x in a) + "]"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k}: {_fmt_str(v)}" for k, v in a.items()) + "}"
    return repr(a)

