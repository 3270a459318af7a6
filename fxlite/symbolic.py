"""Symbolic integers: the expressions symbolic sizes are made of, printed as PyTorch prints them.

A symbolic size is an integer expression over symbols `s0, s1, ...` (each the size of one
input dimension). The expressions are the ones shape code makes: integer polynomials (sums
and products of symbols and constants), floor division and modulo by a positive constant,
and min/max. Each value has one canonical form, a polynomial whose monomials are products of
*atoms* (a symbol, `(e//c)`, `Mod(e, c)`, `Min(..)`, `Max(..)`), so two spellings of one size
are equal objects (`8*s0*s1 == s1*s0*8`). A constant is always a plain int, never an Expr.

Anything outside this small algebra (division by a symbol that does not divide exactly, a
negative divisor, a symbolic exponent) raises NotSymbolic: the caller then specializes the
symbols involved to their current values instead of guessing.

`str(e)` prints as sympy does in PyTorch's graphs (`"f32[(s0//2), 2*s1 + 1]"`, `Sym(-s0 + s1)`);
`pycode(e, name)` prints Python that computes it (guards: `(L['x'].size()[0] % 2) == 0`).
An example value may carry its symbolic shape (`set_sym_shape`); printing a graph reads it.

>>> s0, s1 = symbol("s0"), symbol("s1")
>>> print(s0 * s1 * 2 + s0 - 1, s0 // 2, (s0 * 4 + 1) // 2, s1 - s0, (2 * s0) % 4)
2*s0*s1 + s0 - 1 (s0//2) 2*s0 -s0 + s1 2*(Mod(s0, 2))
>>> evaluate(s0 * s1 // 4, {"s0": 6, "s1": 3}), Rel("==", s0 % 2, 0).evaluate({"s0": 6})
(4, True)
"""
import math
import operator

__all__ = ["Expr", "Rel", "SymInt", "NotSymbolic", "symbol", "atom_expr", "floordiv", "mod", "sym_min",
           "sym_max", "exact_div", "evaluate", "subs", "free_symbols", "linear_terms", "replace_atoms", "atoms",
           "expand_floors", "floor_atoms", "modulo_of", "bounds", "pycode", "sym_shape",
           "set_sym_shape", "is_expr"]


class NotSymbolic(Exception):
    """An operation outside the algebra of symbolic sizes (the caller specializes instead)."""


# ---------------------------------------------------------------------------- atoms
class _Atom:
    """A factor of a monomial. `key` orders atoms: symbols first (by name, as sympy sorts
    them), then the functions of expressions."""

    __slots__ = ("key", "_hash")

    def __eq__(self, other):
        return type(other) is type(self) and other.key == self.key

    def __hash__(self):
        return self._hash

    def __lt__(self, other):
        return self.key < other.key


class _Symbol(_Atom):
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name
        self.key = (0, name)
        self._hash = hash(self.key)

    def value(self, values):
        return values[self.name]

    def subs(self, mapping):
        return mapping.get(self.name, _atom_expr(self))

    def symbols(self, out):
        out.add(self.name)

    def text(self):
        return self.name

    def code(self, name):
        return name(self.name), True  # (text, is an atom: needs no parentheses)

    def bounds(self, ranges):
        return ranges(self.name)

    def as_call(self):
        return None  # a symbol is an input, not a computation


class _FloorDiv(_Atom):
    """floor(num / den), den a constant > 1, num an Expr whose coefficients are in [0, den)."""

    __slots__ = ("num", "den")

    def __init__(self, num, den):
        self.num, self.den = num, den
        self.key = (1, "//", num.key(), den)
        self._hash = hash(self.key)

    def value(self, values):
        return evaluate(self.num, values) // self.den

    def subs(self, mapping):
        return floordiv(subs(self.num, mapping), self.den)

    def symbols(self, out):
        out.update(free_symbols(self.num))

    def text(self):
        n = self.num
        inner = str(n) if n.is_symbol() else f"({n})"
        return f"({inner}//{self.den})"

    def code(self, name):
        return f"({_operand(self.num, name)} // {self.den})", True

    def bounds(self, ranges):
        lo, hi = bounds(self.num, ranges)
        return _floor(lo, self.den), _floor(hi, self.den)

    def as_call(self):
        return operator.floordiv, (self.num, self.den)


class _Mod(_Atom):
    """num % den, den a constant > 1."""

    __slots__ = ("num", "den")

    def __init__(self, num, den):
        self.num, self.den = num, den
        self.key = (1, "%", num.key(), den)
        self._hash = hash(self.key)

    def value(self, values):
        return evaluate(self.num, values) % self.den

    def subs(self, mapping):
        return mod(subs(self.num, mapping), self.den)

    def symbols(self, out):
        out.update(free_symbols(self.num))

    def text(self):
        return f"Mod({self.num}, {self.den})"

    def code(self, name):
        return f"{_operand(self.num, name)} % {self.den}", False

    def bounds(self, ranges):
        lo, hi = bounds(self.num, ranges)
        return (lo, hi) if 0 <= lo and hi < self.den else (0, self.den - 1)

    def as_call(self):
        return operator.mod, (self.num, self.den)


class _MinMax(_Atom):
    """Min(a, b, ...) or Max(a, b, ...) of expressions that do not simplify to one of them."""

    __slots__ = ("fn", "args")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args  # fn: min or max; args: sorted, at most one int
        self.key = (1, fn.__name__, tuple(_key(a) for a in args))
        self._hash = hash(self.key)

    def value(self, values):
        return self.fn(evaluate(a, values) for a in self.args)

    def subs(self, mapping):
        return _minmax(self.fn, [subs(a, mapping) for a in self.args])

    def symbols(self, out):
        for a in self.args:
            out.update(free_symbols(a))

    def text(self):
        return f"{self.fn.__name__.title()}({', '.join(str(a) for a in self.args)})"

    def code(self, name):
        return f"{self.fn.__name__}({', '.join(pycode(a, name) for a in self.args)})", True

    def bounds(self, ranges):
        each = [bounds(a, ranges) for a in self.args]
        return self.fn(b[0] for b in each), self.fn(b[1] for b in each)

    def as_call(self):
        return self.fn, self.args


def _key(v):
    return (0, v) if type(v) is int else (1, v.key())


# ---------------------------------------------------------------------------- expressions
class Expr:
    """A canonical integer polynomial over atoms (see the module docstring). Immutable.

    `terms` is a tuple of (monomial, coefficient), a monomial a sorted tuple of (atom, power);
    never empty and never only a constant (a constant is an int)."""

    __slots__ = ("terms", "_hash")

    def __init__(self, terms):
        self.terms = terms
        self._hash = hash(terms)

    def key(self):
        return self.terms

    def __eq__(self, other):
        return type(other) is Expr and other.terms == self.terms

    def __hash__(self):
        return self._hash

    def is_symbol(self):
        """Whether this is one symbol alone (s0)."""
        t = self.terms
        return len(t) == 1 and t[0][1] == 1 and len(t[0][0]) == 1 and t[0][0][0][1] == 1 \
            and type(t[0][0][0][0]) is _Symbol

    def atom(self):
        """The atom when this is one atom alone (coefficient 1, power 1), else None."""
        t = self.terms
        if len(t) == 1 and t[0][1] == 1 and len(t[0][0]) == 1 and t[0][0][0][1] == 1:
            return t[0][0][0][0]
        return None

    # arithmetic: with ints and other Exprs; results are ints when constant
    def __add__(self, other):
        return add(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return add(self, mul(other, -1))

    def __rsub__(self, other):
        return add(other, mul(self, -1))

    def __mul__(self, other):
        return mul(self, other)

    __rmul__ = __mul__

    def __neg__(self):
        return mul(self, -1)

    def __floordiv__(self, other):
        return floordiv(self, other)

    def __rfloordiv__(self, other):
        return floordiv(other, self)

    def __mod__(self, other):
        return mod(self, other)

    def __rmod__(self, other):
        return mod(other, self)

    def __pow__(self, n):
        return power(self, n)

    def __bool__(self):
        raise NotSymbolic("the truth of a symbolic size is a guard: ask the shape environment")

    def __str__(self):
        return _text(self)

    __repr__ = __str__  # as sympy: the expression itself


def is_expr(v):
    return type(v) is Expr


def atom_expr(atom):
    """The expression of one atom alone."""
    return Expr((((((atom, 1),), 1),)))


_atom_expr = atom_expr


def symbol(name):
    """The expression of one symbol."""
    return _atom_expr(_Symbol(name))


def _terms(v):
    if type(v) is int:
        return {(): v} if v else {}
    if type(v) is Expr:
        return dict(v.terms)
    if type(v) is bool:
        return {(): int(v)} if v else {}
    raise NotSymbolic(f"{type(v).__name__} in a symbolic size")


def _make(d):
    """The canonical value of a {monomial: coefficient} dict: an int when constant."""
    items = [(m, c) for m, c in d.items() if c]
    if not items:
        return 0
    if len(items) == 1 and items[0][0] == ():
        return items[0][1]
    items.sort(key=lambda mc: tuple((a.key, p) for a, p in mc[0]))
    return Expr(tuple(items))


def add(a, b):
    if type(a) is int and type(b) is int:
        return a + b
    d = _terms(a)
    for m, c in _terms(b).items():
        d[m] = d.get(m, 0) + c
    return _make(d)


def _mono_mul(m1, m2):
    if not m1:
        return m2
    if not m2:
        return m1
    powers = dict(m1)
    for a, p in m2:
        powers[a] = powers.get(a, 0) + p
    return tuple(sorted(powers.items(), key=lambda ap: ap[0].key))


def mul(a, b):
    if type(a) is int and type(b) is int:
        return a * b
    out = {}
    for m1, c1 in _terms(a).items():
        for m2, c2 in _terms(b).items():
            m = _mono_mul(m1, m2)
            out[m] = out.get(m, 0) + c1 * c2
    return _make(out)


def power(a, n):
    if type(n) is not int or n < 0:
        raise NotSymbolic("a symbolic size to a power that is not a constant natural number")
    out = 1
    for _ in range(n):
        out = mul(out, a)
    return out


def _content(d):
    """The gcd of a {monomial: coefficient} dict's coefficients."""
    g = 0
    for c in d.values():
        g = math.gcd(g, c)
    return g


def _exact_div(a, b):
    """a / b when b divides a exactly as polynomials (b one term, or a a multiple of b), else None."""
    ta, tb = _terms(a), _terms(b)
    if not tb:
        return None
    if len(tb) == 1:
        ((mb, cb),) = tb.items()
        pb = dict(mb)
        out = {}
        for m, c in ta.items():
            pm = dict(m)
            if c % cb or any(pm.get(x, 0) < p for x, p in pb.items()):
                return None
            rest = tuple(sorted(((x, p - pb.get(x, 0)) for x, p in pm.items() if p != pb.get(x, 0)),
                                key=lambda ap: ap[0].key))
            out[rest] = c // cb
        return _make(out)
    # a constant multiple of a polynomial: (2*s0 + 2) / (s0 + 1)
    m0, c0 = next(iter(tb.items()))
    ca = ta.get(m0)
    if ca is None or ca % c0 or set(ta) != set(tb):
        return None
    k = ca // c0
    return k if all(ta[m] == k * c for m, c in tb.items()) else None


def exact_div(a, b):
    """a / b when b divides a exactly as polynomials, else None."""
    return _exact_div(a, b)


def _monomial_divisor(a, b):
    """(a / m, c) when b == c * m for a constant c > 0 and a product of symbols m that
    divides every term of a (then a // b == (a / m) // c: sizes are positive); else None."""
    tb = _terms(b)
    if len(tb) != 1:
        return None
    ((m, c),) = tb.items()
    if c <= 0 or not m or any(type(x) is not _Symbol for x, _ in m):
        return None
    q = _exact_div(a, _make({m: 1}))
    return None if q is None else (q, c)


def floordiv(a, b):
    """a // b (floor division) for a divisor that is a constant > 0, divides a exactly, or is
    a constant times a product of symbols that divides a (`(s0*s1)//(2*s0) == (s1//2)`)."""
    if type(b) is not int:
        q = _exact_div(a, b)
        if q is None:
            split = _monomial_divisor(a, b)
            if split is None:
                raise NotSymbolic(f"({a})//({b}): division by a symbolic size that does not divide it")
            return floordiv(*split)
        return q
    if b <= 0:
        raise NotSymbolic("floor division of a symbolic size by a constant <= 0")
    if type(a) is int:
        return a // b
    if b == 1:
        return a
    atom = a.atom()
    if type(atom) is _FloorDiv:  # (x // c) // b == x // (c * b)
        return floordiv(atom.num, atom.den * b)
    # a == b * q + r with r's coefficients in [0, b): a // b == q + r // b
    q, r = {}, {}
    for m, c in a.terms:
        q[m], r[m] = divmod(c, b)
    quotient, rest = _make(q), _make(r)
    if type(rest) is int:
        return quotient  # 0 <= rest < b
    g = math.gcd(_content(r), b)  # (2*s0) // 4 == s0 // 2
    if g > 1:
        rest, b = _make({m: c // g for m, c in r.items()}), b // g
        if b == 1:
            return add(quotient, rest)
    return add(quotient, _atom_expr(_FloorDiv(rest, b)))


def mod(a, b):
    """a % b for a divisor that is a constant > 0 or divides a exactly."""
    if type(b) is not int:
        if _exact_div(a, b) is not None:
            return 0
        split = _monomial_divisor(a, b)
        if split is None:
            raise NotSymbolic(f"({a}) % ({b}): modulo by a symbolic size that does not divide it")
        q, c = split
        return mul(exact_div(b, c), mod(q, c))  # (q*m) % (c*m) == m * (q % c)
    if b <= 0:
        raise NotSymbolic("modulo of a symbolic size by a constant <= 0")
    if type(a) is int:
        return a % b
    r = {m: c % b for m, c in a.terms}  # a == b * q + r
    rest = _make(r)
    if type(rest) is int:
        return rest % b
    g = math.gcd(_content(r), b)  # (2*s0) % 4 == 2 * (s0 % 2)
    if g == b:
        return 0
    if g > 1:
        return mul(g, mod(_make({m: c // g for m, c in r.items()}), b // g))
    atom = rest.atom()
    if type(atom) is _Mod and atom.den % b == 0:  # (x % 4) % 2 == x % 2
        return mod(atom.num, b)
    return _atom_expr(_Mod(rest, b))


def _minmax(fn, args):
    flat = []
    for a in args:
        atom = a.atom() if type(a) is Expr else None
        flat.extend(atom.args if type(atom) is _MinMax and atom.fn is fn else [a])
    ints = [a for a in flat if type(a) is int]
    exprs = []
    for a in flat:
        if type(a) is not int and a not in exprs:
            exprs.append(a)
    if ints:
        exprs.append(fn(ints))
    # drop an argument another one beats by a constant (min(s0, s0 + 1) == s0)
    keep = []
    for a in exprs:
        dominated = False
        for b in exprs:
            if b is not a:
                d = add(a, mul(b, -1))
                if type(d) is int and (d > 0 if fn is min else d < 0):
                    dominated = True
                    break
        if not dominated:
            keep.append(a)
    if len(keep) == 1:
        return keep[0]
    keep.sort(key=lambda v: (type(v) is not int, str(v)))
    return _atom_expr(_MinMax(fn, tuple(keep)))


def sym_min(*args):
    return _minmax(min, args)


def sym_max(*args):
    return _minmax(max, args)


# ---------------------------------------------------------------------------- reading
def evaluate(e, values):
    """The int value of e for symbol values {name: int}."""
    if type(e) is int:
        return e
    total = 0
    for m, c in e.terms:
        v = c
        for a, p in m:
            v *= a.value(values) ** p
        total += v
    return total


def subs(e, mapping):
    """e with symbols replaced ({name: int or Expr})."""
    if type(e) is int or not mapping:
        return e
    out = 0
    for m, c in e.terms:
        v = c
        for a, p in m:
            v = mul(v, power(a.subs(mapping), p))
        out = add(out, v)
    return out


def free_symbols(e):
    """The names of the symbols e reads."""
    out = set()
    if type(e) is Expr:
        for m, _ in e.terms:
            for a, _ in m:
                a.symbols(out)
    return out


def replace_atoms(e, mapping):
    """e with some of its (top-level) atoms replaced ({atom: int or Expr})."""
    if type(e) is int or not mapping:
        return e
    out = 0
    for m, c in e.terms:
        v = c
        for a, p in m:
            v = mul(v, power(mapping[a] if a in mapping else atom_expr(a), p))
        out = add(out, v)
    return out


def atoms(e):
    """The top-level atoms of e."""
    return set() if type(e) is int else {a for m, _ in e.terms for a, _ in m}


def expand_floors(e):
    """e with each term c*k*(x//c)*rest written as k*(x - x%c)*rest (the same value): a
    difference of floor divisions then shows as modulos (`2*(s0//2) - s0 == -(s0%2)`)."""
    if type(e) is int:
        return e
    out = 0
    for m, c in e.terms:
        term = None
        for i, (a, p) in enumerate(m):
            if type(a) is _FloorDiv and p == 1 and c % a.den == 0:
                rest = _make({m[:i] + m[i + 1:]: c // a.den})
                term = mul(rest, add(a.num, mul(mod(a.num, a.den), -1)))
                break
        out = add(out, term if term is not None else _make({m: c}))
    return out


def modulo_of(e):
    """The atom `x % c` when e == k * (x % c) for a constant k != 0, else None."""
    if type(e) is not Expr or len(e.terms) != 1:
        return None
    ((m, _),) = e.terms
    return m[0][0] if len(m) == 1 and m[0][1] == 1 and type(m[0][0]) is _Mod else None


def floor_atoms(e):
    """The (x//c) atoms of e, as (x, c)."""
    return [(a.num, a.den) for a in atoms(e) if type(a) is _FloorDiv]


def linear_terms(e):
    """({symbol name: coefficient}, constant, rest) with e == sum(k * s) + constant + rest:
    rest (an Expr, or 0) holds the terms that are not one symbol alone."""
    if type(e) is int:
        return {}, e, 0
    coeffs, const, rest = {}, 0, {}
    for m, c in e.terms:
        if not m:
            const = c
        elif len(m) == 1 and m[0][1] == 1 and type(m[0][0]) is _Symbol:
            coeffs[m[0][0].name] = c
        else:
            rest[m] = c
    return coeffs, const, _make(rest)


def bounds(e, ranges):
    """(lo, hi) that e can take when each symbol s lies in ranges(s) (math.inf: unbounded)."""
    if type(e) is int:
        return e, e
    lo = hi = 0
    for m, c in e.terms:
        tlo, thi = c, c
        for a, p in m:
            alo, ahi = a.bounds(ranges)
            for _ in range(p):
                prods = [_mul_bound(x, y) for x in (tlo, thi) for y in (alo, ahi)]
                tlo, thi = min(prods), max(prods)
        lo, hi = lo + tlo, hi + thi
    return lo, hi


def _mul_bound(x, y):
    return 0 if x == 0 or y == 0 else x * y


def _floor(v, d):
    return v if v in (math.inf, -math.inf) else v // d


# ---------------------------------------------------------------------------- relations
_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_SYMPY = {"==": "Eq", "!=": "Ne"}


class Rel:
    """A comparison `lhs op rhs` of symbolic sizes (a symbolic bool)."""

    __slots__ = ("op", "lhs", "rhs")

    def __init__(self, op, lhs, rhs):
        self.op, self.lhs, self.rhs = op, lhs, rhs

    def evaluate(self, values):
        return _OPS[self.op](evaluate(self.lhs, values), evaluate(self.rhs, values))

    def negate(self):
        return Rel(_NEGATE[self.op], self.lhs, self.rhs)

    def holds_for(self, diff):
        """The truth of `diff op 0` for an int diff (lhs - rhs)."""
        return _OPS[self.op](diff, 0)

    def subs(self, mapping):
        return Rel(self.op, subs(self.lhs, mapping), subs(self.rhs, mapping))

    def diff(self):
        """lhs - rhs: the relation is `diff op 0`."""
        return add(self.lhs, mul(self.rhs, -1))

    def symbols(self):
        return free_symbols(self.lhs) | free_symbols(self.rhs)

    def __eq__(self, other):
        return type(other) is Rel and (self.op, self.lhs, self.rhs) == (other.op, other.lhs, other.rhs)

    def __hash__(self):
        return hash((self.op, self.lhs, self.rhs))

    def __bool__(self):
        raise NotSymbolic("the truth of a symbolic comparison is a guard: ask the shape environment")

    def __str__(self):
        if self.op in _SYMPY:
            return f"{_SYMPY[self.op]}({self.lhs}, {self.rhs})"
        return f"{self.lhs} {self.op} {self.rhs}"

    __repr__ = __str__

    def code(self, name):
        """Python for the comparison, with symbol s printed as name(s)."""
        return f"{_operand(self.lhs, name)} {self.op} {_operand(self.rhs, name)}"


# ---------------------------------------------------------------------------- printing
def _print_order(e):
    """e's terms in sympy's printing order: lexicographic on the exponent vectors over the
    atoms (symbols by name first), highest first, the constant last; and sympy's one
    exception, `c - x` for a positive constant and one negated factor (`1 - s0`)."""
    gens = sorted({a for m, _ in e.terms for a, _ in m}, key=lambda a: a.key)
    index = {a: i for i, a in enumerate(gens)}

    def vector(m):
        v = [0] * len(gens)
        for a, p in m:
            v[index[a]] = p
        return v

    terms = sorted(e.terms, key=lambda mc: vector(mc[0]), reverse=True)
    if len(terms) == 2 and terms[1][0] == () and terms[1][1] > 0 and terms[0][1] < 0 and len(terms[0][0]) == 1:
        terms.reverse()
    return terms


def _factor_text(a, p, alone):
    t = a.text()
    if not alone and type(a) in (_FloorDiv, _Mod):
        t = f"({t})"  # PyTorch's floor division and Mod print with low precedence
    return t if p == 1 else f"{t}**{p}"


def _term_text(m, c, alone):
    if not m:
        return str(c)
    factors = "*".join(_factor_text(a, p, alone and c == 1 and len(m) == 1) for a, p in m)
    if c == 1:
        return factors
    if c == -1:
        return "-" + factors
    return f"{c}*{factors}"


def _text(e):
    terms = _print_order(e)
    alone = len(terms) == 1
    out = ""
    for i, (m, c) in enumerate(terms):
        if i == 0:
            out = _term_text(m, c, alone)
        elif c < 0:
            out += " - " + _term_text(m, -c, False)
        else:
            out += " + " + _term_text(m, c, False)
    return out


def _code(e, name):
    """(Python text of e, whether it needs no parentheses as an operand)."""
    if type(e) is int:
        return str(e), e >= 0
    atom = e.atom()
    if atom is not None:
        return atom.code(name)
    parts = []
    for i, (m, c) in enumerate(_print_order(e)):
        factors = []
        for a, p in m:
            text, simple = a.code(name)
            text = text if simple else f"({text})"
            factors.append(text if p == 1 else f"{text}**{p}")
        k = abs(c) if i else c
        if not factors:
            body = str(k)
        elif k == 1:
            body = "*".join(factors)
        elif k == -1:
            body = "-" + "*".join(factors)
        else:
            body = f"{k}*" + "*".join(factors)
        parts.append(body if i == 0 else (" - " if c < 0 else " + ") + body)
    return "".join(parts), False


def _operand(e, name):
    text, simple = _code(e, name)
    return text if simple else f"({text})"


def pycode(e, name=str):
    """Python that computes e (or a Rel), symbol `s` written as name(s)."""
    if type(e) is Rel:
        return e.code(name)
    return _code(e, name)[0]


# ---------------------------------------------------------------------------- values
class SymInt:
    """The example value of a graph node that is a symbolic int (`meta["val"]`): its
    expression and its value at capture. Prints in graphs as `Sym(<expr>)`."""

    __slots__ = ("expr", "hint")

    def __init__(self, expr, hint):
        self.expr = expr
        self.hint = hint

    def __repr__(self):
        return f"SymInt({self.expr})"


def sym_shape(val):
    """The symbolic shape of an example value (a tuple of ints and Exprs), or None when its
    shape is all constants."""
    return getattr(val, "_sym_shape", None)


def set_sym_shape(val, shape):
    """Attach a symbolic shape to an example value (a fake tensor); an all-constant shape is
    not attached."""
    if any(type(s) is Expr for s in shape):
        val._sym_shape = tuple(shape)
    elif getattr(val, "_sym_shape", None) is not None:
        del val._sym_shape
