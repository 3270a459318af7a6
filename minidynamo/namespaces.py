"""Generated functions that stand in for the user's function: their namespace, signature
and name.

The guard check, the transformed function, the arity check and the argument binder are all
Python source compiled at run time. Each takes the user's function's parameters (with its
defaults), runs in a namespace of fixed `___` names, and is renamed after the user's
function so that argument errors read exactly as Python's own.
"""
import builtins
import struct
import types

import tensorlite as tl
from fxlite.codegen import same  # same: shared with backends (fxlite is below both)
from tensorlite import _state as tl_state
from tensorlite.nn.modules import module as _nn_module

from .bytecode_compat import code_signature_names
from .source import KEYS

float_bits = struct.Struct("<d").pack  # a float's bytes: tells 0.0 from -0.0 and nan from nan
_pack_dd = struct.Struct("<dd").pack


def complex_bits(c):
    """A complex number's bytes (see float_bits)."""
    return _pack_dd(c.real, c.imag)


def signature_src(code, fn, prefix="___"):
    """Parameter list text of code, with fn's defaults bound to names in the namespace."""
    pos, varargs, kwonly, varkw = code_signature_names(code)
    defaults = fn.__defaults__ or () if fn is not None else ()
    kwdefaults = (fn.__kwdefaults__ or {}) if fn is not None else {}
    parts = []
    nd = len(defaults)
    for i, name in enumerate(pos):
        j = i - (len(pos) - nd)
        parts.append(f"{name}={prefix}defaults[{j}]" if j >= 0 else name)
        if i + 1 == code.co_posonlyargcount:
            parts.append("/")
    if varargs:
        parts.append(f"*{varargs}")
    elif kwonly:
        parts.append("*")
    for name in kwonly:
        parts.append(f"{name}={prefix}kwdefaults[{name!r}]" if name in kwdefaults else name)
    if varkw:
        parts.append(f"**{varkw}")
    return ", ".join(parts)


def base_namespace(fn):
    """The names every generated function of fn reads: its globals, builtins, cells and
    defaults, and the helpers guard code calls."""
    g = fn.__globals__ if fn is not None else {}
    b = g.get("__builtins__", builtins)
    if not isinstance(b, dict):
        b = b.__dict__
    cells = {}
    if fn is not None and fn.__closure__:
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__))
    return {"___G": g, "___B": b, "___cells": cells, "___st": tl_state,
            "___defaults": (fn.__defaults__ or ()) if fn is not None else (),
            "___kwdefaults": (fn.__kwdefaults__ or {}) if fn is not None else {},
            "Tensor": tl.Tensor, "___nn_module_globals": _nn_module, "___fn": fn,
            "___make_cell": types.CellType, "___K": KEYS, "___same": same,
            "___float_bits": float_bits, "___complex_bits": complex_bits}


def eval_namespace(code, fn, args, kwargs):
    """base_namespace(fn) plus the parameters of code bound to args and kwargs, as the
    call binds them (defaults included)."""
    ns = base_namespace(fn)
    src = f"def ___bind({signature_src(code, fn)}):\n    return dict(locals())\n"
    exec(compile(src, "<bind>", "exec"), ns)  # noqa: S102
    ns.update(ns["___bind"](*args, **kwargs))
    return ns


_RENAMED = {}  # (id of a generated code object, name, qualname) -> (that code: kept alive, so the
#               id stays its own, renamed code). Generated code is shared per text, so is this


def rename_code(f, code):
    """Give a generated function the name of the user's function (so that argument errors
    read exactly as Python's own: `f() takes 1 positional argument but 2 were given`)."""
    key = (id(f.__code__), code.co_name, code.co_qualname)
    hit = _RENAMED.get(key)
    if hit is None:
        if len(_RENAMED) >= 1024:
            _RENAMED.clear()
        hit = _RENAMED[key] = (f.__code__, f.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname))
    f.__code__ = hit[1]
    f.__name__ = code.co_name
    f.__qualname__ = code.co_qualname
