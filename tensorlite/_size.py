class Size(tuple):
    """The shape of a tensor: a tuple that prints as `tensorlite.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self):
        return f"tensorlite.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))
