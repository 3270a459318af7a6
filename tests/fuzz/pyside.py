"""The Python side of generated programs: statements that mix plain Python semantics into f.

`Gen.stmt` hands a statement to `PySide.stmt` with a small probability; it draws one kind from
`KINDS` (user classes with __eq__/__hash__, dataclasses, enums, shared iterators, dict views,
raising computations, positional-only helpers, properties, recursion, numpy scalars and float
specials, graph breaks inside try). Each kind is a small function `(ps, env) -> lines` that may
append new tensor `Var`s to env (so later tensor statements use its results) and puts the Python
values it computes into a sink: the local list `py` (returned by f) or the global `PYLOG`.

What a program uses decides what `PySide.finish` adds to it: header blocks (classes, globals,
helpers), extra parameters of f (`m`, an int that is 0 on some calls; `color`, an enum member;
`it`, an iterator f partially consumes; `pt`, a dataclass instance), their `make_args`
expressions, the globals the harness compares (`WATCH`) and the guard MUTATIONS of that state.
"""
import re

# ----------------------------------------------------------------------------- header blocks

BLOCKS = {
    "key": [
        "EQ_LOG = []",
        "",
        "class Key:",
        "    def __init__(self, v):",
        "        self.v = v",
        "",
        "    def __eq__(self, other):",
        "        EQ_LOG.append(self.v)",
        "        if not isinstance(other, Key):",
        "            return NotImplemented",
        "        return self.v == other.v",
        "",
        "    def __hash__(self):",
        "        return hash(self.v)",
        "",
        "    def __repr__(self):",
        "        return f'Key({self.v!r})'",
        "",
        "KEYS = [Key(0), Key(2)]",
    ],
    "dc": [
        "@dataclasses.dataclass",
        "class Pt:",
        "    a: int",
        "    b: float = 0.5",
        "    tags: list = dataclasses.field(default_factory=list)",
        "",
        "@dataclasses.dataclass(frozen=True)",
        "class FPt:",
        "    a: int",
        "    b: float = 1.0",
        "",
        "PT = Pt(1, 2.0)",
        "FPT = FPt(2)",
    ],
    "enum": [
        "class Color(enum.Enum):",
        "    RED = 1",
        "    GREEN = 2",
        "    BLUE = 3",
        "",
        "class Perm(enum.IntFlag):",
        "    R = 4",
        "    W = 2",
        "    X = 1",
        "",
        "COLOR = Color.RED",
        "PERM = Perm.R | Perm.W",
    ],
    "box": [
        "class Box:",
        "    def __init__(self, w, h):",
        "        self.w = w",
        "        self.h = h",
        "        self._area = None",
        "        self.reads = 0",
        "",
        "    @property",
        "    def area(self):",
        "        self.reads += 1",
        "        return self.w * self.h",
        "",
        "    @property",
        "    def cached_area(self):",
        "        if self._area is None:",
        "            self._area = self.w * self.h",
        "        return self._area",
        "",
        "    @functools.cached_property",
        "    def perim(self):",
        "        return 2 * (self.w + self.h)",
        "",
        "    @property",
        "    def side(self):",
        "        return self.w",
        "",
        "    @side.setter",
        "    def side(self, v):",
        "        self.w = v",
        "        self.h = v",
        "",
        "    @property",
        "    def wide(self):",
        "        return self.w > self.h",
        "",
        "BOX = Box(3, 2)",
    ],
    "posonly": [
        "def pos_ab(a, /, b, c=2):",
        "    return a * b + c",
        "",
        "def pos_kw(a, /, **kw):",
        "    return a + len(kw) + kw.get('a', 0)",
        "",
        "def pos_var(a, b=1, /, *rest, c=3):",
        "    return a * b + c + len(rest)",
    ],
    "rec": [
        "def rec(k, acc):",
        "    if k <= 0:",
        "        return acc",
        "    return rec(k - 1, acc * 0.5 + 1)",
        "",
        "def fact(k):",
        "    return 1 if k <= 1 else k * fact(k - 1)",
        "",
        "def is_even(k):",
        "    return True if k == 0 else is_odd(k - 1)",
        "",
        "def is_odd(k):",
        "    return False if k == 0 else is_even(k - 1)",
    ],
}
# globals each block defines that f may read or change (compared by the harness after each call)
BLOCK_WATCH = {"key": ["EQ_LOG", "KEYS"], "dc": ["PT", "FPT"], "enum": ["COLOR", "PERM"], "box": ["BOX"]}

# extra parameters of f, in signature order: their make_args expression is drawn in `finish`
PARAMS = ["m", "color", "it", "pt"]
# which header block a statement's code needs
USES = {"key": r"\bKEYS?\b|\bKey\(", "dc": r"\b(PT|FPT|Pt|FPt)\b", "enum": r"\b(Color|Perm|COLOR|PERM)\b",
        "box": r"\b(Box|BOX)\b", "posonly": r"\bpos_", "rec": r"\b(rec|fact|is_even|is_odd)\("}


class PySide:
    def __init__(self, gen):
        self.g = gen
        self.d = gen.d
        self.blocks = set()
        self.params = set()
        self.globals = set()  # globals f assigns (declared `global` in f)
        self.active = False

    # -- bookkeeping used by the statement kinds ----------------------------------------------
    def sink(self):
        return self.d.choice(["py.append", "py.append", "PYLOG.append"])

    def fresh(self, prefix):
        return self.g.fresh(prefix)

    def tensor(self, env):
        return self.g.pick(env)

    def new(self, env, shape, rg):
        from .generator import Var
        v = Var(self.g.fresh(), shape, rg)
        env.append(v)
        return v

    def some(self, options, lo=1, hi=3):
        """A few distinct entries of options (drawn in order: deterministic per seed)."""
        out = []
        for _ in range(self.d.integers(lo, hi)):
            o = self.d.choice(options)
            if o not in out:
                out.append(o)
        return out

    def sink_values(self, exprs):
        return f"{self.sink()}(({', '.join(exprs)},))"

    # -- one statement ------------------------------------------------------------------------
    def stmt(self, env, lines, ind):
        self.active = True
        name, fn = self.d.choice(KINDS)
        self.g.features.add("py_" + name)
        body = fn(self, env)
        self.register("\n".join(body))
        lines.extend(ind + ln for ln in body)

    def register(self, code):
        """The parameters and header blocks the code uses."""
        for p in PARAMS:
            if re.search(rf"\b{p}\b", code):
                self.params.add(p)
        for block, pattern in USES.items():
            if re.search(pattern, code):
                self.blocks.add(block)
        if "color" in self.params:
            self.blocks.add("enum")
        if "pt" in self.params:
            self.blocks.add("dc")

    # -- what the program needs ---------------------------------------------------------------
    def finish(self):
        """(header lines, extra params, make_args lines, mutations): for the blocks and params used."""
        d = self.d
        header = ["import dataclasses", "import enum", "import functools", "import itertools",
                  "import math", "", "PYLOG = []", ""]
        for b in BLOCKS:  # fixed order
            if b in self.blocks:
                header += BLOCKS[b] + [""]
        watch = ["PYLOG"] + [w for b in BLOCKS if b in self.blocks for w in BLOCK_WATCH.get(b, [])]
        header.append(f"WATCH = {watch!r}")
        header.append("")
        params = [p for p in PARAMS if p in self.params]
        args, muts = [], []
        for i, p in enumerate(params):
            idx = 7 + i
            if p == "m":
                m0, m1 = d.choice([(0, 2), (3, 0), (1, 1), (0, 0), (2, 3)])
                args.append(f"    m = {m0} if call == 0 else {m1}")
                muts += [f"args[{idx}] = 0", f"args[{idx}] = 5"]
            elif p == "color":
                c0, step = d.integers(0, 2), d.integers(0, 1)
                args.append(f"    color = [Color.RED, Color.GREEN, Color.BLUE][({c0} + call * {step}) % 3]")
                muts += [f"args[{idx}] = Color.BLUE", f"args[{idx}] = Color.RED"]
            elif p == "it":
                vals = [d.integers(0, 5) for _ in range(4)]
                args.append(f"    it = iter([call + 1, {', '.join(map(str, vals))}])")
                muts += [f"args[{idx}] = iter([9])", f"args[{idx}] = iter(range(7))"]
            elif p == "pt":
                args.append(f"    pt = Pt(call, {d.choice([0.5, -1.5, 2.0])})")
                muts += [f"args[{idx}].a = 42", f"args[{idx}].b = -0.0"]
        if "enum" in self.blocks:
            muts += ["COLOR = Color.BLUE", "PERM = Perm.X", "PERM = PERM | Perm.X"]
        if "dc" in self.blocks:
            muts += ["PT.b = -PT.b", "PT.a = 9", "FPT = FPt(7, 0.25)"]
        if "box" in self.blocks:
            muts += ["BOX.w = BOX.w + 4", "BOX.h = 10"]
        if "key" in self.blocks:
            muts += ["KEYS[:] = [Key(1)]", "KEYS.append(Key(5))"]
        return header, params, args, muts


# ----------------------------------------------------------------------------- statement kinds
# Each returns f-body lines (unindented) and may add tensors to env.


def eqhash(ps, env):
    d = ps.d
    k1, k2 = ps.fresh("key"), ps.fresh("key")
    a = d.choice(["n % 3", "1", "G_K % 3", "len(lst) % 3"])
    other = d.choice(["Key(1)", "KEYS[0]", "Key(n % 2)", k1])
    lines = [f"{k1} = Key({a})", f"{k2} = {other}"]
    checks = [
        f"{k1} == {k2}", f"{k1} != {k2}", f"{k1} in [Key(0), Key(1)]", f"{k1} in ({k2}, Key(2))",
        f"{k1} in {{Key(1): 'one', Key(2): 'two'}}", f"{k1} in KEYS", f"{k1} != 1", f"{k1} == 'a'",
        f"{k1} not in set(KEYS)", f"hash({k1}) == hash(Key({a}))", f"KEYS.count({k1})",
        f"{{Key(1): 'one', Key(2): 'two'}}.get({k1}, 'none')", f"[{k2}, {k1}].index({k1})",
        f"({k1}, 1) == (Key({a}), 1)", f"{k1} in {{'k': {k2}}}.values()",
    ]
    chosen = ps.some(checks)
    lines.append(ps.sink_values(chosen))
    if d.boolean():  # a comparison steering tensor code
        v = ps.tensor(env)
        cond = d.choice([c for c in chosen if "get(" not in c and "count" not in c] or [f"{k1} == {k2}"])
        t = ps.new(env, v.shape, v.rg)
        lines += [f"if {cond}:", f"    {t.name} = {v.name} * 2", "else:", f"    {t.name} = {v.name} - 1"]
    return lines


def dataclass_(ps, env):
    d = ps.d
    q = ps.fresh("q")
    lines = [f"{q} = Pt(n, {d.choice(['0.25', '-1.0', 'k'])})"]
    ops = [
        [ps.sink_values([f"{q} == PT", f"{q} != Pt(n, 0.25)", f"{q} == FPt(n, 0.25)"])],
        [f"{q}.a += 1", f"{q}.tags.append(len(lst))", ps.sink_values([q])],
        [ps.sink_values(["dataclasses.replace(FPT, a=n)", "FPT == FPt(2)"])],
        [ps.sink_values(["FPt(n % 2) in {FPt(0): 'z', FPt(1): 'o'}", "FPt(1, 2.0) in [FPT, FPt(1, 2.0)]"])],
        [ps.sink_values([f"dataclasses.asdict({q})", "dataclasses.astuple(FPT)"])],
        ["try:", "    FPT.a = n", "except dataclasses.FrozenInstanceError as e:",
         f"    {ps.sink()}((type(e).__name__, str(e)))"],
        ["try:", f"    {ps.sink()}(hash({q}))", "except TypeError as e:", f"    {ps.sink()}(str(e))"],
        ["PT.b = PT.b * 2", ps.sink_values(["PT", "PT == Pt(1, 2.0)"])],
        [f"pt.a += 1", "pt.tags.append(n)", ps.sink_values(["pt == PT", "pt.tags"])],
    ]
    for op in ps.some(ops, 1, 2):
        lines += op
    if d.boolean(0.6):
        v = ps.tensor(env)
        t = ps.new(env, v.shape, v.rg)
        src = d.choice([f"{q}.b", "FPT.a", "PT.b", f"{q}.a + FPT.b"])
        if d.boolean():
            cond = d.choice([f"pt.a > 0", f"{q} == PT", "FPT.b > 0.5"])
            lines += [f"if {cond}:", f"    {t.name} = {v.name} * {src}", "else:",
                      f"    {t.name} = {v.name} + 1"]
        else:
            lines.append(f"{t.name} = {v.name} * {src}")
    return lines


def enum_(ps, env):
    d = ps.d
    lines = []
    if d.boolean(0.2):
        ps.globals.add("COLOR")
        lines.append("COLOR = Color.GREEN if COLOR is Color.RED else Color.RED")
    c = "color"
    values = [
        f"({c}.name, {c}.value)", c, "Color(n % 3 + 1)", f"Color['GREEN'] is {c}", "[e.name for e in Color]",
        "int(PERM | Perm.X)", "PERM | Perm.X", "PERM & ~Perm.R", "Perm(n % 8)", "Perm.X in PERM",
        f"{{Color.RED: 'r', Color.GREEN: 'g'}}.get({c}, '?')", "len(Color)", f"{c} in (Color.RED, COLOR)",
        "COLOR", f"{c} == COLOR",
    ]
    lines.append(ps.sink_values(ps.some(values)))
    v = ps.tensor(env)
    t = ps.new(env, v.shape, v.rg)
    if d.boolean(0.7):
        conds = [f"{c} is Color.RED", f"{c} == COLOR", f"{c} != Color.BLUE", f"{c} in (Color.RED, Color.GREEN)",
                 "COLOR is Color.RED", "PERM & Perm.W", "Perm.X in PERM", f"{c}.value > 1",
                 f"{c}.name == 'GREEN'", "PERM == 6", "bool(PERM & Perm.X)"]
        lines += [f"if {d.choice(conds)}:", f"    {t.name} = {v.name} * 2"]
        if d.boolean():
            lines += [f"elif {d.choice(conds)}:", f"    {t.name} = {v.name} + 1"]
        lines += ["else:", f"    {t.name} = {v.name} - 1"]
    else:
        lines.append(f"{t.name} = {v.name} * " + d.choice([f"{c}.value", "int(PERM)", "COLOR.value",
                                                            "int(PERM & Perm.W)"]))
    if ps.g.allow_breaks and d.boolean(0.2):
        ps.g.features.add("print")
        lines.append(f"print('color', {c}, COLOR, int(PERM))")
    return lines


def iterator(ps, env):
    d = ps.d
    c = d.integers(0, 2)
    if c == 0:  # the iterator argument, partially consumed (the harness compares what remains)
        it = "it"
        v = ps.tensor(env)
        t = ps.new(env, v.shape, v.rg)
        return d.choice([
            [f"{t.name} = {v.name} * next({it}, -1)"],
            [f"{t.name} = {v.name} * 1", f"for a_ in {it}:", f"    {t.name} = {t.name} + a_",
             "    if a_ > 2:", "        break"],
            [f"{t.name} = {v.name} + 1", f"for a_, b_ in zip({it}, range(2)):",
             f"    {t.name} = {t.name} * (a_ - b_)"],
            [f"{ps.sink()}(list(zip(range(1), {it})))", f"{t.name} = {v.name} - next({it}, 0)"],
            [f"{ps.sink()}(list(itertools.islice({it}, 2)))", f"{t.name} = {v.name} * 0.5"],
            [f"{ps.sink()}({it})", f"{t.name} = {v.name} * next({it}, 3)"],
        ])
    if c == 1:  # a local iterator over tensors, shared by later code
        v = ps.tensor(env)
        it = ps.fresh("it")
        first, t = ps.new(env, v.shape, v.rg), ps.new(env, v.shape, v.rg)
        lines = [f"{it} = iter([{v.name} * 1, {v.name} + 1, {v.name} * 2])", f"{first.name} = next({it})"]
        lines.append(d.choice([
            f"{t.name} = {first.name} + sum({it})",
            f"{t.name} = {first.name} * len([z_ for z_ in {it}])",
            f"{t.name} = sum((a_ * b_ for a_, b_ in zip({it}, [{first.name}, {first.name}])), {first.name})",
        ]))
        return lines
    # a local iterator over Python values, shared by later code
    it = ps.fresh("it")
    return d.choice([
        [f"{it} = iter(lst)", f"{ps.sink()}(next({it}, None))", ps.sink_values([f"list(zip({it}, 'ab'))"])],
        [f"{it} = enumerate(lst)", f"next({it}, None)", ps.sink_values([f"list({it})"])],
        [f"{it} = map(lambda q_: q_ * 2, range(n + 2))", ps.sink_values([f"next({it})", f"next({it})", f"list({it})"])],
        [f"{it} = iter(range(5))", ps.sink_values([f"list(zip({it}, {it}))"])],
        [f"{it} = reversed([1, 2, 3])", f"next({it})", ps.sink_values([it])],
        [f"{it} = iter(cfg)", ps.sink_values([f"next({it}, None)", f"list({it})"])],
    ])


def dictview(ps, env):
    d = ps.d
    dd = ps.fresh("dd")
    lines = []
    if d.boolean(0.3):  # a live view of the argument dict, mutated afterwards
        view = d.choice(["cfg.keys()", "cfg.values()", "cfg.items()"])
        lines += [f"{ps.sink()}({view})", d.choice(["cfg['z'] = n", "cfg.pop('key', None)", "cfg.update(w=1)"])]
    lines.append(f"{dd} = {{'a': 1, 'b': n}}")
    ks, vs, its = ps.fresh("ks"), ps.fresh("vs"), ps.fresh("its")
    lines.append(f"{ks}, {vs}, {its} = {dd}.keys(), {dd}.values(), {dd}.items()")
    lines.append(d.choice([f"{dd}['c'] = len(lst)", f"{dd}.pop('a')", f"del {dd}['b']", f"{dd}.update(z=3)",
                           f"{dd}['a'] = -1", f"{dd}.clear()"]))
    values = [
        f"list({ks})", f"sorted({ks})", f"list({vs})", f"list({its})", f"{ks} == {{'a', 'b', 'c'}}",
        f"{ks} & {{'a', 'z'}}", f"('b', n) in {its}", f"len({vs})", f"'c' in {ks}", ks, its, vs,
        f"dict({its}) == {dd}", f"list(reversed({ks}))", f"{vs} == {dd}.values()", f"{ks} == {dd}.keys()",
        f"{ks} - {{'a'}}", f"{its} <= {{('a', 1), ('b', n), ('c', len(lst))}}",
    ]
    lines.append(ps.sink_values(ps.some(values)))
    if d.boolean(0.3):
        lines += ["try:", f"    for kk_ in {dd}:", f"        {dd}[kk_ + '_'] = 0", "except RuntimeError as e:",
                  f"    {ps.sink()}(str(e))"]
    if d.boolean(0.6):
        v = ps.tensor(env)
        t = ps.new(env, v.shape, v.rg)
        lines.append(d.choice([f"{t.name} = {v.name} * sum({vs})", f"{t.name} = {v.name} + len({ks})",
                               f"{t.name} = {v.name} * 1"]))
        if d.boolean():
            lines += [f"for kk_, vv_ in {its}:", f"    {t.name} = {t.name} + vv_"]
    return lines


RISKY = [  # (expression, what it raises on some m) -- a number when it does not raise
    ("12 // m", "ZeroDivisionError"), ("cfg['nope'] if m < 9 else 0", "KeyError"),
    ("[1, 2, 3][m + 1]", "IndexError"), ("int('7' if m else 'x')", "ValueError"),
    ("math.sqrt(m - 2)", "ValueError"), ("[].pop() if m < 9 else 0", "IndexError"),
    ("getattr(obj, 'missing') if m < 9 else 0", "AttributeError"), ("next(iter([])) if m < 9 else 0", "StopIteration"),
]


def raises(ps, env):
    d = ps.d
    m = "m"
    if d.boolean(0.4):  # a dead computation that raises when m == 0
        dead = d.choice([f"1 / {m}", f"n % {m}", f"divmod(10, {m})", f"math.log({m})", f"10 // {m}",
                         f"float(x.sum()) / {m}"])
        return [f"{ps.fresh('dead')} = {dead}"]
    expr, exc = d.choice(RISKY)
    r = ps.fresh("r")
    caught = d.choice([exc, "Exception", f"({exc}, TypeError)"])
    lines = ["try:", f"    {r} = {expr}", f"except {caught} as e:", f"    {r} = -1",
             f"    {ps.sink()}((type(e).__name__, str(e)))"]
    if d.boolean():
        lines += ["else:", f"    {r} = {r} + 1"]
    if d.boolean():
        lines += ["finally:", f"    {ps.sink()}('finally')"]
    v = ps.tensor(env)
    t = ps.new(env, v.shape, v.rg)
    lines.append(f"{t.name} = {v.name} * {r}")
    return lines


def posonly(ps, env):
    d = ps.d
    v = ps.tensor(env)
    call = d.choice([
        f"pos_ab({v.name}, 2)", f"pos_ab({v.name}, b=0.5)", f"pos_ab({v.name}, 2, c=k)",
        f"pos_kw({v.name}, a=3)", f"pos_kw({v.name})", f"pos_kw({v.name}, a=1, b=2)",
        f"pos_var({v.name})", f"pos_var({v.name}, 2, 5, 6, c=1)", f"pos_var({v.name}, *[2, 0])",
        f"pos_var({v.name}, **{{'c': 0.5}})", f"(lambda a, /, b=2: a * b)({v.name})",
    ])
    t = ps.new(env, v.shape, v.rg)
    lines = [f"{t.name} = {call}"]
    if d.boolean(0.4):
        lines.append(ps.sink_values(ps.some(["pos_ab(n, 3)", "pos_kw(n, a=n)", "pos_var(n, 2, 'r')",
                                             "pos_ab(1, b=2, c=3)"])))
    return lines


def property_(ps, env):
    d = ps.d
    bx = ps.fresh("bx")
    lines = []
    if d.boolean(0.4):  # over tensors
        v = ps.tensor(env)
        t = ps.new(env, v.shape, v.rg)
        lines += [f"{bx} = Box({v.name}, {d.choice(['2.0', 'n', 'G_S'])})",
                  f"{t.name} = " + d.choice([f"{bx}.area + {bx}.cached_area", f"{bx}.perim * 0.5",
                                             f"{bx}.cached_area - {bx}.side"])]
        if d.boolean():
            lines += [f"{bx}.w = {v.name} * 0 + 1", f"{t.name} = {t.name} + {bx}.area - {bx}.cached_area"]
        return lines
    target = d.choice([bx, "BOX"])
    if target == bx:
        lines.append(f"{bx} = Box(n + 1, 2)")
    reads = ps.some([f"{target}.area", f"{target}.cached_area", f"{target}.perim", f"{target}.wide",
                     f"{target}.side", f"{target}.reads"], 2, 3)
    lines.append(ps.sink_values(reads))
    lines.append(d.choice([f"{target}.w = len(lst) + 3", f"{target}.side = 4", f"{target}.h += 1"]))
    lines.append(ps.sink_values(reads))
    if d.boolean(0.5):
        v = ps.tensor(env)
        t = ps.new(env, v.shape, v.rg)
        lines += [f"if {target}.wide:", f"    {t.name} = {v.name} * {target}.cached_area", "else:",
                  f"    {t.name} = {v.name} + {target}.perim"]
    return lines


def recursion(ps, env):
    d = ps.d
    v = ps.tensor(env)
    depth = d.choice([str(d.integers(1, 30)), "n + 20", "G_K * 5 + 1", "len(lst) + 25"])
    t = ps.new(env, v.shape, v.rg)
    lines = [f"{t.name} = rec({depth}, {v.name})"]
    if d.boolean(0.5):
        lines.append(ps.sink_values(ps.some(["fact(n + 25)", "is_even(n + 7)", "rec(20, 1.0)", "fact(30) % 1000003",
                                             "is_odd(len(lst) + 21)"])))
    if d.boolean(0.3):
        lines += ["if is_odd(n + 11):", f"    {t.name} = {t.name} * 2"]
    return lines


NUMBERS = [
    "np.float64(n) / 4", "np.sqrt(n + 1)", "np.float32(0.1) * 3", "float('inf')", "float('-inf') * n", "-0.0",
    "-0.0 * n", "0.0 * -1", "min(-0.0, 0.0)", "max(0.0, -0.0)", "round(-0.4, 0)", "abs(-0.0)",
    "math.copysign(1.0, -0.0)", "complex(-0.0, -0.0)", "-complex(0.0, 0.0)", "10**5000", "10**5000 + n",
    "(10**5000) % 1000003", "-(2**64) // 3", "2**100 >> 90", "float('nan') != float('nan')",
    "math.inf > 10**5000", "float(10**300)", "int(np.float64(1e20))", "np.float64(-0.0)", "np.int64(n) * 3",
    "divmod(-7, 2)", "-7 // 2", "(-0.0).hex()", "math.fsum([0.1] * 10)", "0.1 + 0.2", "-0.0 + 0.0",
]


def numbers(ps, env):
    d = ps.d
    v = ps.tensor(env)
    lines = []
    if d.boolean(0.7):
        c = d.choice([
            (f"{v.name}.sum() * (1.0 / np.sqrt(3))", ()), (f"{v.name} * np.float64(0.25)", v.shape),
            (f"np.float64(0.5) * {v.name}", v.shape), (f"{v.name} + np.sqrt(2)", v.shape),
            (f"{v.name} / np.float32(3)", v.shape), (f"{v.name} * float(np.int64(n) + 1)", v.shape),
            (f"{v.name} * (10**40 // 10**39)", v.shape), (f"{v.name}.clamp(max=float('inf'))", v.shape),
            (f"{v.name} * -0.0 + {v.name}", v.shape), (f"{v.name}.mean() * np.pi", ()),
        ])
        t = ps.new(env, c[1], v.rg)
        lines.append(f"{t.name} = {c[0]}")
    if not lines or d.boolean(0.6):
        lines.append(ps.sink_values(ps.some(NUMBERS, 1, 4)))
    return lines


def try_break(ps, env):
    d = ps.d
    g = ps.g
    v = ps.tensor(env)
    ta, tb = ps.new(env, v.shape, v.rg), ps.new(env, v.shape, v.rg)
    brk = f"{ta.name} = {ta.name} * 1"  # the graph break inside the try (a data-dependent branch is one)
    if g.allow_breaks:
        g.features.add("graph_break")
        brk = d.choice(["print('in try', n)", "md.graph_break()",
                        f"if {ta.name}.sum() > 0:\n    {ta.name} = {ta.name} + 1"])
    if d.boolean(0.25):  # an exception's context across a break inside a handler
        return [f"{ta.name} = {v.name}.sin()", f"{tb.name} = {ta.name} * 1", "try:", "    try:",
                "        raise KeyError('a')", "    except KeyError:"] + \
            ["        " + ln for ln in brk.split("\n")] + [
                "        raise ValueError('b')", "except ValueError as e:",
                f"    {ps.sink()}((repr(e.__context__), e.__suppress_context__))",
                f"    {tb.name} = {ta.name} + 2"]
    raise_ = d.choice(["raise ValueError('boom') from KeyError('k')",
                       "if n >= 0:\n    raise ValueError('boom') from KeyError('k')",
                       "if len(lst) > 5:\n    raise ValueError('rare')"])
    fixup = f"{ta.name} * 2"
    same_shape = [h for h, fn in g.helpers if fn(v.shape, v.shape) == v.shape]
    if same_shape and d.boolean():
        fixup = f"{d.choice(same_shape)}({ta.name}, {ta.name})"
        g.features.add("helper")
    lines = [f"{tb.name} = {v.name} * 1", "try:", f"    {ta.name} = {v.name}.sin()"]
    lines += ["    " + ln for ln in brk.split("\n")]
    lines += ["    " + ln for ln in raise_.split("\n")]
    lines += [f"    {tb.name} = {ta.name} + 1", "except ValueError as e:", f"    {tb.name} = {fixup}",
              f"    {ps.sink()}((str(e), repr(e.__cause__)))"]
    if d.boolean(0.3):
        lines += ["finally:", "    STATE.count += 1"]
    t = ps.new(env, v.shape, v.rg)
    lines.append(f"{t.name} = {tb.name} * 2 + {v.name}")
    return lines


KINDS = [
    ("eqhash", eqhash), ("dataclass", dataclass_), ("enum", enum_), ("iterator", iterator),
    ("dictview", dictview), ("raises", raises), ("posonly", posonly), ("property", property_),
    ("recursion", recursion), ("numbers", numbers), ("try_break", try_break),
]
