"""Fusion of large elementwise chains into one kernel, chosen by measured speed.

Small arrays run as numpy ufunc calls with `out=` buffers (emit.py + memory.py): there the
per-call overhead dominates and nothing beats one ufunc call per op. For a group of
elementwise nodes on a large array (at least MIN_ELEMENTS elements; every member has the
group's float shape and dtype, and every member but the last, the root, is used only inside
the group), optionally followed by a reduction of the root (over all axes, or over axes that
exclude axis 0), these fused forms exist:

* blocked: the chain runs over cache-sized row blocks (BLOCK_BYTES), intermediates in small
  scratch buffers, the result written block by block into the output (or reduced block by
  block: per-block partial results, then one reduction of the partials), so the array
  streams through memory once instead of once per op;
* parallel: the blocked form with the rows split between THREADS threads (numpy ufuncs
  release the GIL; each thread has its own scratch buffers and numpy's error state);
* numexpr (only if the optional `numexpr` is installed and options["numexpr"] is on): the
  chain as one numexpr expression (multi-threaded, one pass over memory; before a reduction,
  evaluated per block into a scratch block). Constants are typed with the group's dtype, so
  float32 stays float32 as in numpy; np.maximum/np.minimum keep numpy's NaN propagation.
  numexpr's optimizer is off (it divides by a constant as a multiplication by its
  reciprocal), and a group whose constants include both 0.0 and -0.0 has no numexpr form
  (numexpr merges constants that compare equal).
* numba (only if the optional `numba` is installed and options["numba"] is on; elementwise
  groups without a reduction): the same expression as one parallel loop compiled by numba
  (`error_model="numpy"`: division by zero gives inf/nan as in numpy; typed constants; calls
  serialized by a lock, since numba's default threading layer is not re-entrant).

Which form runs (plain numpy, blocked, parallel, numexpr or numba) is decided per group by timing
each on random inputs of the real shapes at compile time (interleaved rounds; a fused form
must beat plain numpy by 5%); the decision is cached in this process (by expression, shape
and dtype) and is part of the generated source, hence of the disk cache. Without numexpr or
numba the pure-numpy forms always work.

>>> find_groups([], {}, [], {}, {})
{}
"""
import contextvars
import hashlib
import math
import os
import re
import threading
import time

import numpy as np

from fxlite.codegen import same, same_key

from .lowering import ELEMENTWISE, PREV, Steps, literal, impl_namespace

__all__ = ["find_groups", "Group", "runtime_namespace", "numexpr_available", "numba_available", "decisions"]

MIN_ELEMENTS = 1 << 16  # smaller groups stay plain numpy (per-call overhead dominates)
BLOCK_BYTES = 1 << 17  # one block of one operand (the whole working set stays in L2)
MAX_EXPR_CHARS = 6000
THREADS = min(4, os.cpu_count() or 1)  # threads of the "parallel" (blocked, multi-threaded) form
FORCE = None  # tests: "plain" | "blocked" | "parallel" | "numexpr" | "numba" instead of measuring
decisions = {}  # (group signature, shape, dtype, options) -> the chosen form

_REDUCERS = {"np.add.reduce", "np.maximum.reduce", "np.minimum.reduce"}
_ELEMENTWISE_FNS = {
    "np.add", "np.subtract", "np.multiply", "np.true_divide", "np.maximum", "np.minimum",
    "np.negative", "np.absolute", "np.exp", "np.log", "np.sin", "np.cos", "np.tanh", "np.sqrt",
    "np.floor", "np.ceil", "np.rint", "np.sign", "_sigmoid_tail",
}
# numexpr forms of numpy's ufuncs (NaN semantics of np.maximum/np.minimum kept)
_NE = {
    "np.add": "({0} + {1})", "np.subtract": "({0} - {1})", "np.multiply": "({0} * {1})",
    "np.true_divide": "({0} / {1})", "np.negative": "(-{0})", "np.absolute": "abs({0})",
    "np.exp": "exp({0})", "np.log": "log({0})", "np.sin": "sin({0})", "np.cos": "cos({0})",
    "np.tanh": "tanh({0})", "np.sqrt": "sqrt({0})",
    "np.maximum": "where((({0}) < ({1})) | (({1}) != ({1})), {1}, {0})",
    "np.minimum": "where((({0}) > ({1})) | (({1}) != ({1})), {1}, {0})",
    "_sigmoid_tail": "where(({0}) >= {c0}, {c1} / ({c1} + {1}), {1} / ({c1} + {1}))",
}


def numexpr_available():
    try:
        import numexpr  # noqa: F401
        return True
    except ImportError:
        return False


def numba_available():
    import importlib.util
    return importlib.util.find_spec("numba") is not None  # installed is all this asks: no import


# ----------------------------------------------------------------------------- runtime

def ne_kernel(text, n_vars, dtype, cvals):
    """A compiled numexpr kernel for `text` over v0..v{n-1} (arrays of dtype) and typed
    constants c0.. (cvals); called as kernel(*arrays, out=array)."""
    import numexpr
    from numexpr import expressions as E
    from numexpr.necompiler import NumExpr, vml_functions
    dt = np.dtype(dtype)
    kind = {"f4": "float", "f8": "double"}[dt.str[1:]]
    typ = E.kind_to_type[kind]
    ns = dict(E.functions)
    ns.update({f"v{i}": E.VariableNode(f"v{i}", kind) for i in range(n_vars)})
    ns.update({f"c{j}": E.ConstantNode(dt.type(c)) for j, c in enumerate(cvals)})
    old = E._context.get_current_context()
    try:
        # no optimization: "moderate" and "aggressive" rewrite x / c as x * (1 / c), which is
        # not numpy's division (off by an ulp, and 0 / 1e-310 gives nan, not 0)
        E._context.set_new_context({"optimization": "none", "truediv": False})
        ex = eval(compile(text, "<numexpr>", "eval"), {"__builtins__": {}}, ns)
    finally:
        E._context.set_new_context(old)
    nex = NumExpr(ex, signature=[(f"v{i}", typ) for i in range(n_vars)])
    vml = bool(getattr(numexpr, "use_vml", False)) and any(f"{f}(" in text for f in vml_functions)

    def kernel(*arrays, out):
        return nex(*arrays, out=out, order="K", casting="safe", ex_uses_vml=vml)
    return kernel


_NB_KERNELS = {}  # (text, n_vars, dtype, constants) -> jitted loop (numba compiles once per process)
_NB_LOCK = threading.Lock()
_NB_VAR = re.compile(r"\bv(\d+)\b")


def _nb_where(c, a, b):
    return a if c else b


def nb_kernel(text, n_vars, dtype, cvals):
    """A numba kernel for the numexpr-style `text` over v0..v{n-1} (arrays of dtype, broadcast
    to the output's shape) and typed constants c0.. (cvals); called as kernel(*arrays, out=array)."""
    key = (text, n_vars, np.dtype(dtype).str, same_key(tuple(cvals)))  # 0.0 and -0.0 are two kernels
    jit = _NB_KERNELS.get(key)
    if jit is None:
        import numba
        dt = np.dtype(dtype)
        ns = {"prange": numba.prange, "where": numba.njit(inline="always")(_nb_where),
              "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
              "sqrt": np.sqrt, "abs": np.abs}
        ns.update({f"c{j}": dt.type(c) for j, c in enumerate(cvals)})
        params = "".join(f", v{i}" for i in range(n_vars))
        body = _NB_VAR.sub(lambda m: f"v{m.group(1)}[i]", text)
        src = f"def loop(out{params}):\n    for i in prange(out.shape[0]):\n        out[i] = {body}\n"
        exec(compile(src, "<numba kernel>", "exec"), ns)  # noqa: S102 - generated code
        jit = _NB_KERNELS[key] = numba.njit(parallel=True, error_model="numpy", cache=False)(ns["loop"])

    def kernel(*arrays, out):
        shape = out.shape
        flat = [a.reshape(-1) if a.shape == shape and a.flags.c_contiguous
                else np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1) for a in arrays]
        o = out if out.flags.c_contiguous else np.empty(shape, out.dtype)
        with _NB_LOCK:
            jit(o.reshape(-1), *flat)
        if o is not out:
            np.copyto(out, o)
        return out
    return kernel


_pool = []


def parallel(fn, *parts):
    """fn(*parts[0]) here and fn(*part) for the other parts on worker threads (numpy ufuncs
    release the GIL), each in a copy of the caller's context (numpy's error state)."""
    if not _pool:
        from concurrent.futures import ThreadPoolExecutor
        _pool.append(ThreadPoolExecutor(max_workers=max(1, THREADS - 1), thread_name_prefix="codegen"))
    futures = [_pool[0].submit(contextvars.copy_context().run, fn, *p) for p in parts[1:]]
    try:
        fn(*parts[0])
    finally:
        for f in futures:
            f.result()


def runtime_namespace():
    return {"_ne_kernel": ne_kernel, "_nb_kernel": nb_kernel, "_range": range, "_parallel": parallel}


# ----------------------------------------------------------------------------- groups

class Group:
    """Elementwise nodes emitted as one fused kernel at the position of `root`."""

    def __init__(self, gid, nodes, members, shape, dtype, externals, values_by_name, consts):
        self.gid = gid
        self.nodes = nodes  # fx nodes, in program order (root last)
        self.root = nodes[-1]
        self.members = members  # [(name, Steps)] in order
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.externals = externals  # value names read by the group
        self.values = values_by_name
        self.consts = consts
        self.strategy = "plain"
        self.rows = self.shape[0]
        self._chunk = None
        self.reduce = None  # (name, reduce ufunc src, axes, kw source, full, out shape, out dtype)

    # -- the kernel forms -------------------------------------------------------------------
    def signature(self):
        parts = []
        for name, st in self.members:
            for fn, ops, kw in st.calls:
                parts.append(f"{name}={fn}({','.join('^' if o is PREV else self._sig_op(o) for o in ops)})")
        if self.reduce is not None:
            parts.append(f"reduce={self.reduce[1]}{self.reduce[2]}{self.reduce[3]}")
        return ";".join(parts)

    def _sig_op(self, o):
        if o in self.externals:
            v = self.values[o]
            return f"{o}:{v.shape}{np.dtype(v.dtype).str}"
        if o in self.consts:
            c = np.asarray(self.consts[o])
            data = c.tobytes()  # the bytes, never id(c): an id is reused once c is freed
            return f"k{c.shape}{c.dtype.str}{data.hex() if len(data) <= 64 else hashlib.sha256(data).hexdigest()}"
        return o

    def _chunk_plan(self):
        """Storage of each member inside one block: the output slice `_o`, a member written in
        place, or a scratch buffer (memory.plan on block-shaped values)."""
        if self._chunk is None:
            from .memory import Value, plan
            vals = [Value(e, self.values[e].shape, self.values[e].dtype, kind="input") for e in self.externals]
            root = self.members[-1][0]
            for name, st in self.members:
                ops = []
                for fn, o_list, kw in st.calls:
                    ops += [o for o in o_list if o is not PREV and (o in self.externals or o in self._member_names())]
                vals.append(Value(name, self.shape, self.dtype, list(dict.fromkeys(ops)), kind="steps",
                                  escapes=name == root, late_reads=st.late_reads()))
            p = plan(vals)
            fresh = [n for n, _ in self.members if p.out.get(n) is None]
            if len(fresh) != 1:
                raise NotImplementedError("fusion: no single chain into the output")
            self._chunk = (p, fresh[0])
        return self._chunk

    def _member_names(self):
        return {n for n, _ in self.members}

    def ne_expression(self):
        """(text over v0.., external names in order, constant values) or None."""
        exprs = {}
        ext_order = []
        cvals = []

        consts_seen = set()

        def const(v):
            for j, c in enumerate(cvals):
                if same(c, v):  # never ==: 0.0 and -0.0 are two constants, as are nan payloads
                    return f"c{j}"
            cvals.append(v)
            consts_seen.add(f"c{len(cvals) - 1}")
            return f"c{len(cvals) - 1}"

        ns = impl_namespace()
        for name, st in self.members:
            prev = None
            for fn, ops, kw in st.calls:
                if fn not in _NE or kw:
                    return None
                args = []
                for o in ops:
                    if o is PREV:
                        args.append(prev)
                    elif o in exprs:
                        args.append(exprs[o])
                    elif o in self.externals:
                        if self.values[o].dtype != self.dtype:
                            return None
                        if o not in ext_order:
                            ext_order.append(o)
                        args.append(f"v{ext_order.index(o)}")
                    elif o in self.consts:
                        c = np.asarray(self.consts[o])
                        if c.size == 0 or c.dtype.kind not in "fiub" or not (c == c.flat[0]).all():
                            return None  # a typed scalar (0-d, or full-shape on small arrays) only
                        args.append(const(float(c.flat[0])))
                    else:
                        try:
                            v = eval(o, ns)
                        except Exception:
                            return None
                        if not isinstance(v, (int, float)) or isinstance(v, bool):
                            return None
                        args.append(const(float(v)))
                extra = {"c0": const(0.0), "c1": const(1.0)} if fn == "_sigmoid_tail" else {}
                form = _NE[fn]
                if fn in ("np.maximum", "np.minimum") and args[1] in consts_seen and \
                        cvals[int(args[1][1:])] == cvals[int(args[1][1:])]:
                    form = "where(({0}) %s {1}, {1}, {0})" % ("<" if fn == "np.maximum" else ">")
                prev = form.format(*args, **extra)
            exprs[name] = prev
            if len(prev) > MAX_EXPR_CHARS:
                return None
        return exprs[self.members[-1][0]], ext_order, tuple(cvals)

    # -- emission ------------------------------------------------------------------------------
    def setup(self):
        """Lines run once per buffer set (inside make): numexpr kernel, scratch buffers."""
        g = self.gid
        if self.reduce is not None:
            shape = (self.rows,) + self.shape[1:]
            lines = [f"_g{g}_out = np.empty({shape!r}, np.{self.dtype.name})"]
            if self.strategy == "numexpr":
                text, ext, cvals = self.ne_expression()
                lines.append(f"_ne{g} = _ne_kernel({text!r}, {len(ext)}, {self.dtype.name!r}, {literal(cvals, self.consts)})")
            else:
                p, _ = self._chunk_plan()
                lines += [f"_g{g}_{k} = np.empty({shape!r}, np.{self.dtype.name})" for k in range(len(p.buffers))]
            return lines
        if self.strategy in ("numexpr", "numba"):
            text, ext, cvals = self.ne_expression()
            make = "_ne_kernel" if self.strategy == "numexpr" else "_nb_kernel"
            return [f"_ne{g} = {make}({text!r}, {len(ext)}, {self.dtype.name!r}, {literal(cvals, self.consts)})"]
        if self.strategy == "blocked":
            p, _ = self._chunk_plan()
            shape = (self.rows,) + self.shape[1:]
            return [f"_g{g}_{k} = np.empty({shape!r}, np.{self.dtype.name})" for k in range(len(p.buffers))]
        if self.strategy == "parallel":
            p, _ = self._chunk_plan()
            shape = (self.rows,) + self.shape[1:]
            return [f"_g{g}_{k}_{t} = np.empty({shape!r}, np.{self.dtype.name})"
                    for t in range(len(self._parts())) for k in range(len(p.buffers))]
        return []

    def _parts(self):
        """Row ranges of the threads of the "parallel" form (block-aligned)."""
        n0, rows = self.shape[0], self.rows
        blocks = -(-n0 // rows)
        t = max(1, min(THREADS, blocks))
        per = -(-blocks // t)
        return [(k * per * rows, min(n0, (k + 1) * per * rows)) for k in range(t) if k * per * rows < n0]

    def emit(self, p, src):
        if self.reduce is not None:
            return self._emit_reduce(p)
        root = self.members[-1][0]
        names = ", ".join(n for n, _ in self.members)
        target = p.out.get(root)
        lines = [f"# fused ({self.strategy}): {names}"]
        res = f"_r{self.gid}"
        if isinstance(target, str) and target.startswith("_b"):
            lines.append(f"{res} = {target}")
        else:
            lines.append(f"{res} = np.empty({self.shape!r}, np.{self.dtype.name})")
        if self.strategy in ("numexpr", "numba"):
            _, ext, _ = self.ne_expression()
            lines.append(f"{root} = _ne{self.gid}({', '.join(ext)}{', ' if ext else ''}out={res})")
            return lines
        if self.strategy == "parallel":
            g = self.gid
            cp, _ = self._chunk_plan()
            ws = [f"_w{k}" for k in range(len(cp.buffers))]
            lines.append(f"def _part{g}(_lo, _hi{''.join(', ' + w for w in ws)}):")
            lines += ["    " + ln for ln in self._emit_blocks(res, self.rows, lambda k: f"_w{k}", "_lo", "_hi")]
            parts = []
            for t, (a, b) in enumerate(self._parts()):
                parts.append("(" + ", ".join([str(a), str(b)] + [f"_g{g}_{k}_{t}" for k in range(len(ws))]) + ")")
            lines.append(f"_parallel(_part{g}, {', '.join(parts)})")
            return lines + [f"{root} = {res}"]
        lines += self._emit_blocks(res, self.rows if self.strategy == "blocked" else self.shape[0],
                                   lambda k: f"_g{self.gid}_{k}")
        return lines + [f"{root} = {res}"]

    def _emit_reduce(self, p):
        """The chain computed block by block into a scratch block, each block reduced at once:
        into the rows of the result (reduced axes exclude axis 0) or into one partial result
        per block, reduced at the end (a full reduction)."""
        name, red, axes, kw, full, oshape, odt = self.reduce
        g = self.gid
        n0, rows = self.shape[0], self.rows
        lines = [f"# fused ({self.strategy}): {', '.join(n for n, _ in self.members)} -> {name}"]
        target = p.out.get(name) if p is not None else None
        if full:
            nblocks = -(-n0 // rows)
            lines.append(f"_p{g} = np.empty({nblocks}, np.{np.dtype(odt).name})")
        elif isinstance(target, str) and target.startswith("_b"):
            lines.append(f"_r{g} = {target}")
        else:
            lines.append(f"_r{g} = np.empty({tuple(oshape)!r}, np.{np.dtype(odt).name})")
        if self.strategy == "numexpr":
            body, ren = self._block_inputs(rows, single=False)
            _, ext, _ = self.ne_expression()
            body.insert(0, f"_o = _g{g}_out[:_o_n]")
            body.append(f"_ne{g}({', '.join(ren.get(e, e) for e in ext)}{', ' if ext else ''}out=_o)")
        else:
            body = self._emit_blocks(None, rows, lambda k: f"_g{g}_{k}", loop=False)
            body[0] = f"_o = _g{g}_out[:_o_n]"
        if full:
            body.append(f"_p{g}[_bi] = {red}(_o, axis=None{kw})")
        else:
            body.append(f"{red}(_o, axis={axes!r}{kw}, out=_r{g}[_i:_i + {rows}])")
        lines.append(f"for _bi, _i in enumerate(_range(0, {n0}, {rows})):")
        lines.append(f"    _o_n = min({rows}, {n0} - _i)")
        lines += ["    " + ln for ln in body]
        if full:
            tail = f"{red}(_p{g}, axis=None{kw})"
            if len(oshape):
                tail = f"np.reshape({tail}, {tuple(oshape)!r})"
            lines.append(f"{name} = {tail}")
        else:
            lines.append(f"{name} = _r{g}")
        return lines

    def _block_inputs(self, rows, single):
        """Statements slicing the block of every full-height operand; the renaming."""
        n0 = self.shape[0]
        ren, body = {}, []
        for e in self.externals:
            v = self.values[e]
            if not single and len(v.shape) == len(self.shape) and v.shape[0] == n0 and n0 != 1:
                ren[e] = f"{e}_blk"
                body.append(f"{e}_blk = {e}[_i:_i + {rows}]")
        return body, ren

    def _emit_blocks(self, root, rows, scratch, lo="0", hi=None, loop=True):
        cp, fresh = self._chunk_plan()
        n0 = self.shape[0]
        single = rows >= n0 and loop
        ren = {}
        body = []
        if single:
            body.append(f"_o = {root}")
        else:
            body.append(f"_o = {root}[_i:_i + {rows}]")
        for e in self.externals:
            v = self.values[e]
            if not single and len(v.shape) == len(self.shape) and v.shape[0] == n0 and n0 != 1:
                ren[e] = f"{e}_blk"
                body.append(f"{e}_blk = {e}[_i:_i + {rows}]")
        if not single:
            for name, st in self.members:
                for fn, ops, kw in st.calls:
                    for o in ops:
                        c = self.consts.get(o) if isinstance(o, str) else None
                        if isinstance(c, np.ndarray) and c.ndim == len(self.shape) and c.shape[0] == n0 \
                                and n0 != 1 and o not in ren:
                            ren[o] = f"{o}_blk"
                            body.append(f"{o}_blk = {o}[_i:_i + {rows}]")
        for k in range(len(cp.buffers)):
            body.append(f"_s{k} = {scratch(k)}" if single else f"_s{k} = {scratch(k)}[:_o.shape[0]]")
        for name, st in self.members:
            out = cp.out.get(name)
            if name == fresh:
                out = "_o"
            elif out is not None and out.startswith("_b"):
                out = "_s" + out[2:]
            calls = [(fn, [ren.get(o, o) if o is not PREV else o for o in ops], kw) for fn, ops, kw in st.calls]
            body += Steps(calls).emit(name, out)
        if single or not loop:
            return body
        return [f"for _i in _range({lo}, {hi or n0}, {rows}):"] + ["    " + ln for ln in body]

    def _emit_plain(self):
        cp, fresh = self._chunk_plan()
        lines = [f"_o = np.empty({self.shape!r}, np.{self.dtype.name})"]
        for k, (shape, dt) in enumerate(cp.buffers):
            lines.append(f"_s{k} = np.empty({shape!r}, np.{np.dtype(dt).name})")
        for name, st in self.members:
            out = cp.out.get(name)
            out = "_o" if name == fresh else ("_s" + out[2:] if out is not None and out.startswith("_b") else out)
            lines += st.emit(name, out)
        if self.reduce is not None:
            name, red, axes, kw, full, oshape, odt = self.reduce
            value = f"{red}({self.members[-1][0]}, axis={axes!r}{kw})"
            lines.append(f"{name} = np.reshape({value}, {tuple(oshape)!r})" if full and len(oshape) else f"{name} = {value}")
        return lines

    # -- choosing by measurement ---------------------------------------------------------------
    def choose(self, options):
        if FORCE is not None:  # tests: every group takes this form when it can
            row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
            self.rows = max(1, min(self.shape[0], BLOCK_BYTES // max(row, 1)))  # a block fits the array
            ok = (FORCE != "numexpr" or (numexpr_available() and self._numexpr_ok())) and \
                (FORCE != "numba" or numba_available() and self.ne_expression() is not None)
            self.strategy = FORCE if ok else "plain"
            if self.reduce is not None and self.strategy in ("parallel", "numba"):
                self.strategy = "blocked"
            return self.strategy
        row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self.rows = max(1, min(self.shape[0], BLOCK_BYTES // max(row, 1)))  # a block fits the array
        key = (self.signature(), self.shape, self.dtype.str, bool(options.get("numexpr", True)),
               bool(options.get("numba", True)))
        if key in decisions:
            self.strategy = decisions[key]
            return self.strategy
        candidates = ["plain"]
        if self.reduce is not None:
            candidates.append("blocked")
        elif self.rows < self.shape[0]:
            candidates.append("blocked")
            if THREADS > 1 and len(self._parts()) > 1:
                candidates.append("parallel")
        if options.get("numexpr", True) and numexpr_available() and self._numexpr_ok():
            candidates.append("numexpr")
        if self._numba_ok(options):
            candidates.append("numba")
        if len(candidates) == 1:
            decisions[key] = "plain"
            return "plain"
        rng = np.random.default_rng(0)
        args = {}
        for e in self.externals:
            v = self.values[e]
            a = rng.standard_normal(v.shape).astype(v.dtype) if np.dtype(v.dtype).kind == "f" \
                else np.ones(v.shape, v.dtype)
            args[e] = a
        fns = {}
        for cand in candidates:
            try:
                fns[cand] = self._build(cand)
                _best_time(fns[cand], args, rounds=1)  # warm up (page faults, threads, numba's jit)
            except Exception:  # a form that fails is never chosen
                fns.pop(cand, None)
        times = {c: math.inf for c in fns}
        for _ in range(3):  # interleaved rounds: a busy machine slows every candidate alike
            for c, fn in fns.items():
                times[c] = min(times[c], _best_time(fn, args, rounds=2))
        best = min(times, key=times.get) if times else "plain"
        # a fused form must win clearly: plain numpy is the reference behaviour
        if best != "plain" and "plain" in times and times[best] > 0.95 * times["plain"]:
            best = "plain"
        self.strategy = best
        decisions[key] = best
        return best

    def _numexpr_ok(self):
        """Whether the numexpr form computes exactly this group. numexpr merges constants that
        compare equal (its registers and its subexpression elimination use ==), so a group with
        both 0.0 and -0.0 has no numexpr form."""
        ne = self.ne_expression()
        if ne is None:
            return False
        cvals = ne[2]
        return not any(a == b and not same(a, b) for i, a in enumerate(cvals) for b in cvals[i + 1:])

    def _numba_ok(self, options):
        return self.reduce is None and bool(options.get("numba", True)) and numba_available() \
            and self.ne_expression() is not None

    def _build(self, strategy):
        old = self.strategy
        self.strategy = strategy
        try:
            root = self.reduce[0] if self.reduce is not None else self.members[-1][0]
            lines = ["def make():"]
            lines += ["    " + ln for ln in self.setup()]

            class _P:
                out = {}
            params = ", ".join(self.externals)
            lines.append(f"    def run({params}):")
            if strategy == "plain":  # the unfused program: every member, then the reduction
                lines += ["        " + ln for ln in self._emit_plain()]
            else:
                lines += ["        " + ln for ln in self.emit(_P, None)]
            lines.append(f"        return {root}")
            lines.append("    return run")
        finally:
            self.strategy = old
        ns = impl_namespace()
        ns.update(runtime_namespace())
        ns.update({k: (v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in self.consts.items()})
        exec(compile("\n".join(lines) + "\n", "<fusion probe>", "exec"), ns)
        return ns["make"]()


def _best_time(fn, args, rounds):
    vals = list(args.values())
    best = math.inf
    with np.errstate(all="ignore"):
        for _ in range(rounds):
            t0 = time.perf_counter()
            fn(*vals)
            best = min(best, time.perf_counter() - t0)
    return best


def find_groups(ops, lowered, values, options, consts=None):
    """node -> Group for every node of a fused group (groups of one node are not formed):
    chains of elementwise nodes (ops: the computed nodes in order, lowered: node -> Steps or
    expression, values: their memory.Values), each with the reduction of its root if one
    follows, fused where a fused form measures faster (Group.choose)."""
    if not ops or not options.get("fusion", True):
        return {}
    by_name = {v.name: v for v in values}
    consumers = {}
    for v in values:
        for o in v.operands:
            consumers.setdefault(o, set()).add(v.name)
    members, group_of = _chains(ops, lowered, by_name, consumers)
    reductions = _reductions(ops, lowered, by_name, consumers, members, group_of)
    node_of = {n.name: n for n in ops}
    result = {}
    for gid, names in members.items():
        if len(names) < 2 and gid not in reductions:
            continue
        g = _group(len(result), names[::-1], node_of, lowered, by_name, consts if consts is not None else {})
        if gid in reductions:
            rnode, g.reduce = reductions[gid]
            g.nodes.append(rnode)
            g.root = rnode
        try:
            g._chunk_plan()
            if g.choose(options) == "plain":
                continue
        except NotImplementedError:
            continue
        for nd in g.nodes:
            result[nd] = g
    # renumber so generated names are dense
    for k, g in enumerate(dict.fromkeys(result.values())):
        g.gid = k
    return result


def _fusable(n, lowered, by_name):
    """An elementwise node on a large float array whose Steps all have a fused form."""
    low = lowered.get(n)
    v = by_name.get(n.name)
    if not isinstance(low, Steps) or v is None or v.kind != "steps" or n.target.name not in ELEMENTWISE:
        return False
    if np.dtype(v.dtype).kind != "f" or not v.shape or int(np.prod(v.shape)) < MIN_ELEMENTS:
        return False
    return all(fn in _ELEMENTWISE_FNS and not kw for fn, _, kw in low.calls)


def _chains(ops, lowered, by_name, consumers):
    """Fusable nodes in chains, walking back from the last: a node joins the chain of its
    users when they are all in one chain, it escapes nowhere and has the chain's shape and
    dtype. Returns (group id -> [names], root first), name -> group id."""
    group_of = {}
    members = {}
    for n in reversed(ops):
        if not _fusable(n, lowered, by_name):
            continue
        v = by_name[n.name]
        users = consumers.get(n.name, set())
        gids = {group_of.get(u) for u in users}
        if users and not v.escapes and len(gids) == 1 and None not in gids:
            gid = gids.pop()
            rv = by_name[members[gid][0]]
            if (rv.shape, np.dtype(rv.dtype)) == (v.shape, np.dtype(v.dtype)):
                group_of[n.name] = gid
                members[gid].append(n.name)
                continue
        gid = len(members)
        group_of[n.name] = gid
        members[gid] = [n.name]
    return members, group_of


def _reductions(ops, lowered, by_name, consumers, members, group_of):
    """Elementwise-into-reduction: group id -> (reduction node, Group.reduce) for each
    reduction (over all axes, or over axes excluding axis 0) whose operand is a chain's root
    used by it alone."""
    reductions = {}
    for n in ops:
        low = lowered.get(n)
        v = by_name.get(n.name)
        if not isinstance(low, Steps) or v is None or len(low.calls) != 1:
            continue
        fn, o_list, kw = low.calls[0]
        if fn not in _REDUCERS or not o_list or o_list[0] not in group_of:
            continue
        src_name = o_list[0]
        gid = group_of[src_name]
        if members[gid][0] != src_name or consumers.get(src_name) != {n.name} or by_name[src_name].escapes:
            continue
        try:
            axes = tuple(sorted(eval(kw["axis"], {})))
            keep = eval(kw["keepdims"], {})
        except Exception:
            continue
        nd = len(by_name[src_name].shape)
        full = axes == tuple(range(nd))
        if not full and (0 in axes or nd < 2 or keep):
            continue
        extra = "".join(f", {k}={kw[k]}" for k in ("dtype",) if k in kw)
        if not full:
            extra += ", keepdims=False"
        reductions[gid] = (n, (n.name, fn, axes, extra, full, tuple(v.shape), v.dtype))
    return reductions


def _group(gid, names, node_of, lowered, by_name, consts):
    """The Group of the chain names (in program order, root last)."""
    mset = set(names)
    ext = []
    for nm in names:
        for o in by_name[nm].operands:
            if o not in mset and o not in ext:
                ext.append(o)
    # inputs produced between members and the root are fine: the group runs at the root
    rv = by_name[names[-1]]
    return Group(gid, [node_of[nm] for nm in names], [(nm, lowered[node_of[nm]]) for nm in names],
                 rv.shape, rv.dtype, ext, by_name, consts)
