"""Run a generated program eagerly and compiled under every backend; compare everything.

One *run* execs the program source into a fresh namespace (fresh globals, state, hooks),
optionally wraps `f` with md.compile, and makes two calls (the second with new values, after an
optional mutation: guard fuzzing). After each call it records the outputs, the backward's
gradients (from a scalar built from every output that requires grad), the inputs (in-place
ops), the Python state (the input list/object/dict and any arguments after `n`, STATE, LOG,
G_COUNT and the globals named in the program's WATCH), captured stdout and the exception (type
and message), each as plain data. Two runs must record the same data. Python values are
compared exactly (-0.0 is not 0.0, a numpy scalar is not a float); an iterator is recorded as
what remains of it (so it is consumed), a dict view as its type and items.

Two things are compared less strictly, because a compiled region is one autograd node (as in
PyTorch): hooks that run during one backward are compared per hook (each hook's calls in order),
not by their interleaving across independent branches; and after a backward that raised, which
gradients and hook calls happened before the error is not compared (only the error is).
"""
import collections.abc
import contextlib
import enum
import io
import math
import os
import sys
import tempfile
import warnings

import numpy as np

os.environ.setdefault("MINIDYNAMO_CACHE_DIR", os.path.join(tempfile.gettempdir(), "minidynamo-fuzz-cache"))

import backends  # noqa: E402
import minidynamo as md  # noqa: E402
import tensorlite as tl  # noqa: E402

RTOL = 1e-4
ATOL = 1e-4


class Tensorish:
    """A tensor as comparable data."""

    def __init__(self, t):
        self.shape = tuple(t.shape)
        self.dtype = str(t.dtype)
        self.rg = bool(t.requires_grad)
        self.data = np.array(t._data, copy=True)

    def same(self, o):
        if not isinstance(o, Tensorish) or (self.shape, self.dtype, self.rg) != (o.shape, o.dtype, o.rg):
            return False
        if self.data.dtype.kind in "biu":
            return bool(np.array_equal(self.data, o.data))
        return bool(np.allclose(self.data, o.data, rtol=RTOL, atol=ATOL, equal_nan=True))

    def __repr__(self):
        return f"T({self.dtype}{list(self.shape)}, rg={self.rg}, {np.array2string(self.data, precision=4)})"


ITER_LIMIT = 100  # items taken from an iterator being snapshotted
DICT_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))


def snap(v, depth=0):
    """Plain comparable data for a value.

    Python scalars stay themselves (compared exactly by `same`); enum members, numpy scalars,
    complex numbers, huge ints (hex: their decimal repr is refused above 4300 digits), sets (in a
    sorted order), dict views and exceptions become tagged tuples. An iterator is consumed: its
    snapshot is what remains of it."""
    if depth > 6:
        return "<deep>"
    if isinstance(v, tl.Tensor):
        return Tensorish(v)
    if isinstance(v, enum.Enum):
        return ("enum", type(v).__name__, v.name, snap(v.value, depth + 1))
    if isinstance(v, np.generic):
        return ("np", type(v).__name__, snap(v.item(), depth + 1))
    if isinstance(v, bool) or v is None or isinstance(v, (float, str)):
        return v
    if isinstance(v, int):
        return v if v.bit_length() < 1000 else ("bigint", hex(v))
    if isinstance(v, complex):
        return ("complex", v.real, v.imag)
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [snap(x, depth + 1) for x in v])
    if isinstance(v, dict):
        return ("dict", [(snap(k, depth + 1), snap(x, depth + 1)) for k, x in v.items()])
    if isinstance(v, DICT_VIEWS):
        return (type(v).__name__, [snap(x, depth + 1) for x in v])
    if isinstance(v, (set, frozenset)):
        return (type(v).__name__, sorted((snap(x, depth + 1) for x in v), key=repr))
    if isinstance(v, BaseException):
        return ("exception", type(v).__name__, snap(v.args, depth + 1))
    if isinstance(v, type):
        return ("class", v.__qualname__)
    if isinstance(v, collections.abc.Iterator):
        rest = [snap(x, depth + 1) for x, _ in zip(v, range(ITER_LIMIT))]
        return ("iterator", type(v).__name__, rest)
    if isinstance(v, tl.nn.Module):
        return ("module", type(v).__name__, v.training)
    if hasattr(v, "__dict__"):
        return (type(v).__name__, [(k, snap(x, depth + 1)) for k, x in sorted(vars(v).items())])
    return type(v).__name__


def same_float(a, b):
    """Exactly equal: -0.0 is not 0.0, nan is nan."""
    if a != a or b != b:
        return a != a and b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def same(a, b):
    if isinstance(a, Tensorish):
        return a.same(b)
    if isinstance(a, float) and isinstance(b, float):
        return type(a) is type(b) and same_float(a, b)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and type(a) is type(b) and len(a) == len(b) and all(
            same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def diff(a, b, path="$"):
    """The first difference between two snapshots, as text (None when equal)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            r = diff(x, y, f"{path}[{i}]")
            if r:
                return r
        return None
    if not same(a, b):
        return f"{path}: eager {a!r}\n    compiled {b!r}"
    return None


def exc_data(e):
    msg = str(e)
    if "modified by an inplace operation" in msg:
        # the contract is the phrase; the node named in the rest differs when it is a compiled graph
        msg = "... modified by an inplace operation ..."
    return (type(e).__name__, msg)


def _tensor_outputs(out):
    if isinstance(out, tl.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensor_outputs(o)]
    return []


def call_once(ns, f, args):
    rec = {}
    buf = io.StringIO()
    inputs = [a for a in args[:2]]
    with contextlib.redirect_stdout(buf):
        try:
            out = f(*args)
            rec["out"] = snap(out)
            rec["exc"] = None
        except Exception as e:  # noqa: BLE001
            out = None
            rec["out"] = None
            rec["exc"] = exc_data(e)
        # the backward, from one scalar
        rec["bw_exc"] = None
        log_before = len(ns["LOG"])
        if out is not None:
            ts = [t for t in _tensor_outputs(out) if t.requires_grad and t.dtype in (tl.float32, tl.float64)]
            if ts:
                try:
                    with tl.enable_grad():
                        loss = None
                        for i, t in enumerate(ts):
                            w = tl.tensor(np.linspace(-1, 1, max(t.numel(), 1)).reshape(tuple(t.shape)).astype(
                                np.float32 if t.dtype == tl.float32 else np.float64))
                            term = (t * w).sum() * (i + 1)
                            loss = term if loss is None else loss + term.to(loss.dtype)
                        loss.backward()
                except Exception as e:  # noqa: BLE001
                    rec["bw_exc"] = exc_data(e)
        ns["_BW_SPANS"].append((log_before, len(ns["LOG"]), rec["bw_exc"] is not None))
    rec["grads"] = [snap(a.grad) if isinstance(a, tl.Tensor) else None for a in inputs]
    rec["mod_grads"] = [snap(p.grad) for p in args[5].parameters()] if isinstance(args[5], tl.nn.Module) else None
    rec["args"] = snap(args[:5] + args[7:])  # (the module and n are not mutable; the rest may be)
    rec["state"] = snap(ns["STATE"])
    rec["log"] = snap(canonical_log(ns["LOG"], ns["_BW_SPANS"]))
    rec["globals"] = snap((ns["G_COUNT"], ns["G_K"], ns["G_S"]))
    rec["watched"] = snap([(w, ns.get(w, "<undefined>")) for w in ns.get("WATCH", ())])
    rec["stdout"] = buf.getvalue()
    rec["grad_mode"] = tl.is_grad_enabled()
    return rec


def _hook_tag(entry):
    return entry[0] if isinstance(entry, tuple) and entry else entry


def canonical_log(log, spans):
    """LOG with each backward's hook calls grouped per hook (stable, so one hook's calls keep their
    order) and the hook calls of a backward that raised left out."""
    out, pos = [], 0
    for start, end, failed in spans:
        out.extend(log[pos:start])
        if not failed:
            out.extend(sorted(log[start:end], key=lambda e: repr(_hook_tag(e))))
        pos = end
    out.extend(log[pos:])
    return out


class Crash(Exception):
    """minidynamo failed loudly (an internal error): not silently wrong, but still a bug."""


def run(prog, backend=None, mutation=None, calls=2, filename="<fuzz>"):
    """Records of `calls` calls of the program's f (compiled with backend unless None)."""
    ns = {"__name__": "fuzzprog", "_BW_SPANS": []}
    exec(compile(prog.source, filename, "exec"), ns)  # noqa: S102
    f = ns["f"]
    if backend is not None:
        f = md.compile(f, backend=backend)
    recs = []
    grad_mode = tl.is_grad_enabled()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for c in range(calls):
                args = ns["make_args"](c)
                if c > 0 and mutation is not None:
                    ns["args"] = args
                    exec(mutation, ns)  # noqa: S102
                recs.append(call_once(ns, f, args))
    finally:
        tl.set_grad_enabled(grad_mode)
    return recs


def check(prog, backend_names=None, mutation=None, calls=2, filename="<fuzz>"):
    """None when every backend matches eager, else a report string."""
    ref = run(prog, None, mutation, calls, filename)
    for name in backend_names or backends.list_backends():
        md.reset()
        try:
            got = run(prog, name, mutation, calls, filename)
        finally:
            md.reset()
        log_diverged = False
        for c, (r, g) in enumerate(zip(ref, got)):
            skip = ("log",) if log_diverged else ()
            if r["bw_exc"] and "modified by an inplace operation" in r["bw_exc"][1] and g["bw_exc"] is None:
                # eager refuses a backward through a value changed in place; a compiled graph that
                # recomputes (or never saved) the value differentiates what was computed: allowed
                # (the hooks of that backward then ran only compiled: LOG differs from here on)
                skip = ("bw_exc", "grads", "mod_grads", "log")
                log_diverged = True
            elif r["bw_exc"] and r["bw_exc"] == g["bw_exc"]:
                # both backwards raised the same error; what was accumulated before it is unspecified
                skip += ("grads", "mod_grads")
            for key in r:
                if key in skip:
                    continue
                if g[key] is None and r[key] is None:
                    continue
                if key == "stdout" or key == "grad_mode":
                    ok = r[key] == g[key]
                    d = None if ok else f"eager {r[key]!r}\n    compiled {g[key]!r}"
                else:
                    d = diff(r[key], g[key])
                if d:
                    return f"backend {name}, call {c}, {key}: {d}"
    return None


def program_from_source(src):
    from .generator import Program
    return Program(src)
