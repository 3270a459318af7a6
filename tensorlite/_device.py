"""tl.device: where a tensor lives. tensorlite runs on numpy, so the one device is the CPU;
factories and `.to()` accept `device=` as PyTorch code passes it, and refuse any other.

>>> import tensorlite as tl
>>> tl.zeros(2, device="cpu").device
device(type='cpu')
>>> tl.device("cpu") == tl.zeros(1).device
True
"""
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class device:
    """torch.device: a device type and an optional index (`device("cpu")`, `device("cpu", 0)`,
    `device("cpu:0")`)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            index = int(idx)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                               f"device string: {type}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def check_device(d):
    """The device for a `device=` argument (None: the CPU); any device but the CPU raises as
    PyTorch does on a machine without that device."""
    if d is None:
        return CPU
    d = device(d) if not isinstance(d, int) else device("cpu", d)
    if d.type != "cpu":
        raise AssertionError(no_device_message(d))
    return d


def no_device_message(d):
    return (f"tensorlite runs on numpy, on the CPU: there is no {d.type} device "
            f"(torch would say: Torch not compiled with {d.type.upper()} enabled)")
