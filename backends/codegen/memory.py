"""Buffer planning: which `out=` buffer each lowered value is written into.

Storage kinds:
  * persistent: `_bN`, allocated once per compiled function (one per distinct live value of
    a shape/dtype, reused as soon as the previous value in it is dead) and reused across
    calls. A persistent buffer never holds a value that escapes (an output, or a value an
    output is a view of), so outputs never alias a reused buffer.
  * fresh: allocated by numpy during the call (`y = np.sin(x)`); a later elementwise op
    whose operand of the same shape and dtype dies there writes in place into it
    (`z = np.add(y, 1, out=y)`), as hand-written numpy does.
  * external: inputs, constants and views of them; never written.

>>> from backends.codegen.memory import Value, plan
>>> vals = [Value("x", (4,), "f", kind="input"), Value("a", (4,), "f", ["x"], kind="steps"),
...         Value("b", (4,), "f", ["a"], kind="steps", escapes=True)]
>>> p = plan(vals)
>>> p.out["a"], p.out["b"], p.buffers  # the chain runs in b's fresh array
(None, 'a', [])
>>> vals.append(Value("c", (), "f", ["b"], kind="steps", elementwise=False, escapes=True))
>>> vals[2].escapes = False
>>> p = plan(vals)
>>> p.out["a"], p.out["b"], p.out["c"], p.buffers  # a and b die: one persistent buffer
('_b0', 'a', None, [((4,), 'f')])
"""
__all__ = ["Value", "Plan", "plan"]

INF = float("inf")


class Value:
    """One value of the lowered program.

    kind: "input" | "steps" (written by ufunc calls, may take out=) | "expr" (a fresh array
    numpy allocates) | "view" (shares memory with operands[0]).
    """

    __slots__ = ("name", "shape", "dtype", "operands", "kind", "elementwise", "escapes", "late_reads")

    def __init__(self, name, shape, dtype, operands=(), *, kind, elementwise=True, escapes=False,
                 late_reads=()):
        self.late_reads = set(late_reads)  # operands read again after the first write
        self.name = name
        self.shape = tuple(shape)
        self.dtype = dtype
        self.operands = list(operands)
        self.kind = kind
        self.elementwise = elementwise
        self.escapes = escapes


class Plan:
    def __init__(self):
        self.out = {}  # value name -> None | "_bN" | name of the dying operand written in place
        self.buffers = []  # [(shape, dtype)] of the persistent buffers _b0, _b1, ...


def plan(values):
    """Assign storage to every "steps" value (see the module docstring)."""
    by_name = {v.name: v for v in values}
    root = {}  # value name -> the value whose storage it is (a view: what it views)
    for v in values:
        root[v.name] = root.get(v.operands[0], v.operands[0]) if v.kind == "view" and v.operands else v.name
    last, escapes = _last_uses(values, root)
    want_fresh = _fresh_chains(values, root, last, escapes, by_name)
    result = Plan()
    storage = {}  # root -> ("p", k) | ("f", owner) | ("x",)
    owner = {}  # storage -> root currently holding it
    free = {}  # (shape, dtype) -> [k]
    for i, v in enumerate(values):
        r = root[v.name]
        if v.kind == "input":
            storage[r] = ("x",)
        elif v.kind == "view":
            pass  # shares its root's storage
        elif v.kind == "expr":
            st = ("f", v.name) if v.shape else ("x",)  # a 0-d result may be a numpy scalar
            storage[r] = st
            owner[st] = r
        else:
            st = _choose(v, i, r, storage, owner, free, last, escapes | want_fresh, by_name, root, result)
            storage[r] = st
            owner[st] = r
        # release what died at this node, in operand order: which free buffer the next value
        # takes is then the same in every process (a set's order changes with the hash seed)
        for o in dict.fromkeys(v.operands):
            ro = root.get(o)
            if ro is not None and last.get(ro, -1) == i:
                _release(ro, storage, owner, free, result)
        if last.get(r, -1) < i and r not in escapes and r == v.name:  # computed but never used
            _release(r, storage, owner, free, result)
    return result


def _release(r, storage, owner, free, result):
    """The persistent buffer r holds, if any, is free for the next value of its shape/dtype."""
    st = storage.get(r)
    if st is not None and st[0] == "p" and owner.get(st) == r:
        del owner[st]
        free.setdefault(result.buffers[st[1]], []).append(st[1])


def _last_uses(values, root):
    """root -> index of the value that reads it last (INF: it escapes), and the escaping roots."""
    last = {}
    escapes = set()
    for i, v in enumerate(values):
        for o in v.operands:
            if o in root:
                last[root[o]] = max(last.get(root[o], -1), i)
        if v.escapes:
            escapes.add(root[v.name])
    for r in escapes:
        last[r] = INF
    return last, escapes


def _fresh_chains(values, root, last, escapes, by_name):
    """Values that run in a fresh array: an elementwise chain ending in an output runs in the
    output's fresh array from its first op (`y = np.sin(x); np.add(y, 1, out=y)`), as
    hand-written numpy does."""
    pos = {v.name: i for i, v in enumerate(values)}
    want_fresh = set()
    for v in reversed(values):
        if v.kind == "steps" and v.elementwise and v.shape and (root[v.name] in escapes or v.name in want_fresh):
            for o in v.operands:
                ov = by_name.get(o)
                if ov is not None and ov.kind == "steps" and root[o] == o and o not in escapes and \
                        (ov.shape, ov.dtype) == (v.shape, v.dtype) and last.get(o) == pos[v.name]:
                    want_fresh.add(o)
                    break
    return want_fresh


def _choose(v, i, r, storage, owner, free, last, escapes, by_name, root, result):
    key = (v.shape, v.dtype)
    esc = r in escapes
    if v.elementwise and v.shape:
        for o in v.operands:  # write in place into an operand that dies here
            ov = by_name.get(o)
            if ov is None or root[o] != o or ov.kind == "input" or last.get(o, -1) != i:
                continue
            if o in v.late_reads:  # a later step reads it again: writing into it would clobber it
                continue
            if (ov.shape, ov.dtype) != key:
                continue
            st = storage.get(o)
            if st is None or owner.get(st) != o or st[0] == "x" or (esc and st[0] == "p"):
                continue
            result.out[v.name] = o
            return st
    if esc:
        result.out[v.name] = None
        return ("f", v.name)
    ks = free.get(key)
    if ks:
        k = ks.pop()
    else:
        k = len(result.buffers)
        result.buffers.append(key)
    result.out[v.name] = f"_b{k}"
    return ("p", k)
