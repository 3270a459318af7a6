import numpy as np

import tensorlite as tl


def test_sin_backward_matches_cos():
    x = tl.tensor([0.5, 1.0, 2.0], requires_grad=True)
    x.sin().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([0.5, 1.0, 2.0]), rtol=1e-6)
