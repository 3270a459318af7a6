"""Graph: an ordered list of Nodes with unique names.

>>> import fxlite, tensorlite as tl
>>> g = fxlite.Graph()
>>> x = g.placeholder("x")
>>> s = g.call_function(tl.sin, (x,))
>>> _ = g.output(s)
>>> print(g)
graph():
    %x : [num_users=1] = placeholder[target=x]
    %sin : [num_users=1] = call_function[target=tensorlite.sin](args = (%x,), kwargs = {})
    return sin
"""
import builtins
import contextlib
import inspect
import keyword
import re

from . import codegen as _codegen
from .node import _OP_SET, OPS, Node, map_arg

_ILLEGAL = re.compile(r"[^0-9a-zA-Z_]+")
_SUFFIX = re.compile(r"(.*)_(\d+)$")


_SNAKE = {}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(name):
    s = _SNAKE.get(name)
    if s is None:
        s = _CAMEL.sub(r"_\1", name).lower()
        if len(_SNAKE) < 10000:
            _SNAKE[name] = s
    return s


_FN_CANDIDATE = {}  # a called function's __name__ -> its nodes' candidate name
_PLAIN = {}  # candidate -> usable as is when free (an identifier, not illegal, no _N suffix)
_SPLIT = {}  # candidate -> (legal name, base, numeric suffix or None)
_ILLEGAL_NAMES = {}  # name -> a keyword, a builtin or reserved by the generated code
_BUILTINS = builtins.__dict__


class _Namespace:
    """Hands out unique, legal Python identifiers that never shadow builtins or keywords."""

    def __init__(self):
        self._used = set()
        self._base_count = {}

    def create_name(self, candidate):
        plain = _PLAIN.get(candidate)
        if plain is None:
            plain = candidate.isidentifier() and not self._illegal(candidate) \
                and not _SUFFIX.match(candidate)
            if len(_PLAIN) < 10000:
                _PLAIN[candidate] = plain
        if plain and candidate not in self._used:
            self._used.add(candidate)
            return candidate
        split = _SPLIT.get(candidate)
        if split is None:
            c = _ILLEGAL.sub("_", candidate) or "_unnamed"
            if c[0].isdigit():
                c = f"_{c}"
            m = _SUFFIX.match(c)
            split = (c, m.group(1), int(m.group(2))) if m else (c, c, None)
            if len(_SPLIT) < 10000:
                _SPLIT[candidate] = split
        candidate, base, num = split
        used = self._used
        while candidate in used or self._illegal(candidate):
            num = self._base_count.get(base, 0) + 1 if num is None else num + 1
            self._base_count[base] = num
            candidate = f"{base}_{num}"
        used.add(candidate)
        return candidate

    def release(self, name):
        self._used.discard(name)

    @staticmethod
    def _illegal(name):
        r = _ILLEGAL_NAMES.get(name)
        if r is None:
            # hasattr(builtins, name), without raising inside for a missing name (slow):
            # besides its dict, the module only has its type's (dunder) attributes
            r = keyword.iskeyword(name) or name in _BUILTINS or \
                (name[:2] == "__" and hasattr(builtins, name)) or \
                name in ("self", "tl", "operator", "inf", "nan")
            if len(_ILLEGAL_NAMES) < 100000:
                _ILLEGAL_NAMES[name] = r
        return r


def _forward(root):
    """The nodes after root, in order (the next node is taken before yielding: the caller may
    erase the node it is given)."""
    cur = root._next
    while cur is not root:
        nxt = cur._next
        if not cur._erased:
            yield cur
        cur = nxt


def _backward(root):
    cur = root._prev
    while cur is not root:
        nxt = cur._prev
        if not cur._erased:
            yield cur
        cur = nxt


class _NodeList:
    def __init__(self, graph, reverse=False):
        self.graph = graph
        self.reverse = reverse

    def __len__(self):
        return self.graph._len

    def __iter__(self):
        return _backward(self.graph._root) if self.reverse else _forward(self.graph._root)

    def __reversed__(self):
        return iter(_NodeList(self.graph, not self.reverse))

    def __getitem__(self, i):
        return list(self)[i]


class Graph:
    """The IR: placeholders, operations and one output, in program order."""

    def __init__(self, owning_module=None, tracer_cls=None):
        self._root = Node(self, "", "root", "", (), {})
        self._len = 0
        self._namespace = _Namespace()
        self._insert = self._root.prepend
        self.owning_module = owning_module
        self._codegen_cls_name = None

    @property
    def nodes(self):
        return _NodeList(self)

    # ------------------------------------------------------------------ construction
    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        """Insert a new node at the current insertion point (the end by default)."""
        if op not in _OP_SET or op == "root":
            raise ValueError(f"unknown node op {op!r}; expected one of " + ", ".join(OPS[:-1]))
        if name is None:
            name = self._candidate_name(op, target)
        name = self._namespace.create_name(name)
        n = Node(self, name, op, target, args or (), kwargs or {}, type_expr)
        self._insert(n)
        self._len += 1
        return n

    def _candidate_name(self, op, target):
        if op == "call_function":
            nm = getattr(target, "__name__", None) or getattr(target, "name", None) or "fn"
            c = _FN_CANDIDATE.get(nm)
            if c is None:
                c = _snake(nm[2:-2] if nm.startswith("__") and nm.endswith("__") and len(nm) > 4
                           else nm)  # magic methods: __add__ -> add
                if len(_FN_CANDIDATE) < 10000:
                    _FN_CANDIDATE[nm] = c
            return c
        if op == "output":
            return "output"
        if isinstance(target, str):
            return _snake(target.replace(".", "_").replace("*", ""))
        return op

    def placeholder(self, name, type_expr=None, default_value=inspect.Parameter.empty):
        """An input; default_value (when given, None included) becomes the parameter's default."""
        n = self.create_node("placeholder", name, (), {}, name=name, type_expr=type_expr)
        if default_value is not inspect.Parameter.empty:
            n.args = (default_value,)
        return n

    def get_attr(self, qualified_name, type_expr=None):
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_function", the_function, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def output(self, result, type_expr=None):
        return self.create_node("output", "output", (result,), {}, type_expr=type_expr)

    @contextlib.contextmanager
    def inserting_before(self, node=None):
        """New nodes go before node (or at the start when node is None)."""
        prev = self._insert
        self._insert = (node.prepend if node is not None else self._root.append)
        try:
            yield
        finally:
            self._insert = prev

    @contextlib.contextmanager
    def inserting_after(self, node=None):
        """New nodes go after node (each after the previous one), or at the end when None."""
        prev = self._insert
        if node is None:
            self._insert = self._root.prepend
        else:
            anchor = [node]

            def ins(n):
                anchor[0].append(n)
                anchor[0] = n
            self._insert = ins
        try:
            yield
        finally:
            self._insert = prev

    def erase_node(self, to_erase):
        """Remove a node that has no users."""
        if to_erase.users:
            raise RuntimeError(
                f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} users in the graph: "
                f"{list(to_erase.users)}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            return
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        to_erase._update_args_kwargs((), {})
        self._namespace.release(to_erase.name)

    def node_copy(self, node, arg_transform=lambda x: x):
        """Copy node (from any graph) into this one, mapping its input nodes with arg_transform."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        n = self.create_node(node.op, node.target, args, kwargs, name=node.name, type_expr=node.type)
        n.meta = dict(node.meta)
        return n

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copy every node of g into self; val_map maps g's nodes to the copies. Returns the output value."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return (rv, node) if return_output_node else rv
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    # ------------------------------------------------------------------ queries
    def find_nodes(self, *, op, target=None, sort=True):
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    def lint(self):
        """Check the graph's invariants; raise naming the offending node."""
        seen = set()
        names = set()
        outputs = 0
        for n in self.nodes:
            if n.graph is not self:
                raise RuntimeError(f"Node '{n.name}' does not belong to this Graph!")
            if n.name in names:
                raise RuntimeError(f"Node redefined name {n.name}!")
            names.add(n.name)
            for inp in n.all_input_nodes:
                if inp._erased or inp.graph is not self:
                    raise RuntimeError(f"Argument '{inp.name}' of Node '{n.name}' was used before it has been defined! "
                                       f"(it is not in the graph)")
                if inp not in seen:
                    raise RuntimeError(f"Argument '{inp.name}' of Node '{n.name}' was used before it has been defined! "
                                       "Please check that Nodes in the graph are topologically ordered")
                if n not in inp.users:
                    raise RuntimeError(f"Node '{n.name}' uses '{inp.name}' but is not in its users")
            for u in n.users:
                if u._erased or u.graph is not self:
                    raise RuntimeError(f"Node '{n.name}' has a dangling user '{u.name}' that is not in the graph")
                if n not in u._input_nodes:
                    raise RuntimeError(f"Node '{n.name}' lists '{u.name}' as a user, but '{u.name}' does not use it")
            if n.op == "output":
                outputs += 1
            elif outputs:
                raise RuntimeError(f"Node '{n.name}' comes after the output node")
            if n.op in ("get_attr", "call_module") and self.owning_module is not None:
                if not _has_path(self.owning_module, n.target):
                    raise RuntimeError(f"Node '{n.name}' target {n.target} does not reference an attribute of the owning module")
            seen.add(n)
        if outputs > 1:
            raise RuntimeError("Graph has more than one output node")

    def eliminate_dead_code(self, is_impure_node=None):
        """Remove nodes without users that have no side effects. Returns whether anything changed."""
        changed = False
        for n in reversed(self.nodes):
            impure = is_impure_node(n) if is_impure_node is not None else n.is_impure()
            if not impure and not n.users:
                self.erase_node(n)
                changed = True
        return changed

    # ------------------------------------------------------------------ printing / code
    def python_code(self, root_module="self", *, verbose=False, include_stride=False,
                    include_device=False):
        """Generate the Python source of forward (PythonCode with .src and .globals)."""
        return _codegen.python_code(self, root_module, verbose=verbose)

    def __str__(self):
        lines = ["graph():"]
        for n in self.nodes:
            lines.append("    " + n.format_node())
        return "\n".join(lines)

    def print_tabular(self):
        rows = [(n.op, n.name, n._pretty_print_target(), repr(n.args), repr(n.kwargs)) for n in self.nodes]
        header = ("opcode", "name", "target", "args", "kwargs")
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(5)]
        out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
               "  ".join("-" * w for w in widths)]
        for r in rows:
            out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        text = "\n".join(out)
        print(text)
        return text

    def __deepcopy__(self, memo):
        g = Graph(owning_module=None)
        out = g.graph_copy(self, {}, return_output_node=True)
        if out is not None:
            rv, old_out = out
            g.output(rv, type_expr=old_out.type).meta = dict(old_out.meta)
        return g


def _has_path(mod, path):
    obj = mod
    for part in path.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True
