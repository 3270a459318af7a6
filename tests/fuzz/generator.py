"""A program generator: random Python functions over tensorlite, written as source text.

The generator is written against a tiny drawing interface (`integers`, `choice`, `boolean`),
with two implementations: `HypothesisDraw` (a hypothesis `draw`, so failing programs shrink)
and `RandomDraw` (a seeded `random.Random`, fast, for long time-boxed runs). `programs()` is the
hypothesis strategy.

A program is a self-contained module source that defines:

* `f`: the function under test (top level, or a closure made by `make_main()`), which may call
  generated helpers, read globals / closure cells / attributes, mutate a global state object,
  an input list and an input object, register tensor hooks, print, break the graph, branch on
  data, loop, use containers, run under `tl.no_grad()`, and do in-place ops;
* `make_args(call)`: fresh, deterministic arguments for the call-th call;
* `LOG`, `STATE`: Python state the harness compares after each call;
* `MUTATIONS`: source snippets, each changing one thing `f` depends on (for guard fuzzing),
  run by the harness with `args` (the next call's arguments) bound.

With a small probability a top-level statement of f is a Python-side one (tests/fuzz/pyside.py:
user __eq__/__hash__, dataclasses, enums, shared iterators, dict views, raising computations,
positional-only helpers, properties, recursion, numpy scalars and float specials, graph breaks
inside try). A program with one also has `py` (a list f returns last), extra parameters after
`n` (`m`, `color`, `it`, `pt`, those it uses), and `WATCH`: the globals the harness compares.
"""
import random

import numpy as np

from .pyside import PySide

# ----------------------------------------------------------------------------- drawing


class RandomDraw:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def integers(self, lo, hi):
        return self.r.randint(lo, hi)

    def choice(self, seq):
        return seq[self.r.randrange(len(seq))]

    def boolean(self, p=0.5):
        return self.r.random() < p


class HypothesisDraw:
    def __init__(self, draw):
        from hypothesis import strategies as st
        self.draw = draw
        self.st = st

    def integers(self, lo, hi):
        return self.draw(self.st.integers(lo, hi))

    def choice(self, seq):
        return seq[self.draw(self.st.integers(0, len(seq) - 1))]

    def boolean(self, p=0.5):
        # weighted: 0 (False) shrinks first
        return self.draw(self.st.integers(0, 999)) >= int(1000 * (1 - p))


def programs(**kw):
    """The hypothesis strategy of programs."""
    from hypothesis import strategies as st

    @st.composite
    def _programs(draw):
        return generate(HypothesisDraw(draw), **kw)
    return _programs()


# ----------------------------------------------------------------------------- shapes


def broadcast(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


class Var:
    def __init__(self, name, shape, rg, dtype="f", leaf=False):
        self.name = name
        self.shape = tuple(shape)
        self.rg = rg  # requires grad
        self.dtype = dtype  # "f" float32, "b" bool, "i" int64
        self.leaf = leaf


UNARY = [
    "tl.sin({a})", "{a}.cos()", "{a}.tanh()", "tl.sigmoid({a})", "{a}.relu()", "{a}.abs()", "-{a}",
    "({a}.abs() + 1).log()", "({a} * {a} + 1).sqrt()", "{a}.clamp(-1.0, 1.0)", "{a} ** 2",
    "{a}.exp().clamp(max=20.0)", "tl.tanh({a}) * 3", "{a}.clone()", "{a} * 0.5", "2.0 - {a}",
    "tl.clamp({a}, min=-0.5)", "({a} * {a} + 0.1).rsqrt()", "{a}.pow(3)", "tl.relu({a}) + 1",
]
BINARY = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b}.abs() + 1)", "tl.maximum({a}, {b})",
    "tl.minimum({a}, {b})", "tl.where({a} > {b}, {a}, {b})", "tl.add({a}, {b})", "{a}.mul({b})",
    "tl.where({b} > 0, {a}, {b} * 2)", "{a}.sub({b})",
]
# the chance that a top-level statement of f is a Python-side one (pyside.KINDS)
PY_STMT_P = 0.12
SCALARS = ["2.5", "0.5", "3", "-1", "G_S", "G_K", "k", "obj.scale", "STATE.scale", "n", "len(lst)"]


class Gen:
    """Builds one program."""

    def __init__(self, d, *, allow_breaks=True, allow_errors=True, max_stmts=10, guard_mode=False):
        self.d = d
        self.allow_breaks = allow_breaks
        self.allow_errors = allow_errors
        self.max_stmts = max_stmts
        self.guard_mode = guard_mode
        self.counter = 0
        self.features = set()
        self.helpers = []
        self.uses = set()  # names of things f reads (for mutations)
        self.py = PySide(self)  # the Python-side statements (tests/fuzz/pyside.py)

    def fresh(self, prefix="t"):
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- picking operands ---------------------------------------------------------------
    def floats(self, env):
        return [v for v in env if v.dtype == "f"]

    def pick(self, env):
        return self.d.choice(self.floats(env))

    def pick_compatible(self, env, a, same_shape=False):
        cands = []
        for v in self.floats(env):
            s = broadcast(a.shape, v.shape)
            if s is not None and (not same_shape or s == a.shape):
                cands.append(v)
        if not cands:
            return None
        return self.d.choice(cands)

    def scalar(self):
        s = self.d.choice(SCALARS)
        self.uses.add(s)
        return s

    # -- expressions: return (code, shape, rg, dtype) -------------------------------------
    def expr(self, env, depth=0, grad=True):
        d = self.d
        a = self.pick(env)
        kind = d.integers(0, 15)
        if depth < 1 and d.boolean(0.3):
            # nested expression
            code, shape, rg, dt = self.expr(env, depth + 1, grad)
            a = Var("(" + code + ")", shape, rg, dt)
        if kind <= 3:
            return d.choice(UNARY).format(a=a.name), a.shape, a.rg and grad, "f"
        if kind <= 7:
            b = self.pick_compatible(env, a)
            if b is None or (self.allow_errors and d.boolean(0.01)):
                b = self.pick(env)  # may not broadcast: both sides must raise alike
            s = broadcast(a.shape, b.shape)
            if s is None:
                self.features.add("error")
                s = a.shape
            return d.choice(BINARY).format(a=a.name, b=b.name), s, (a.rg or b.rg) and grad, "f"
        if kind <= 8:
            sc = self.scalar()
            op = d.choice(["{a} + {s}", "{a} * {s}", "{s} - {a}", "{a} / ({s} + 10)", "{s} * {a} + 1"])
            return op.format(a=a.name, s=sc), a.shape, a.rg and grad, "f"
        if kind <= 10:
            return self.reduction(a, grad)
        if kind <= 12:
            return self.reshape(a, env, grad)
        if kind == 13:
            return self.index(a, grad)
        if kind == 14 and self.helpers:
            h = d.choice(self.helpers)
            b = self.pick_compatible(env, a)
            if b is not None:
                self.features.add("helper")
                name, fn_shape = h
                s = fn_shape(a.shape, b.shape)
                if s is not None:
                    return f"{name}({a.name}, {b.name})", s, (a.rg or b.rg) and grad, "f"
        if kind == 15 and len(a.shape) >= 1:
            b = self.pick_compatible(env, a, same_shape=True)
            if b is not None and b.shape == a.shape:
                dim = d.integers(0, len(a.shape) - 1)
                if d.boolean():
                    s = list(a.shape)
                    s[dim] *= 2
                    return f"tl.cat([{a.name}, {b.name}], dim={dim})", tuple(s), (a.rg or b.rg) and grad, "f"
                s = list(a.shape)
                s.insert(dim, 2)
                return f"tl.stack([{a.name}, {b.name}], dim={dim})", tuple(s), (a.rg or b.rg) and grad, "f"
        return d.choice(UNARY).format(a=a.name), a.shape, a.rg and grad, "f"

    def reduction(self, a, grad):
        d = self.d
        nd = len(a.shape)
        if nd == 0 or d.boolean(0.2):
            fn = d.choice(["sum", "mean", "amax"] if nd else ["sum", "mean"])
            return f"{a.name}.{fn}()", (), a.rg and grad, "f"
        dim = d.integers(-nd, nd - 1)
        keep = d.boolean()
        fn = d.choice(["sum", "mean", "amax", "amin", "softmax", "log_softmax", "var"])
        if fn in ("softmax", "log_softmax"):
            return f"{a.name}.{fn}({dim})", a.shape, a.rg and grad, "f"
        if fn == "var" and a.shape[dim] < 2:
            fn = "sum"
        s = list(a.shape)
        if keep:
            s[dim] = 1
        else:
            del s[dim]
        kd = ", keepdim=True" if keep else ""
        if d.boolean(0.3) and fn in ("sum", "mean", "amax"):
            return f"tl.{fn}({a.name}, dim={dim}{kd})", tuple(s), a.rg and grad, "f"
        return f"{a.name}.{fn}({dim}{kd})", tuple(s), a.rg and grad, "f"

    def reshape(self, a, env, grad):
        d = self.d
        nd = len(a.shape)
        rg = a.rg and grad
        c = d.integers(0, 6)
        if c == 0 and nd == 2:
            return f"{a.name}.t()", a.shape[::-1], rg, "f"
        if c == 1 and nd >= 2:
            return f"{a.name}.transpose(0, 1)", (a.shape[1], a.shape[0]) + a.shape[2:], rg, "f"
        if c == 2:
            n = int(np.prod(a.shape)) if a.shape else 1
            return f"{a.name}.reshape(-1)", (n,), rg, "f"
        if c == 3 and nd < 3:
            dim = d.integers(0, nd)
            s = list(a.shape)
            s.insert(dim, 1)
            return f"{a.name}.unsqueeze({dim})", tuple(s), rg, "f"
        if c == 4 and nd == 2:
            # a matmul with something of matching inner size
            for b in self.floats(env):
                if len(b.shape) == 2 and b.shape[0] == a.shape[1]:
                    return f"{a.name} @ {b.name}", (a.shape[0], b.shape[1]), (a.rg or b.rg) and grad, "f"
                if len(b.shape) == 2 and b.shape[1] == a.shape[1]:
                    return f"tl.matmul({a.name}, {b.name}.t())", (a.shape[0], b.shape[0]), (a.rg or b.rg) and grad, "f"
        if c == 5 and 1 in a.shape:
            s = tuple(x for x in a.shape if x != 1)
            return f"{a.name}.squeeze()", s, rg, "f"
        if c == 6 and nd >= 1:
            s = (3,) + a.shape[1:] if a.shape[0] == 1 else None
            if s is not None:
                return f"{a.name}.expand({', '.join(map(str, s))})", s, rg, "f"
        return f"{a.name}.flatten()", (int(np.prod(a.shape)) if a.shape else 1,), rg, "f"

    def index(self, a, grad):
        d = self.d
        nd = len(a.shape)
        rg = a.rg and grad
        if nd == 0:
            return f"{a.name}[None]", (1,), rg, "f"
        c = d.integers(0, 5)
        if c == 0:
            i = d.integers(-a.shape[0], a.shape[0] - 1)
            return f"{a.name}[{i}]", a.shape[1:], rg, "f"
        if c == 1:
            n = a.shape[-1]
            lo = d.integers(0, n - 1)
            s = a.shape[:-1] + (n - lo,)
            return f"{a.name}[..., {lo}:]", s, rg, "f"
        if c == 2:
            return f"{a.name}[None]", (1,) + a.shape, rg, "f"
        if c == 3 and nd >= 2:
            n = a.shape[1]
            return f"{a.name}[:, ::2]", (a.shape[0], (n + 1) // 2) + a.shape[2:], rg, "f"
        if c == 4:
            self.features.add("bool_index")
            return f"{a.name}[{a.name} > 0].sum()", (), rg, "f"
        if c == 5 and a.shape[0] >= 2:
            return f"{a.name}[[0, -1]]", (2,) + a.shape[1:], rg, "f"
        return f"{a.name}[0:1]", (min(1, a.shape[0]),) + a.shape[1:], rg, "f"

    # -- statements --------------------------------------------------------------------
    def assign(self, env, lines, ind, grad):
        code, shape, rg, dt = self.expr(env, grad=grad)
        v = Var(self.fresh(), shape, rg, dt)
        lines.append(ind + f"{v.name} = {code}")
        env.append(v)
        return v

    def update(self, env, v, grad):
        """A shape-preserving rebinding of v (usable in both arms of a branch, in loops)."""
        d = self.d
        c = d.integers(0, 3)
        if c == 0:
            return f"{v.name} = " + d.choice(UNARY).format(a=v.name)
        if c == 1:
            b = self.pick_compatible(env, v, same_shape=True)
            if b is not None and broadcast(v.shape, b.shape) == v.shape:
                return f"{v.name} = " + d.choice(BINARY).format(a=v.name, b=b.name)
        if c == 2:
            return f"{v.name} = {v.name} * {self.scalar()}"
        return f"{v.name} = {v.name} + {self.scalar()}"

    def stmt(self, env, lines, ind, grad, depth):
        d = self.d
        if depth == 0 and grad and d.boolean(PY_STMT_P):
            self.py.stmt(env, lines, ind)
            return
        k = d.integers(0, 29)
        fl = self.floats(env)
        # intermediates rebound by updates keep their Var (shape preserved); rg may change
        # only towards True when mixing, which we track conservatively by OR below
        if k <= 9 or depth > 1:
            self.assign(env, lines, ind, grad)
            return
        if k == 10:  # in-place op on an intermediate, or on an input that needs no grad
            cands = [v for v in fl if not v.leaf or not v.rg]
            if cands:
                v = d.choice(cands)
                self.features.add("inplace")
                b = self.pick_compatible(env, v, same_shape=True)
                if b is not None and broadcast(v.shape, b.shape) == v.shape and d.boolean():
                    lines.append(ind + f"{v.name}.{d.choice(['add_', 'mul_', 'sub_'])}({b.name})")
                    v.rg = v.rg or (b.rg and grad)
                else:
                    lines.append(ind + f"{v.name}.{d.choice(['add_(1.5)', 'mul_(0.5)', 'clamp_(-1, 1)', 'zero_()', 'fill_(2.0)'])}")
                return
        if k == 11 and fl:  # setitem
            v = d.choice([v for v in fl if not v.leaf] or [None])
            if v is not None and v.shape:
                self.features.add("setitem")
                val = d.choice(["0.0", "1.5", "k"])
                self.uses.add(val)
                lines.append(ind + f"{v.name}[0] = {val}")
                return
        if k == 12:  # branch on shapes / constants / globals / closure / attributes
            v = self.pick(env)
            cond = d.choice([
                f"{v.name}.shape[0] > 2" if v.shape else f"{v.name}.dim() == 0",
                f"{v.name}.dim() == {len(v.shape)}", "G_K > 2", "k % 2 == 0", "obj.flag",
                "STATE.count > 1", "len(lst) > 1", f"{v.name}.requires_grad", "n > 3",
                "tl.is_grad_enabled()", "isinstance(obj.scale, float)", "'key' in cfg",
            ])
            for u in ("G_K", "k", "obj.flag", "STATE.count", "len(lst)", "n", "cfg", "obj.scale"):
                if u in cond:
                    self.uses.add(u)
            self.features.add("branch")
            lines.append(ind + f"if {cond}:")
            lines.append(ind + "    " + self.update(env, v, grad))
            if d.boolean():
                lines.append(ind + "else:")
                lines.append(ind + "    " + self.update(env, v, grad))
            v.rg = v.rg or (grad and any(x.rg for x in fl))
            return
        if k == 13 and self.allow_breaks:  # data-dependent branch: a graph break
            v = self.pick(env)
            self.features.add("data_branch")
            cond = d.choice([f"{v.name}.sum() > 0", f"({v.name} > 0).any()", f"{v.name}.mean().item() < 0.1",
                             f"bool({v.name}.amax() > 0.5)"])
            if "any()" in cond:
                cond = f"{v.name}.sum() > 0"
            lines.append(ind + f"if {cond}:")
            lines.append(ind + "    " + self.update(env, v, grad))
            lines.append(ind + "else:")
            lines.append(ind + "    " + self.update(env, v, grad))
            v.rg = v.rg or (grad and any(x.rg for x in fl))
            return
        if k == 14 and self.allow_breaks:
            self.features.add("print")
            v = self.pick(env)
            lines.append(ind + d.choice([
                f"print('shape', tuple({v.name}.shape))", "print('n =', n, 'count', STATE.count)",
                f"print({v.name}.dim(), len(lst))", "print('k', k, obj.flag)",
            ]))
            return
        if k == 15 and self.allow_breaks:
            self.features.add("graph_break")
            lines.append(ind + "md.graph_break()")
            return
        if k == 16:  # loop
            v = self.pick(env)
            self.features.add("loop")
            it = d.choice(["range(2)", "range(n % 3)", "range(len(lst))", "range(G_K)", "[0.5, 1.5]"])
            if "len(lst)" in it:
                self.uses.add("len(lst)")
            if "G_K" in it:
                self.uses.add("G_K")
            i = self.fresh("i")
            lines.append(ind + f"for {i} in {it}:")
            lines.append(ind + "    " + self.update(env, v, grad))
            lines.append(ind + f"    {v.name} = {v.name} + {i}")
            v.rg = v.rg or (grad and any(x.rg for x in fl))
            return
        if k == 17:  # list / dict / tuple containers
            self.features.add("containers")
            a, b = self.pick(env), self.pick(env)
            c = d.integers(0, 3)
            name = self.fresh()
            if c == 0:
                acc = self.fresh("acc")
                lines.append(ind + f"{acc} = [{a.name}]")
                lines.append(ind + f"{acc}.append({a.name} * 2)")
                lines.append(ind + f"{name} = {acc}[0] + {acc}[-1] * len({acc})")
                env.append(Var(name, a.shape, a.rg and grad))
            elif c == 1:
                dd = self.fresh("d")
                lines.append(ind + f"{dd} = {{'a': {a.name}, 'n': n}}")
                lines.append(ind + f"{dd}['b'] = {b.name}")
                lines.append(ind + f"{name} = {dd}['a'] * {dd}['n'] + len({dd})")
                env.append(Var(name, a.shape, a.rg and grad))
            elif c == 2:
                lines.append(ind + f"{name}, _u = {b.name}, {a.name}")
                env.append(Var(name, b.shape, b.rg))
            else:
                lines.append(ind + f"{name} = sum([{a.name}, {a.name} * 0.5], 1.0)")
                env.append(Var(name, a.shape, a.rg and grad))
            return
        if k == 18:  # mutate the input list, the input object, the global state object
            self.features.add("side_effects")
            v = self.pick(env)
            lines.append(ind + d.choice([
                f"lst.append({v.name})", "lst.append(len(lst))", "obj.count += 1", f"obj.t = {v.name}",
                "STATE.count += 1", "STATE.items.append(n)", "obj.scale = obj.scale * 1.5",
                "lst[0] = lst[0] + 1 if isinstance(lst[0], int) else lst[0]", "cfg['key'] = n",
                f"STATE.last = {v.name}.shape[0] if {v.name}.dim() else -1",
            ]))
            return
        if k == 19:  # local user object
            self.features.add("objects")
            v = self.pick(env)
            o = self.fresh("o")
            name = self.fresh()
            lines.append(ind + f"{o} = Obj()")
            lines.append(ind + f"{o}.t = {v.name} + 1")
            lines.append(ind + f"{o}.count = {o}.count + 2")
            lines.append(ind + f"{name} = {o}.t * {o}.count + {o}.scaled(0.5)")
            env.append(Var(name, v.shape, v.rg and grad))
            return
        if k == 20:  # hooks
            cands = [v for v in fl if v.rg]
            if cands:
                self.features.add("hooks")
                v = d.choice(cands)
                tag = self.fresh("h")
                lines.append(ind + d.choice([
                    f"{v.name}.register_hook(lambda g: g * 2)",
                    f"{v.name}.register_hook(lambda g: LOG.append(('{tag}', tuple(g.shape))))",
                    f"{v.name}.register_hook(hook_scale)",
                    f"{v.name}.register_hook(lambda g: g + k)",
                ]))
                return
        if k == 21:  # no_grad block
            self.features.add("no_grad")
            lines.append(ind + "with tl.no_grad():")
            self.assign(env, lines, ind + "    ", False)
            return
        if k == 22 and self.allow_errors and self.d.boolean(0.2):
            self.features.add("raise")
            lines.append(ind + "if n > 4:")
            lines.append(ind + "    raise ValueError(f'n too big: {n}')")
            return
        if k == 23:  # Python scalars from shapes
            v = self.pick(env)
            lines.append(ind + f"n = n + {v.name}.dim() + (len({v.name}.shape) > 1)")
            return
        if k == 24:  # a nested closure defined inside f
            self.features.add("closures")
            v = self.pick(env)
            fn = self.fresh("g")
            name = self.fresh()
            lines.append(ind + f"def {fn}(z):")
            lines.append(ind + f"    return z * {v.name} + k")
            lines.append(ind + f"{name} = {fn}({v.name})")
            env.append(Var(name, v.shape, v.rg and grad))
            return
        if k == 25:  # global mutation
            self.features.add("globals")
            lines.append(ind + "G_COUNT += 1")
            return
        if k == 26:  # method on a module
            self.features.add("module")
            v = self.pick(env)
            if v.shape and v.shape[-1] == 4:
                name = self.fresh()
                lines.append(ind + f"{name} = mod({v.name})")
                env.append(Var(name, v.shape[:-1] + (3,), grad))
                return
        if k == 27:
            v = self.pick(env)
            name = self.fresh()
            lines.append(ind + f"{name} = {v.name}.detach() * 2 if {v.name}.requires_grad else {v.name} + 1")
            env.append(Var(name, v.shape, v.rg and False if True else v.rg))
            # detach() drops grad when it required grad; otherwise v + 1 keeps rg=False
            return
        if k == 28:  # dtype conversions and comparisons
            v = self.pick(env)
            name = self.fresh()
            c = d.integers(0, 2)
            if c == 0:
                lines.append(ind + f"{name} = ({v.name} > 0).float() * {v.name}")
                env.append(Var(name, v.shape, v.rg and grad))
            elif c == 1:
                lines.append(ind + f"{name} = {v.name}.masked_fill({v.name} < 0, 0.0)")
                env.append(Var(name, v.shape, v.rg and grad))
            else:
                lines.append(ind + f"{name} = {v.name}.double().sum().float() + {v.name}.long().sum()")
                env.append(Var(name, (), v.rg and grad))
            return
        # default
        self.assign(env, lines, ind, grad)

    # -- helpers --------------------------------------------------------------------------
    def helper(self, i):
        """A helper (a, b) -> tensor; returns source lines and a shape function."""
        d = self.d
        name = f"helper{i}"
        c = d.integers(0, 4)
        if c == 0:
            body = ["    return a * b + a.sin()"]
            shape = broadcast
        elif c == 1:
            body = ["    c = a + b", "    return c.tanh() * G_S"]
            self.uses.add("G_S")
            shape = broadcast
        elif c == 2:
            body = ["    s = a - b", "    if s.dim() > 1:", "        s = s * 2", "    return s.relu() + 1"]
            shape = broadcast
        elif c == 3 and self.helpers:
            other = self.helpers[-1][0]
            body = [f"    return {other}(a, b) * 0.5 + b"]
            prev = self.helpers[-1][1]

            def shape(x, y, prev=prev):
                s = prev(x, y)
                return broadcast(s, y) if s is not None else None
        else:
            body = ["    STATE.calls += 1", "    return (a + b) * STATE.scale"]
            self.uses.add("STATE.scale")
            shape = broadcast
        if self.allow_breaks and d.boolean(0.15):
            body.insert(0, "    md.graph_break()")
            self.features.add("graph_break")
        if self.allow_breaks and d.boolean(0.1):
            body.insert(0, "    print('in', '" + name + "')")
            self.features.add("print")
        self.helpers.append((name, shape))
        return [f"def {name}(a, b):"] + body

    # -- the whole program ----------------------------------------------------------------
    def program(self):
        d = self.d
        A = d.choice([2, 3])
        B = 4
        yshape = d.choice([(B,), (A, 1), (A, B), (1, B), ()])
        x_rg = d.boolean(0.7)
        y_rg = d.boolean(0.5)
        x_dtype = "float32"
        closure = d.boolean(0.5)
        n0 = d.integers(0, 5)
        header = [
            "import numpy as np",
            "import tensorlite as tl",
            "import minidynamo as md",
            "",
            f"G_K = {d.integers(0, 4)}",
            f"G_S = {d.choice([0.5, 1.5, -2.0])}",
            "G_COUNT = 0",
            "LOG = []",
            "",
            "class Obj:",
            "    def __init__(self):",
            "        self.count = 0",
            "        self.scale = 1.5",
            "        self.flag = True",
            "        self.t = None",
            "        self.items = []",
            "        self.calls = 0",
            "        self.last = None",
            "",
            "    def scaled(self, s):",
            "        return self.t * s * self.scale",
            "",
            "STATE = Obj()",
            "",
            "def hook_scale(g):",
            "    LOG.append('hook_scale')",
            "    return g * 0.5",
            "",
            "class M(tl.nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.lin = tl.nn.Linear(4, 3)",
            "",
            "    def forward(self, z):",
            "        z = self.lin(z)",
            "        if self.training:",
            "            z = z * 2",
            "        return z.tanh()",
            "",
        ]
        nh = d.integers(0, 2)
        for i in range(nh):
            header += self.helper(i) + [""]
        env = [Var("x", (A, B), x_rg, leaf=True), Var("y", yshape, y_rg, leaf=True)]
        body = ["global G_COUNT"]
        nst = d.integers(1, self.max_stmts)
        for _ in range(nst):
            self.stmt(env, body, "", True, 0)
        # outputs
        fl = [v for v in env if v.dtype == "f"]
        outs = []
        for _ in range(d.integers(1, 3)):
            outs.append(d.choice(fl[2:] or fl).name)
        ret = d.choice(["tuple", "single", "extra"])
        py = ", py" if self.py.active else ""  # the Python values the Python-side statements collected
        if ret == "single":
            body.append(f"return {outs[0]}{py}")
        elif ret == "extra":
            body.append(f"return {outs[0]}, n, [{', '.join(outs)}]{py}")
        else:
            body.append(f"return ({', '.join(outs)}{py},)")
        params = "x, y, obj, lst, cfg, mod, n"
        py_params, py_args, py_muts = [], [], []
        if self.py.active:
            py_header, py_params, py_args, py_muts = self.py.finish()
            header += py_header
            body[0] = ", ".join(["global G_COUNT"] + sorted(self.py.globals))
            body.insert(1, "py = []")
            params += "".join(", " + p for p in py_params)
        src = list(header)
        if closure:
            self.features.add("closure")
            src += [
                "def make_main():",
                f"    k = {d.choice([1, 2, 0.5])}",
                "    def f(" + params + "):",
            ] + ["        " + ln for ln in body] + [
                "    def set_k(v):",
                "        nonlocal k",
                "        k = v",
                "    return f, set_k",
                "",
                "f, set_k = make_main()",
            ]
        else:
            src += [f"k = {d.choice([1, 2, 0.5])}", "", "def f(" + params + "):"]
            src += ["    " + ln for ln in body]
            src += ["", "def set_k(v):", "    global k", "    k = v"]
        ydims = ", ".join(map(str, yshape))
        src += [
            "",
            "def make_args(call):",
            "    rs = np.random.RandomState(1234 + call)",
            "    tl.manual_seed(7)",
            f"    x = tl.tensor(rs.randn({A}, {B}).astype(np.float32), requires_grad={x_rg})",
            f"    y = tl.tensor(np.asarray(rs.randn({ydims}), dtype=np.float32), requires_grad={y_rg})",
            "    obj = Obj()",
            "    lst = [1, 2]",
            "    cfg = {'key': 1}",
            "    mod = M()",
        ] + py_args + [
            f"    return [x, y, obj, lst, cfg, mod, {n0}" + "".join(", " + p for p in py_params) + "]",
            "",
        ]
        muts = self.mutations(x_rg, y_rg) + py_muts
        src.append("MUTATIONS = [")
        for m in muts:
            src.append(f"    {m!r},")
        src.append("]")
        return "\n".join(src) + "\n"

    def mutations(self, x_rg, y_rg):
        """One-line snippets (run with `args` bound) changing one thing f depends on."""
        m = [
            "G_K = G_K + 3", "G_S = -G_S", "set_k(3)", "set_k(0.25)", "STATE.count = 5", "STATE.scale = 3.0",
            "args[2].scale = 2", "args[2].flag = False", "args[3].append(9)", "args[3][:] = [5]",
            "args[0] = args[0].double()", "args[0] = tl.randn(5, 4, requires_grad=args[0].requires_grad)",
            f"args[0] = args[0].detach().requires_grad_({not x_rg})",
            f"args[1] = args[1].detach().requires_grad_({not y_rg})",
            "tl.set_grad_enabled(False)", "args[5].eval()", "args[6] = args[6] + 2",
            "args[5].register_forward_hook(lambda m, i, o: o * 2)", "args[4]['key'] = 7",
            "args[4].pop('key')", "args[1] = args[1].reshape(-1)[:1].clone() if args[1].dim() else args[1] + 1",
            "G_S = 2", "STATE.scale = 1",
        ]
        return m


def generate(d, **kw):
    """A program: (source, features)."""
    g = Gen(d, **kw)
    src = g.program()
    return Program(src, frozenset(g.features))


class Program:
    def __init__(self, source, features=frozenset()):
        self.source = source
        self.features = features

    def __repr__(self):
        return "Program(source=\n" + self.source + ")"
