"""dtypes: thin named wrappers around numpy dtypes, with PyTorch's type promotion.

>>> import tensorlite as tl
>>> tl.float32, tl.float32.is_floating_point
(tensorlite.float32, True)
"""
import numpy as np


class dtype:
    __slots__ = ("name", "np", "abbr", "is_floating_point", "is_complex", "itemsize", "_kind")

    def __init__(self, name, np_dtype, abbr, kind):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.abbr = abbr
        self._kind = kind  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = kind == 2
        self.is_complex = False
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"tensorlite.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool_ = dtype("bool", np.bool_, "b8", 0)
uint8 = dtype("uint8", np.uint8, "u8", 1)
int8 = dtype("int8", np.int8, "i8", 1)
int16 = dtype("int16", np.int16, "i16", 1)
int32 = dtype("int32", np.int32, "i32", 1)
int64 = dtype("int64", np.int64, "i64", 1)
float16 = dtype("float16", np.float16, "f16", 2)
float32 = dtype("float32", np.float32, "f32", 2)
float64 = dtype("float64", np.float64, "f64", 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_NP_TO_DTYPE = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_NAMES.update(float=float32, double=float64, half=float16, long=int64, int=int32)

_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double"}


def scalar_type_name(d):
    """PyTorch's ScalarType name of a dtype, as error messages spell it: Float, Long, ..."""
    return _TORCH_NAMES[as_dtype(d).name]


default_float = float32
default_int = int64


def _by_name(name):
    return _NAMES[name]


def from_np(np_dtype):
    """The tensorlite dtype of a numpy dtype; float64 data stays float64."""
    try:
        return _NP_TO_DTYPE[np_dtype]
    except KeyError:
        d = _NP_TO_DTYPE.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(f"tensorlite has no dtype for numpy dtype {np_dtype}") from None
        return d


def as_dtype(d):
    """Accept a tensorlite dtype, a numpy dtype, a Python type or a name."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return default_float
    if d is int:
        return default_int
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d]
    try:
        return from_np(np.dtype(d))
    except TypeError:
        raise TypeError(f"expected a tensorlite dtype, got {d!r}") from None


_promote_cache = {}


def promote(a, b):
    """Result dtype of a binary op. a, b: numpy dtypes of tensors, or Python scalars.

    Follows PyTorch: a scalar of a higher category than the tensor gives the default
    dtype of that category; a scalar of the same or lower category keeps the tensor's dtype;
    across tensor categories the higher category wins.
    """
    ka = a if isinstance(a, np.dtype) else type(a)
    kb = b if isinstance(b, np.dtype) else type(b)
    key = (ka, kb)
    r = _promote_cache.get(key)
    if r is None:
        r = _promote_cache[key] = _promote(ka, kb)
    return r


def promote_operands(da, za, db, zb):
    """promote() that also knows which tensor operands are 0-d (za, zb).

    PyTorch: a 0-d tensor takes part like a scalar when the other operand has dimensions:
    it decides the result only when its category is higher (then its own dtype is used).
    """
    if za != zb and isinstance(da, np.dtype) and isinstance(db, np.dtype) and da != db:
        dim, zero = (da, db) if zb else (db, da)
        return zero if _cat(zero)[0] > _cat(dim)[0] else dim
    return promote(da, db)


def result_type(a, b):
    """The PyTorch result dtype of a binary op on numpy arrays (tensor data) or Python scalars."""
    if a.__class__ is np.ndarray:
        if b.__class__ is np.ndarray:
            return promote_operands(a.dtype, a.ndim == 0, b.dtype, b.ndim == 0)
        return promote(a.dtype, b)
    return promote(a, b.dtype if b.__class__ is np.ndarray else b)


def _cat(k):
    if isinstance(k, np.dtype):
        return from_np(k)._kind, True
    if issubclass(k, (bool, np.bool_)):
        return 0, False
    if issubclass(k, (int, np.integer)):
        return 1, False
    return 2, False


def _promote(ka, kb):
    ca, ta = _cat(ka)
    cb, tb = _cat(kb)
    if ta and tb:
        if ca == cb:
            return np.promote_types(ka, kb)
        return ka if ca > cb else kb
    if ta or tb:
        t, tc, sc = (ka, ca, cb) if ta else (kb, cb, ca)
        if sc <= tc:
            return t
        return (default_int if sc == 1 else default_float).np
    # two scalars
    c = max(ca, cb)
    return (bool_, default_int, default_float)[c].np
