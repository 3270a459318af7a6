"""TensorVariable: a tensor in the graph (a node plus a fake example value)."""
import operator

import tensorlite as tl
from fxlite.symbolic import sym_shape

from .base import ConstantVariable, VariableTracker, unsupported

# attributes answered from metadata, never put in the graph
_META_ATTRS = {"shape", "ndim", "dtype", "requires_grad", "is_leaf", "device"}
_META_METHODS = {"size", "dim", "ndimension", "numel", "nelement", "is_floating_point",
                 "element_size", "is_contiguous"}
# the metadata methods whose answer depends on the sizes (the others read rank and dtype only)
_SIZE_METHODS = {"size", "numel", "nelement", "is_contiguous"}
_DATA_DEPENDENT = {"item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "all", "any"}
# attributes var_getattr reads itself; any other callable attribute of tl.Tensor is a method
_SPECIAL_ATTRS = _META_ATTRS | {"T", "mT", "grad", "grad_fn", "data", "_version"}
_NO_DIMS = frozenset()


class TensorVariable(VariableTracker):
    def __init__(self, node, example, source=None, cls=tl.Tensor):
        self.source = source  # all VariableTracker.__init__ does (set here: one per traced op)
        self.node = node
        self.example = example
        self.cls = cls
        self.dynamic_dims = _NO_DIMS  # replaced, never changed in place
        self.mutated = False  # changed in place inside the frame
        self.last_mutation = None  # the node of its last in-place change (its current version)
        self.hook_box = None  # (HookBoxSource, the version it belongs to) of its hooks

    def python_type(self):
        return self.cls

    def __repr__(self):
        return f"TensorVariable({self.node.name})"

    # ---- metadata ---------------------------------------------------------------------
    def _specialize_shape(self, tx):
        """Reading a size as a constant bakes it into the trace: the symbols of this tensor's
        shape are specialized (guarded to their values)."""
        tx.output.specialize_dims(self)

    def var_getattr(self, tx, name):
        if name not in _SPECIAL_ATTRS and callable(getattr(tl.Tensor, name, None)):  # x.sin: common
            return TensorMethodVariable(self, name)
        ex = self.example
        if name in ("shape",):
            if sym_shape(ex) is not None:  # symbolic sizes stay symbolic
                from .sym import size_of
                return size_of(tx, self)
            return ConstantVariable(tl.Size(ex.shape))
        if name == "ndim":
            return ConstantVariable(ex.ndim)
        if name == "dtype":
            return ConstantVariable(ex.dtype)
        if name == "requires_grad":
            return ConstantVariable(ex.requires_grad)
        if name == "is_leaf":
            return ConstantVariable(ex.grad_fn is None)
        if name == "device":
            return ConstantVariable("cpu")
        if name in ("T", "mT"):
            return tx.output.tensor_op(tx, "call_function", getattr, [self, ConstantVariable(name)], {})
        if name == "grad":
            pending = tx.output.side_effects.load_attr(self, "grad")
            if pending is not None:
                return pending
            if self.source is not None:
                from .builder import VariableBuilder
                from ..source import AttrSource
                return VariableBuilder(tx, AttrSource(self.source, "grad")).wrap(ex_real(tx, self).grad)
            unsupported("reading .grad of a tensor created inside the compiled region")
        if name in ("grad_fn", "data", "_version"):
            unsupported(f"Tensor.{name} inside a compiled region")
        if callable(getattr(tl.Tensor, name, None)):
            return TensorMethodVariable(self, name)
        unsupported(f"Tensor attribute {name!r}")

    def call_method(self, tx, name, args, kwargs):
        ex = self.example
        if name in _META_METHODS:
            if name in _SIZE_METHODS and sym_shape(ex) is not None:
                from .sym import meta_method
                r = meta_method(tx, self, name, args, kwargs)  # None: it specializes
                if r is not None:
                    return r
                self._specialize_shape(tx)
            cargs = [a.as_python_constant() for a in args]
            ckw = {k: v.as_python_constant() for k, v in kwargs.items()}
            try:
                return ConstantVariable(getattr(ex, name)(*cargs, **ckw))
            except Exception as e:
                from .base import UserError
                raise UserError(e)
        if name in _DATA_DEPENDENT:
            unsupported(f"data-dependent operation: Tensor.{name}() needs the tensor's values")
        if name == "register_hook":
            return tx.output.hooks.register_tensor_hook(tx, self, args, kwargs)
        if name == "register_post_accumulate_grad_hook":
            return tx.output.hooks.register_post_accumulate_grad_hook(tx, self, args, kwargs)
        if name == "retain_grad":
            unsupported("Tensor.retain_grad() inside a compiled region")
        if name in ("backward",):
            unsupported("Tensor.backward() inside a compiled region")
        if name == "__getitem__":
            return tx.output.tensor_op(tx, "call_function", operator.getitem, [self] + list(args), kwargs)
        if name == "__setitem__":
            return tx.output.tensor_op(tx, "call_function", operator.setitem, [self] + list(args), kwargs,
                                       inplace_of=self)
        if name == "__len__":
            if sym_shape(ex) is not None and ex.ndim:
                from .sym import meta_method
                return meta_method(tx, self, name, args, kwargs)
            return ConstantVariable(len(ex))
        if name.endswith("_") and not name.endswith("__"):
            return tx.output.tensor_op(tx, "call_method", name, [self] + list(args), kwargs, inplace_of=self)
        return tx.output.tensor_op(tx, "call_method", name, [self] + list(args), kwargs)

    def truthy(self, tx):
        unsupported("data-dependent branch: the truth value of a tensor depends on its values")

    def unpack(self, tx):
        if self.example.ndim == 0:
            from .base import UserError
            raise UserError(TypeError("iteration over a 0-d tensor"))
        self._specialize_shape(tx)
        return [tx.output.tensor_op(tx, "call_function", operator.getitem, [self, ConstantVariable(i)], {})
                for i in range(self.example.shape[0])]

    def reconstruct(self, cg):
        return cg.tensor(self)


def ex_real(tx, vt):
    return tx.output.real_value_of(vt)


class TensorMethodVariable(VariableTracker):
    """`x.add` before it is called."""

    def __init__(self, tensor, name):
        super().__init__(None)
        self.tensor = tensor
        self.name = name

    def call_function(self, tx, args, kwargs):
        return self.tensor.call_method(tx, self.name, args, kwargs)

    def reconstruct(self, cg):  # the callable of a call that breaks the graph
        return f"{cg(self.tensor)}.{self.name}"

    def __repr__(self):
        return f"TensorMethodVariable({self.tensor.node.name}.{self.name})"
