"""Compile caches for generated kernels: in memory, and on disk across processes.

The key hashes the graph (every node's op, target, arguments and recorded shape/dtype), the
input metadata, the versions of Python, numpy, the optional kernel libraries and this
package's own source, and the codegen options. A disk entry is one file
`<dir>/codegen/<key>.cg`: a JSON header line (format, key, sha256 of the payload) and the
payload (JSON with the generated source and buffer specs, then an .npz of the constant
arrays, loaded with allow_pickle=False). An entry whose header, key or hash does not match,
or whose source does not compile, is ignored and rebuilt: nothing is executed unverified.
Writes go to a temporary file renamed into place (atomic).

Disk caching is on unless `backends.settings.codegen_cache` is False (what
`md.config.codegen_cache` sets); the directory is $MINIDYNAMO_CACHE_DIR or ~/.cache/minidynamo.

>>> from backends.codegen import cache
>>> cache.counters["compilations"] >= 0
True
"""
import collections
import hashlib
import importlib.metadata
import io
import json
import os
import sys
import tempfile

import numpy as np

from fxlite import Node

from .. import settings
from .lowering import Uncacheable, key_text

__all__ = ["counters", "graph_key", "lookup", "store", "cache_dir", "disk_enabled", "clear_memory"]

FORMAT = 1
counters = collections.Counter()  # compilations, memory_hits, disk_hits, disk_writes, disk_rejected
_memory = collections.OrderedDict()
_MEMORY_LIMIT = 512
_env_hash = None


def cache_dir():
    base = os.environ.get("MINIDYNAMO_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "minidynamo")
    return os.path.join(base, "codegen")


def disk_enabled():
    return bool(settings.codegen_cache)


def _environment():
    global _env_hash
    if _env_hash is None:
        h = hashlib.sha256()
        h.update(sys.version.encode())
        h.update(np.__version__.encode())
        for mod in ("numexpr", "numba"):
            try:  # the installed version, without importing (numba takes a second to import)
                h.update(f"{mod}={importlib.metadata.version(mod)}".encode())
            except Exception:
                h.update(f"{mod}=absent".encode())
        import tensorlite
        here = os.path.dirname(os.path.abspath(__file__))
        files = [os.path.join(here, f) for f in sorted(os.listdir(here)) if f.endswith(".py")]
        files.append(os.path.join(os.path.dirname(os.path.abspath(tensorlite.__file__)), "_prims.py"))
        for f in files:
            with open(f, "rb") as fh:
                h.update(fh.read())
        _env_hash = h.hexdigest()
    return _env_hash


def _input_desc(x):
    if hasattr(x, "_data"):
        return f"T{x._data.shape}{x._data.dtype.str}"
    if x is None or type(x) in (bool, int, float, complex, str, bytes):
        return f"{type(x).__name__}:{key_text(x)}"  # exact: -0.0 is not 0.0, no digit limit
    # other objects (hook boxes, callables) are runtime values passed through the kernel:
    # their type is the key, never their identity (a default repr carries an address)
    return f"{type(x).__module__}.{type(x).__qualname__}"


def graph_key(gm, example_inputs, options=None):
    """The cache key of a graph compiled for inputs like these, or None if it has none."""
    lines = [_environment(), repr(sorted((options or {}).items()))]
    lines += [_input_desc(x) for x in example_inputs]
    names = lambda n: "%" + n.name  # noqa: E731
    try:
        for n in gm.graph.nodes:
            t = n.target
            t = getattr(t, "name", None) if n.op == "call_function" and hasattr(t, "impl") else (
                t if isinstance(t, str) else f"{getattr(t, '__module__', '')}.{getattr(t, '__qualname__', t)}")
            v = n.meta.get("val")
            meta = f"{tuple(v.shape)}{v.dtype}" if hasattr(v, "shape") and hasattr(v, "dtype") else ""
            lines.append(f"{n.op} {n.name} {t} {key_text(n.args, names)} {key_text(n.kwargs, names)} {meta}")
    except Uncacheable:
        return None
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def clear_memory():
    _memory.clear()


def lookup(key):
    """The Artifact stored under key (memory first, then disk), or None."""
    if key is None:
        return None
    art = _memory.get(key)
    if art is not None:
        _memory.move_to_end(key)
        counters["memory_hits"] += 1
        return art
    if not disk_enabled():
        return None
    art = _load(os.path.join(cache_dir(), key + ".cg"), key)
    if art is not None:
        counters["disk_hits"] += 1
        _remember(key, art)
    return art


def store(key, art):
    if key is None:
        return
    _remember(key, art)
    if not art.cacheable or not disk_enabled():
        return
    try:
        _write(os.path.join(cache_dir(), key + ".cg"), key, art)
        counters["disk_writes"] += 1
    except OSError:
        pass  # a read-only or full disk only costs recompilation


def _remember(key, art):
    _memory[key] = art
    while len(_memory) > _MEMORY_LIMIT:
        _memory.popitem(last=False)


def _payload(art):
    meta = {"source": art.source, "buffers": [[list(s), d] for s, d in art.buffers], "name": art.name,
            "consts": sorted(art.consts)}
    buf = io.BytesIO()
    # np.asarray(order="C"), not np.ascontiguousarray: that makes a 0-d constant (a bound numpy
    # scalar) 1-d, which changes the shape and dtype of what it meets
    np.savez(buf, **{k: np.asarray(v, order="C") for k, v in art.consts.items()})
    return json.dumps(meta).encode() + b"\n" + buf.getvalue()


def _write(path, key, art):
    payload = _payload(art)
    header = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()})
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".cg")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header.encode() + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _load(path, key):
    from .compile_fx import Artifact
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    try:
        head, payload = data.split(b"\n", 1)
        header = json.loads(head)
        if header.get("format") != FORMAT or header.get("key") != key:
            raise ValueError("foreign entry")
        if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            raise ValueError("corrupted entry")
        meta_raw, npz = payload.split(b"\n", 1)
        meta = json.loads(meta_raw)
        source = meta["source"]
        compile(source, "<codegen cache>", "exec")  # must at least be valid Python
        consts = {}
        if meta["consts"]:
            with np.load(io.BytesIO(npz), allow_pickle=False) as z:
                consts = {k: z[k] for k in meta["consts"]}
        bufs = [(tuple(s), d) for s, d in meta["buffers"]]
        return Artifact(source, consts, bufs, True, meta["name"])
    except Exception:
        counters["disk_rejected"] += 1
        return None
