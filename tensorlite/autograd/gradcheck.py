"""gradcheck: compare analytical gradients with central finite differences.

>>> import tensorlite as tl
>>> x = tl.randn(3, dtype=tl.float64, requires_grad=True)
>>> tl.autograd.gradcheck(lambda t: t.sin() * t, (x,))
True
"""
import numpy as np



class GradcheckError(RuntimeError):
    pass


def _flat_outputs(out):
    from .._tensor import Tensor
    if isinstance(out, Tensor):
        return (out,)
    return tuple(o for o in out if isinstance(o, Tensor))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              check_undefined_grad=False, nondet_tol=0.0, fast_mode=False):
    """True when the Jacobian from backward matches finite differences for every input."""
    from .._engine import grad as autograd_grad
    from .._tensor import Tensor

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True.")
    for i in diff:
        if inputs[i]._data.dtype != np.float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision floating point.")
    outputs = _flat_outputs(func(*inputs))
    for oi, out in enumerate(outputs):
        if not out._rg:
            continue
        n_out = out._data.size
        # analytical: one backward per output element
        analytical = {i: np.zeros((inputs[i]._data.size, n_out)) for i in diff}
        for k in range(n_out):
            g = np.zeros(out._data.shape, out._data.dtype)
            g.reshape(-1)[k] = 1
            outs = _flat_outputs(func(*inputs))
            grads = autograd_grad(outs[oi], [inputs[i] for i in diff], Tensor._wrap(g), allow_unused=True)
            for i, gr in zip(diff, grads):
                if gr is not None:
                    analytical[i][:, k] = gr._data.reshape(-1)
        # numerical
        for i in diff:
            x = inputs[i]
            flat = x._data.reshape(-1)
            numerical = np.zeros((flat.size, n_out))
            # grad mode stays as it is: gradgradcheck's func itself calls autograd.grad
            for j in range(flat.size):
                orig = flat[j]
                try:
                    flat[j] = orig + eps
                    plus = _flat_outputs(func(*inputs))[oi]._data.astype(np.float64).reshape(-1).copy()
                    flat[j] = orig - eps
                    minus = _flat_outputs(func(*inputs))[oi]._data.astype(np.float64).reshape(-1).copy()
                finally:
                    flat[j] = orig
                numerical[j] = (plus - minus) / (2 * eps)
            a = analytical[i]
            if not np.allclose(a, numerical, atol=atol, rtol=rtol):
                msg = (f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                       f"numerical:{numerical}\nanalytical:{a}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the first derivative (needs create_graph support in every backward)."""
    from .._engine import grad as autograd_grad
    from .._tensor import Tensor

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t._rg]
    outputs = _flat_outputs(func(*inputs))
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = [Tensor._wrap(rng.standard_normal(o._data.shape)) for o in outputs]

    def first_grad(*xs):
        outs = _flat_outputs(func(*xs))
        gs = autograd_grad(outs, [x for x in xs if isinstance(x, Tensor) and x._rg], grad_outputs,
                           create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grad, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
