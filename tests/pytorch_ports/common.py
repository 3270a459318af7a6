"""What PyTorch's test files import from torch.testing._internal, for the ports: a TestCase
whose assertEqual compares tensors (and lists or tuples of them) by value, as PyTorch's
does, and which resets minidynamo around each test (torch._dynamo.test_case.TestCase)."""
import contextlib
import gc

import numpy as np

import tensorlite as tl
from minidynamo import testing


def _as_array(x):
    return x.detach().numpy() if isinstance(x, tl.Tensor) else np.asarray(x)


class TestCase(testing.TestCase):
    """torch._dynamo.test_case.TestCase / common_utils.TestCase, for the ports."""

    def assertEqual(self, a, b, msg=None, *, atol=None, rtol=None, exact_dtype=True):
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and \
                any(isinstance(v, tl.Tensor) for v in (*a, *b)):
            self.assertEqual(len(a), len(b), msg)
            for x, y in zip(a, b):
                self.assertEqual(x, y, msg, atol=atol, rtol=rtol, exact_dtype=exact_dtype)
            return
        if isinstance(a, tl.Tensor) or isinstance(b, tl.Tensor):
            if a is None or b is None:
                raise self.failureException(msg or f"{a!r} != {b!r}")
            x, y = _as_array(a), _as_array(b)
            if x.shape != y.shape and not (x.size == 1 and y.size == 1):
                raise self.failureException(msg or f"shapes differ: {x.shape} != {y.shape}")
            np.testing.assert_allclose(x, y, rtol=1.3e-6 if rtol is None else rtol,
                                       atol=1e-5 if atol is None else atol, err_msg=msg or "")
            return
        super().assertEqual(a, b, msg)


@contextlib.contextmanager
def disable_gc():
    # torch.testing._internal.common_utils.disable_gc
    if gc.isenabled():
        try:
            gc.disable()
            yield
        finally:
            gc.enable()
    else:
        yield


@contextlib.contextmanager
def set_warn_always_context(new_val):
    # torch.testing._internal.common_utils.set_warn_always_context; tensorlite warns every
    # time (it has no warn-once switch), so without tl.set_warn_always this only yields.
    setter = getattr(tl, "set_warn_always", None)
    getter = getattr(tl, "is_warn_always_enabled", None)
    if setter is None or getter is None:
        yield
        return
    old_val = getter()
    setter(new_val)
    try:
        yield
    finally:
        setter(old_val)
