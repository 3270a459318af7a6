"""no_grad / enable_grad / set_grad_enabled: context managers and decorators (generators too).

>>> import tensorlite as tl
>>> with tl.no_grad():
...     tl.is_grad_enabled()
False
"""
import functools
import inspect

from .. import _primitive, _state


def is_grad_enabled():
    return _state.grad_enabled


def is_inference_mode_enabled():
    """Whether the calling thread is inside `inference_mode()` (torch.is_inference_mode_enabled)."""
    return _state._local.inference


class _GradModeBase:
    """A context manager that is also a decorator (bare or called), generator-aware."""

    def __new__(cls, orig_func=None):
        if cls is _GradModeBase:
            raise TypeError("use no_grad, enable_grad or set_grad_enabled")
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            self.__init__()
            return self(orig_func)
        return self

    def clone(self):
        return self.__class__()

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError(f"Cannot decorate classes; it is ambiguous. Use {type(self).__name__} on methods instead.")
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def decorate_context(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return decorate_context

    def _wrap_generator(self, func):
        @functools.wraps(func)
        def generator_context(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:
                        with self.clone():
                            response = gen.throw(e)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as e:
                return e.value

        return generator_context


class no_grad(_GradModeBase):
    """Disable gradient recording inside the block or the decorated function."""

    def __init__(self, orig_func=None):
        # as PyTorch: an __exit__ without an __enter__ restores grad mode off, not None
        self.prev = False

    def __enter__(self):
        self.prev = _state.grad_enabled
        _state.grad_enabled = False

    def __exit__(self, *exc):
        _state.grad_enabled = self.prev


class enable_grad(_GradModeBase):
    """Enable gradient recording inside the block or the decorated function."""

    def __init__(self, orig_func=None):
        self.prev = None

    def __enter__(self):
        self.prev = _state.grad_enabled
        _state.grad_enabled = True

    def __exit__(self, *exc):
        _state.grad_enabled = self.prev


class set_grad_enabled(_GradModeBase):
    """set_grad_enabled(mode): takes effect at once, and restores on exit when used with `with`."""

    def __new__(cls, mode):
        self = object.__new__(cls)
        return self

    def __init__(self, mode):
        self.prev = _state.grad_enabled
        self.mode = bool(mode)
        _state.grad_enabled = self.mode

    def clone(self):
        return set_grad_enabled.__new__(set_grad_enabled, self.mode)._init_lazy(self.mode)

    def _init_lazy(self, mode):
        self.mode = mode
        self.prev = None
        return self

    def __call__(self, func):
        _state.grad_enabled = self.prev
        return _GradModeBase.__call__(self, func)

    def __enter__(self):
        if self.prev is None:
            self.prev = _state.grad_enabled
        _state.grad_enabled = self.mode

    def __exit__(self, *exc):
        _state.grad_enabled = self.prev


class inference_mode(_GradModeBase):
    """Grad mode off, and tensors created inside are inference tensors (`t.is_inference()`).

    inference_mode(False) turns inference mode off and grad mode on (as PyTorch); nesting
    restores the outer state on exit."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # bare decorator: @inference_mode
            self = object.__new__(cls)
            self.__init__()
            return self(mode)
        return object.__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self._prev = []

    def clone(self):
        return self.__class__(self.mode)

    def __enter__(self):
        local = _state._local
        self._prev.append((local.grad_enabled, local.inference))
        # as c10::InferenceMode(enabled): grad mode is the opposite of inference mode, so
        # inference_mode(False) inside inference_mode() turns it off and grad mode back on
        local.grad_enabled = not self.mode
        local.inference = self.mode
        if self.mode:
            _primitive.inference_depth += 1

    def __exit__(self, *exc):
        grad, inf = self._prev.pop()
        local = _state._local
        if self.mode:
            _primitive.inference_depth -= 1
        local.grad_enabled = grad
        local.inference = inf
