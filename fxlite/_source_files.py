"""Generated sources as real files, written behind the caller's back.

Each generated source gets a content-addressed file name (`fx_<sha1>.py` in `FXLITE_CODE_DIR`,
default `<tmp>/fxlite_code_<uid>`), registered in linecache at once, so tracebacks and
`inspect.getsource` show the generated line immediately. The file itself is written by a
background thread: creating a file costs far more than compiling a small graph on some
filesystems, and nothing in this process needs the file on disk. Woken by the first file
queued, the writer waits 50 ms before writing, so that a burst of captures costs one wake-up.
`flush()` waits until every file is written (it also runs at exit).

`compile_cached` compiles generated source once per process: generated code names its values
(globals such as `_k0`, `___c0`) instead of embedding them, so the same text recurs (a
recompile for new shapes, frames with the same kinds of arguments).

>>> path = register("def forward(self, x):\\n    return x\\n")
>>> flush()
>>> open(path).read().startswith("def forward")
True
"""
import atexit
import hashlib
import linecache
import os
import tempfile
import threading
import time

CODE_DIR = os.environ.get("FXLITE_CODE_DIR") or os.path.join(
    tempfile.gettempdir(), f"fxlite_code_{os.getuid() if hasattr(os, 'getuid') else 0}")

_PREFIX = os.path.join(CODE_DIR, "fx_")
_known = set()  # paths written or queued by this process (content-addressed: never stale)
_pending = {}  # path -> source, not yet on disk
_lock = threading.Lock()  # guards _pending and _known
_io_lock = threading.Lock()  # held while writing: flush() returns only when writes are done
_wake = threading.Event()
_writer = None
_BATCH_SECONDS = 0.05


_CODE_MEMO = {}  # (source, filename) -> code object
_CODE_MEMO_SIZE = 512


def compile_cached(src, filename):
    """compile(src, filename, "exec"), memoized."""
    key = (src, filename)
    code = _CODE_MEMO.get(key)
    if code is None:
        code = compile(src, filename, "exec")
        if len(_CODE_MEMO) >= _CODE_MEMO_SIZE:
            _CODE_MEMO.pop(next(iter(_CODE_MEMO)))
        _CODE_MEMO[key] = code
    return code


def register(src):
    """The file name for src (queued to be written), with its lines in linecache."""
    key = hashlib.sha1(src.encode()).hexdigest()[:20]
    path = f"{_PREFIX}{key}.py"
    with _lock:
        if path not in _known:
            _known.add(path)
            _pending[path] = src
            _start_writer()
            if not _wake.is_set():
                _wake.set()
    linecache.cache[path] = (len(src), None, src.splitlines(keepends=True), path)
    return path


def flush():
    """Write every queued source to its file now."""
    with _io_lock:
        while True:
            with _lock:
                if not _pending:
                    _wake.clear()
                    return
                path, src = _pending.popitem()
            _write(path, src)


def _write(path, src):
    try:
        if os.path.exists(path):
            return
        os.makedirs(CODE_DIR, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            f.write(src)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable directory: the lines stay available through linecache


def _loop():
    while True:
        _wake.wait()
        # a burst of captures queues its files while the writer waits: one wake-up (one
        # notify by register) for all of them instead of one each
        time.sleep(_BATCH_SECONDS)
        flush()


def _start_writer():
    global _writer
    if _writer is None:
        _writer = threading.Thread(target=_loop, name="fxlite-source-writer", daemon=True)
        _writer.start()


atexit.register(flush)
