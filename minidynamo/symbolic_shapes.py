"""The shape environment: symbols for dynamic sizes, the facts a trace relies on, their guards.

A dimension that is dynamic gets a symbol (`s0, s1, ...` in order of first appearance) with
its value at capture (the *hint*) and a range (`[2, inf)`: sizes 0 and 1 always specialize, as
in PyTorch). Shape code then computes with expressions (fxlite.symbolic). Whenever the trace
needs a yes/no answer about them (`if T > 1`, a broadcast, a slice bound), `evaluate` answers
from the ranges when it can, else from the hints, and records the answer as a fact: a range
(`s0 <= 32`), a replacement (`s1 == s0`, `s0 == 5`: specialization) or a guard expression
(`s0 % 2 == 0`). At the end of the trace `finish` turns the facts into SHAPE_ENV guards written
as PyTorch writes them (`2 <= L['x'].size()[0] <= 32`, `(L['x'].size()[0] % 2) == 0`); a
symbol specialized to a constant goes back into its tensor's TENSOR_MATCH instead.

Which dimensions get symbols is the policy of `md.compile(dynamic=...)`: None (the default)
compiles static first and makes a dimension dynamic after its size changed (automatic dynamic,
one recompile); True makes every input dimension dynamic (but parameters and module state);
False never; `mark_dynamic`, `maybe_mark_dynamic` and `mark_static` mark single tensors. The
`dynamic` log topic says why each symbol was created or specialized, with the user's file:line.

>>> import minidynamo as md, tensorlite as tl
>>> @md.compile(dynamic=True)
... def f(x):
...     return x.view(x.shape[0] // 2, -1)
>>> f(tl.ones(6, 2)).shape
tensorlite.Size([3, 4])
>>> [str(g) for g in md.inspect(f).entries[0].guards if g.kind == "SHAPE_ENV"]
["SHAPE_ENV: (L['x'].size()[0] % 2) == 0", "SHAPE_ENV: 2 <= L['x'].size()[0]", "SHAPE_ENV: 2 <= L['x'].size()[1]"]
"""
import dataclasses
import math
import operator
import os
from typing import NamedTuple

import tensorlite as tl
from fxlite.symbolic import (Expr, NotSymbolic, Rel, SymInt, atom_expr, bounds, evaluate, expand_floors,
                             floor_atoms, free_symbols, linear_terms, modulo_of, pycode, replace_atoms, set_sym_shape,
                             subs, sym_shape, symbol)

from . import config
from .exc import MinidynamoError
from .logs import log_dynamic
from .source import AttrSource, ExprSource, Source, strip_local

INF = math.inf


class ConstraintViolationError(MinidynamoError):
    """A dimension marked with md.mark_dynamic was specialized by the program."""


class SizeSource(Source):
    """The size of one dimension of a tensor: `L['x'].size()[0]`."""

    def __init__(self, base, dim):
        self.base = base
        self.dim = dim

    def name(self):
        return f"{self.base.name()}.size()[{self.dim}]"

    def expr(self):
        return f"{self.base.expr()}._data.shape[{self.dim}]"


@dataclasses.dataclass
class SymbolInfo:
    """One symbol: where its value comes from, its value at capture, what it may be."""

    name: str
    source: SizeSource
    hint: int
    lo: int = 2  # sizes 0 and 1 specialize
    hi: float = INF
    strict: bool = False  # md.mark_dynamic: specializing it is an error
    merged: bool = False  # replaced by another symbol, which took its range
    node: object = None  # its graph placeholder (dropped at the end when unused)
    where: str = ""  # the user code that created it or last narrowed its range


class ShapeGuard(NamedTuple):
    """What a SHAPE_ENV guard checks: as users read it, as Python, the sizes it reads (their
    values explain a failure) and the user code the fact came from."""

    text: str  # over source names: (L['x'].size()[0] % 2) == 0
    code: str  # over source expressions: (x._data.shape[0] % 2) == 0
    reads: tuple  # the source names of the sizes it reads
    where: str  # `assert x.shape[0] % 2 == 0  # f.py:3 in f`, or ""


# ---------------------------------------------------------------------------- the words
def _range_text(lo, hi):
    return f"[{lo}, {'int_oo' if hi == INF else hi}]"


def _violation_message(info, value, where):
    return (f"Constraints violated ({info.source.name()})! For more information, run with "
            f"MINIDYNAMO_LOGS=dynamic.\n  - You marked {info.source.name()} as dynamic but your code "
            f"specialized it to be a constant ({value}). If you're using mark_dynamic, either remove it "
            f"or use maybe_mark_dynamic.\nUser stack:\n{where}")


class DimPolicy(dict):
    """The dimensions automatic dynamic made dynamic ({source name: dims}, the FrameCache's),
    with the compile's `dynamic` flag (None, True or False) and the shapes seen first."""

    dynamic = None


def with_policy(dims, dynamic):
    """dims (a {source name: dims} dict) with the `dynamic` flag of md.compile."""
    p = DimPolicy(dims)
    p.dynamic = dynamic
    return p


# ---------------------------------------------------------------------------- marks
def _dims(t, dim):
    dims = {dim} if isinstance(dim, int) else set(dim)
    return {d % max(t.dim(), 1) for d in dims}


def mark_dynamic(t, dim, min=None, max=None):
    """Compile t's dimension(s) dim as dynamic from the first compile on: a symbol, and an
    error naming the user's line if the program specializes it. min/max bound its range.

    >>> import minidynamo as md, tensorlite as tl
    >>> x = tl.ones(4, 3)
    >>> md.mark_dynamic(x, 0, max=64)
    >>> md.compile(lambda x: x * x.shape[0])(x).shape
    tensorlite.Size([4, 3])
    """
    dims = _dims(t, dim)
    t._md_dynamic = set(getattr(t, "_md_dynamic", set())) | dims
    if min is not None or max is not None:
        ranges = dict(getattr(t, "_md_dynamic_ranges", {}))
        ranges.update({d: (min, max) for d in dims})
        t._md_dynamic_ranges = ranges


def maybe_mark_dynamic(t, dim):
    """Compile t's dimension(s) dim as dynamic from the first compile on; the program may
    still specialize them (no error).

    >>> import minidynamo as md, tensorlite as tl
    >>> x = tl.ones(4)
    >>> md.maybe_mark_dynamic(x, 0)
    """
    t._md_maybe_dynamic = set(getattr(t, "_md_maybe_dynamic", set())) | _dims(t, dim)


def mark_static(t, dim):
    """Always guard t's dimension(s) dim on their exact size (even after a recompile).

    >>> import minidynamo as md, tensorlite as tl
    >>> x = tl.ones(4)
    >>> md.mark_static(x, 0)
    """
    t._md_static = set(getattr(t, "_md_static", set())) | _dims(t, dim)


INT = "int"  # in a DimPolicy entry: the value at that source is an int whose value changed


def changed_dims(guard, value):
    """What a failed guard says became dynamic at its source: the dims of a tensor whose
    sizes changed, or INT for an int whose value changed (automatic dynamic)."""
    if guard.kind == "TENSOR_MATCH":
        m = guard.expected
        if (isinstance(value, tl.Tensor) and value._data.dtype == m.dtype and value.requires_grad == m.requires_grad
                and value.dim() == len(m.shape)):
            return {i for i, (a, b) in enumerate(zip(m.shape, value.shape)) if a is not None and a != b}
    elif guard.kind == "EQUALS_MATCH" and type(guard.expected) is int and type(value) is int \
            and value != guard.expected and not _module_state(guard.source, None):
        return {INT}
    return set()


def _module_state(source, value):
    """Parameters, and tensors reached through an attribute (module buffers): static under
    dynamic=True, as PyTorch keeps nn.Module state static."""
    if isinstance(value, tl.nn.Parameter):
        return True
    while source is not None:
        if isinstance(source, AttrSource):
            return True
        source = getattr(source, "base", None)
    return False


# ---------------------------------------------------------------------------- the environment
class ShapeEnv:
    """The symbols of one trace and the facts about them (see the module docstring)."""

    def __init__(self, output, policy=None):
        self.output = output  # the OutputGraph: its graph, guards and current translator
        self.policy = policy if isinstance(policy, DimPolicy) else DimPolicy(policy or {})
        self.symbols = {}  # name -> SymbolInfo, in creation order (empty: a static trace)
        self.hints = {}  # name -> value at capture
        self.replacements = {}  # name -> int or Expr it equals (resolved: no replaced name inside)
        self.zero_atoms = {}  # Mod(x, c) atoms known to be 0 (x divisible by c) -> 0
        self.facts = []  # [(Rel, where)]: guards beyond ranges and replacements
        self.violations = []  # error messages: marked dynamic, then specialized
        self._nodes = {}  # Expr -> the graph node that computes it
        self._int_inputs = {}  # source name -> the SymNodeVariable of a dynamic int argument

    # ---- creating symbols ---------------------------------------------------------------
    def tensor_dims(self, source, value):
        """{dim: Expr} for the dims of an input tensor that get symbols; creates the symbols
        and their placeholders (before the tensor's own)."""
        reasons = self._dynamic_reasons(source, value)
        if not reasons:
            return {}
        ranges = getattr(value, "_md_dynamic_ranges", {})
        strict = getattr(value, "_md_dynamic", ())
        out = {}
        for d in sorted(reasons):
            size = value.shape[d]
            src = SizeSource(source, d)
            lo, hi = ranges.get(d, (None, None))
            lo, hi = 2 if lo is None else max(2, lo), INF if hi is None else hi
            if size in (0, 1) or not lo <= size <= hi:
                if d in strict:
                    self.violations.append(_violation_message(
                        SymbolInfo("", src, size), size, self._where_stack()))
                log_dynamic(f"static {src.name()} = {size} (sizes 0 and 1 specialize)" if size in (0, 1)
                            else f"static {src.name()} = {size} (outside its range {_range_text(lo, hi)})")
                continue
            out[d] = self._create(src, size, lo, hi, d in strict, reasons[d])
        return out

    def _dynamic_reasons(self, source, value):
        """{dim: why it is dynamic} by the policy and the tensor's marks."""
        out = {d: "mark_dynamic" for d in getattr(value, "_md_dynamic", ())}
        for d in getattr(value, "_md_maybe_dynamic", ()):
            out.setdefault(d, "maybe_mark_dynamic")
        dynamic = self.policy.dynamic
        if dynamic is True and not _module_state(source, value):
            for d in range(value.dim()):
                out.setdefault(d, "dynamic=True")
        elif dynamic is None and config.automatic_dynamic_shapes:
            for d in self.policy.get(source.name(), ()):
                if type(d) is int:
                    out.setdefault(d, "automatic dynamic: its size changed")
        for d in getattr(value, "_md_static", ()):
            out.pop(d, None)
        return out

    def int_input(self, source, value):
        """A SymNodeVariable for an int argument that is dynamic (dynamic=True, or automatic
        dynamic after its value changed), else None (the int is a guarded constant). Ints that
        are 0, 1 or negative, and module state, stay constants."""
        if type(value) is not int or not 2 <= value < 2 ** 62 or _module_state(source, None) \
                or self.output.subgraph_depth():
            return None  # (a huge int is no size: a constant, as it was)
        dynamic = self.policy.dynamic
        if dynamic is True:
            why = "dynamic=True"
        elif dynamic is None and config.automatic_dynamic_shapes and INT in self.policy.get(source.name(), ()):
            why = "automatic dynamic: its value changed"
        else:
            return None
        known = self._int_inputs.get(source.name())
        if known is not None:  # read again (each LOAD_GLOBAL wraps anew): the same symbol
            return known
        from .variables.sym import SymNodeVariable  # cycle: the variables import this module
        self.output.add_guard("TYPE_MATCH", source, int)
        sym = self._int_inputs[source.name()] = SymNodeVariable(self, self._create(source, value, 2, INF, False, why))
        return sym

    def _create(self, src, hint, lo, hi, strict, why):
        from .output_graph import GraphArg  # cycle: output_graph owns a ShapeEnv
        name = f"s{len(self.symbols)}"
        expr = symbol(name)
        out = self.output
        # a size is an input named as its symbol (s0); an int argument keeps its source's name
        node = out.new_placeholder(name if isinstance(src, SizeSource) else src.graph_name())
        node.meta["val"] = SymInt(expr, hint)
        node.meta["source"] = src.name()
        out.graphargs.append(GraphArg(src, hint, node))
        where = self._where()
        self.symbols[name] = SymbolInfo(name, src, hint, lo, hi, strict=strict, node=node, where=where)
        self.hints[name] = hint
        self._nodes[expr] = node
        log_dynamic(f"create_symbol {name} = {hint} for {src.name()} {_range_text(lo, hi)} ({why}) at {where}")
        return expr

    # ---- reading --------------------------------------------------------------------
    def simplify(self, e):
        """e with the replacements and divisibility facts applied (an int when constant)."""
        if type(e) is Expr:
            if self.replacements:
                e = subs(e, self.replacements)
            if self.zero_atoms and type(e) is Expr:
                e = replace_atoms(e, self.zero_atoms)
        return e

    def hint(self, e):
        return evaluate(e, self.hints)

    def bounds(self, e):
        """(lo, hi) that e can take given the symbols' ranges (inf when unbounded)."""
        return bounds(e, self._range)

    def _range(self, name):
        info = self.symbols.get(name)
        return (info.lo, info.hi) if info is not None else (-INF, INF)

    def static_truth(self, rel):
        """True/False when the ranges and facts decide rel, else None."""
        d = rel.diff()
        known = self._decide(rel, d)
        if known is None and floor_atoms(d):  # c*(x//c) is x - x%c: `2*(s0//2) == s0` needs s0%2 == 0
            known = self._decide(rel, self.simplify(expand_floors(d)))
        return known

    def _decide(self, rel, d):
        if type(d) is int:
            return rel.holds_for(d)
        lo, hi = self.bounds(d)
        op = rel.op
        if op in ("==", "!="):
            known = False if (lo > 0 or hi < 0) else (True if lo == hi == 0 else None)
            return known if known is None or op == "==" else not known
        if op in (">", ">="):
            lo, hi, op = -hi, -lo, "<" if op == ">" else "<="
        if op == "<":
            return True if hi < 0 else (False if lo >= 0 else None)
        return True if hi <= 0 else (False if lo > 0 else None)  # <=

    # ---- deciding -------------------------------------------------------------------
    def evaluate(self, rel):
        """The truth of rel for this trace: from the ranges when they decide it, else from the
        hints, and then the answer is recorded as a fact the entry is guarded on."""
        rel = Rel(rel.op, self.simplify(rel.lhs), self.simplify(rel.rhs))
        known = self.static_truth(rel)
        if known is not None:
            return known
        value = rel.evaluate(self.hints)
        self._record(rel if value else rel.negate())
        return value

    def expect_equal(self, a, b):
        """a == b: what an operation needs to succeed (broadcasting, a matmul's inner sizes).
        Equal sizes then share one symbol; unequal ones are left to the operation's error."""
        if type(a) is int and type(b) is int or a == b:
            return
        self.evaluate(Rel("==", a, b))

    def specialize(self, e, why):
        """e's value at capture, with every symbol it reads specialized to its hint."""
        e = self.simplify(e)
        self.specialize_symbols(free_symbols(e), why)
        return self.hint(e)

    def specialize_symbols(self, names, why):
        """Specialize these symbols (names) to their hints."""
        for name in sorted(set(names) - set(self.replacements), key=lambda n: int(n[1:])):
            self._replace(name, self.hints[name], why)

    def specialize_shape(self, shape, why):
        """Specialize the symbols of a symbolic shape, or every symbol (shape None)."""
        if shape is None:
            self.specialize_symbols(self.symbols, why)
        else:
            self.specialize_symbols(set().union(*(free_symbols(self.simplify(s)) for s in shape)), why)

    def _record(self, fact):
        """Keep a fact that holds for this trace: as a replacement, a range, or a guard."""
        d = fact.diff()
        if fact.op == "==":
            if floor_atoms(d):
                d = self.simplify(expand_floors(d))
            divisible = modulo_of(d)
            if divisible is not None:  # x % c == 0: then c*(x//c) == x for every later question
                self.zero_atoms[divisible] = 0
                fact = Rel("==", atom_expr(divisible), 0)
                where = self._where()
                self.facts.append((fact, where))
                log_dynamic(f"eval {fact} [guard added] at {where}")
                return
            solved = _solve(d, self.symbols)
            if solved is not None:
                self._replace(*solved, f"{fact}")
                return
        elif fact.op != "!=" and self._narrow(d, fact):
            return
        where = self._where()
        self.facts.append((fact, where))
        log_dynamic(f"eval {fact} [guard added] at {where}")

    def _narrow(self, d, fact):
        """Narrow a symbol's range by `fact` (`d op 0`) when d is k*s + c; True when done."""
        op = fact.op
        coeffs, c, rest = linear_terms(d)
        if rest != 0 or len(coeffs) != 1:
            return False
        ((name, k),) = coeffs.items()
        info = self.symbols[name]
        if op in ("<", "<="):  # d < 0 is -d > 0
            k, c = -k, -c
        need = 1 if op in ("<", ">") else 0  # now: k*s + c >= need
        if k > 0:
            info.lo = max(info.lo, -((c - need) // k))  # ceil((need - c) / k)
        else:
            info.hi = min(info.hi, (c - need) // -k)
        info.where = self._where()
        log_dynamic(f"eval {fact} [range of {info.name} now {_range_text(info.lo, info.hi)}] at {info.where}")
        if info.lo == info.hi:
            self._replace(info.name, info.lo, "its range has one value")
        return True

    def _replace(self, name, value, why):
        """name == value from now on (a constant: the symbol is specialized)."""
        if name in self.replacements:
            return
        info = self.symbols[name]
        where = self._where()
        if type(value) is int and info.strict:
            self.violations.append(_violation_message(info, value, self._where_stack()))
        for k, v in self.replacements.items():
            self.replacements[k] = subs(v, {name: value})
        self.replacements[name] = value
        self._nodes = {}  # cached nodes may compute expressions that now simplify
        verb = "specialize" if type(value) is int else "replace"
        log_dynamic(f"{verb} {name} = {value} ({info.source.name()}) because {why} at {where}")
        if type(value) is Expr and value.is_symbol():  # one size now: its range is both ranges
            into = self.symbols[next(iter(free_symbols(value)))]
            into.lo, into.hi = max(into.lo, info.lo), min(into.hi, info.hi)
            info.merged = True
            if into.lo == into.hi:
                self._replace(into.name, into.lo, "its range has one value")

    # ---- graph values ---------------------------------------------------------------
    def node_of(self, e):
        """A graph value computing e: an int, or a node built from the symbols' placeholders.
        Inside a nested compile region the symbols are specialized instead (the region's graph
        takes no symbolic inputs yet)."""
        e = self.simplify(e)
        if type(e) is int:
            return e
        if self.output.subgraph_depth():
            return self.specialize(e, "a symbolic size used inside a nested compile region")
        node = self._nodes.get(e)
        if node is None:
            node = self._nodes[e] = _build(self, e)
        return node

    def new_node(self, fn, args, expr, stack_trace=None):
        """A call_function node computing a symbolic int, with its example value."""
        out = self.output
        node = out.graph.call_function(fn, tuple(args))
        node.meta["val"] = SymInt(expr, self.hint(expr))
        tx = out.current_tx
        if stack_trace is None and tx is not None:
            stack_trace = tx.stack_trace()
        if stack_trace is not None:
            node.meta["stack_trace"] = stack_trace
        return node

    def code(self, e):
        """Python computing e in the transformed function (from the sizes of its inputs)."""
        e = self.simplify(e)
        return pycode(e, lambda n: self.symbols[n].source.expr())

    # ---- the end of the trace -------------------------------------------------------
    def finish(self):
        """Install the SHAPE_ENV guards (and constants back into TENSOR_MATCH), rewrite the
        graph's symbolic shapes with the final replacements, and raise on a specialized
        mark_dynamic dimension."""
        if not self.symbols:
            return
        if self.violations:
            raise ConstraintViolationError("\n".join(self.violations))
        out = self.output
        for name, value in self.replacements.items():
            info = self.symbols[name]
            if type(value) is int and self._fold_into_tensor_match(info, value):
                continue
            self._guard(Rel("==", symbol(name), value), info.where)
        for fact, where in self.facts:
            fact = fact.subs(self.replacements)  # not the divisibility facts: they are these guards
            if fact.diff() != 0 and not (type(fact.diff()) is int and fact.holds_for(fact.diff())):
                self._guard(fact, where)
        for info in self.symbols.values():
            # a symbol replaced by an expression keeps its own range (its size must lie in it)
            if info.name not in self.replacements or not (info.merged or type(self.replacements[info.name]) is int):
                self._range_guard(info)
        for node in out.graph.nodes:
            self._resimplify(node.meta.get("val"))

    def symbol_inputs(self):
        """The placeholders of the symbols that stay graph inputs even when no node reads them:
        the unspecialized symbols of the tensors the graph takes (a backend compiling generic
        code reads the sizes from them, as Inductor does)."""
        if not self.symbols:
            return ()
        used = {ga.source.name() for ga in self.output.graphargs if ga.node.users}
        return {info.node for info in self.symbols.values() if info.name not in self.replacements
                and isinstance(info.source, SizeSource) and info.source.base.name() in used}

    def _fold_into_tensor_match(self, info, value):
        if not isinstance(info.source, SizeSource):
            return False  # an int input: its guard is `L['n'] == 5`
        base = info.source.base.name()
        for g in self.output.guards.values():
            if g.kind == "TENSOR_MATCH" and g.source.name() == base:
                shape = list(g.expected.shape)
                shape[info.source.dim] = value
                g.expected = g.expected._replace(shape=tuple(shape))
                return True
        return False

    def _guard(self, fact, where):
        names = sorted(fact.symbols(), key=lambda n: int(n[1:]))
        self._add(ShapeGuard(pycode(fact, lambda n: self.symbols[n].source.name()),
                             pycode(fact, lambda n: self.symbols[n].source.expr()),
                             tuple(self.symbols[n].source.name() for n in names), where),
                  [self.symbols[n].source for n in names])

    def _range_guard(self, info):
        src = info.source
        hi = "" if info.hi == INF else f" <= {info.hi}"
        self._add(ShapeGuard(f"{info.lo} <= {src.name()}{hi}", f"{info.lo} <= {src.expr()}{hi}",
                             (src.name(),), info.where), [src])

    def _add(self, sg, sources):
        reads = ExprSource(f"({''.join(s.expr() + ', ' for s in sources)})", ", ".join(s.name() for s in sources))
        self.output.add_guard("SHAPE_ENV", reads, sg)

    def _resimplify(self, val):
        if isinstance(val, (tuple, list)):
            for v in val:
                self._resimplify(v)
        elif type(val) is SymInt:
            val.expr = self.simplify(val.expr)
        elif val is not None and sym_shape(val) is not None:
            set_sym_shape(val, [self.simplify(s) for s in sym_shape(val)])

    # ---- where the user is ----------------------------------------------------------
    def _frame(self):
        tx = self.output.current_tx
        return tx.frame_summary() if tx is not None else None

    def _where(self):
        fr = self._frame()
        if fr is None:
            code = self.output.code
            return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno} in {code.co_name}"
        at = f"{os.path.basename(fr.filename)}:{fr.lineno} in {fr.name}"
        return f"{fr.line}  # {at}" if fr.line else at

    def _where_stack(self):
        tx = self.output.current_tx
        frames = tx.user_stack() if tx is not None else []
        return "".join(f'  File "{fr.filename}", line {fr.lineno}, in {fr.name}\n    {fr.line}\n' for fr in frames)


def failure_reason(sg, values):
    """Why a SHAPE_ENV guard failed: its check and the sizes it read now, then where it came
    from (`(x.size()[0] % 2) == 0 (x.size()[0] = 7)  # assert x.shape[0] % 2 == 0  # f.py:3 in f`)."""
    text = strip_local(sg.text)
    if values is not None and len(values) == len(sg.reads):
        text += " (" + ", ".join(f"{strip_local(r)} = {v}" for r, v in zip(sg.reads, values)) + ")"
    return f"{text}  # {sg.where}" if sg.where else text


# ---------------------------------------------------------------------------- helpers
def _solve(d, symbols):
    """(name, value) such that d == 0 means name == value, for the newest symbol that d
    reads with coefficient +-1 and nowhere else; else None."""
    best = None
    coeffs, _, _ = linear_terms(d)
    for name, k in coeffs.items():
        if k in (1, -1):
            rest = d - symbol(name) * k
            if name not in free_symbols(rest) and (best is None or int(name[1:]) > int(best[0][1:])):
                best = (name, rest * -k)
    return best


def _build(env, e):
    """Graph nodes computing e from the symbols' placeholders, in the order a user writes it:
    positive terms, then the negative ones subtracted (`s0 - s1`), then the constant."""
    if e.is_symbol():
        return env.symbols[next(iter(free_symbols(e)))].node
    atom = e.atom()
    if atom is not None:
        fn, args = atom.as_call()
        return env.new_node(fn, [env.node_of(a) if type(a) is Expr else a for a in args], e)
    terms = sorted((mc for mc in e.terms if mc[0]), key=lambda mc: mc[1] < 0)  # positive first
    const = sum(c for m, c in e.terms if not m)
    acc, acc_e = None, 0
    for m, c in terms:
        term, term_e = _term_node(env, m, abs(c))
        if acc is None:
            acc, acc_e = (term, term_e) if c > 0 else (env.new_node(operator.neg, [term], -term_e), -term_e)
        else:
            acc_e = acc_e + term_e if c > 0 else acc_e - term_e
            acc = env.new_node(operator.add if c > 0 else operator.sub, [acc, term], acc_e)
    if const:
        acc = env.new_node(operator.add if const > 0 else operator.sub, [acc, abs(const)], e)
    return acc


def _term_node(env, m, c):
    """(node, expression) of one term: its atoms multiplied left to right, then c."""
    acc, acc_e = None, 1
    for a, p in m:
        ae = atom_expr(a)
        for _ in range(p):
            node = env.node_of(ae)
            acc_e = acc_e * ae
            acc = node if acc is None else env.new_node(operator.mul, [acc, node], acc_e)
    if c != 1:
        acc_e = acc_e * c
        acc = env.new_node(operator.mul, [acc, c], acc_e)
    return acc, acc_e


__all__ = ["ShapeEnv", "SizeSource", "ConstraintViolationError", "mark_dynamic", "maybe_mark_dynamic",
           "mark_static", "with_policy", "NotSymbolic"]
