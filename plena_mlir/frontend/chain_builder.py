"""A Python builder for chains: several library kernels called in order on shared HBM tensors.

    cb = ChainBuilder("block")
    x, out = cb.tensor("x", (128, 128)), cb.tensor("out", (128, 8, 16))
    g, b, w = cb.tensor("gamma", (128,)), cb.tensor("beta", (128,)), cb.tensor("w", (16,))
    h = cb.intermediate("h", (128, 128))                  # placed in HBM by the linker
    cb.call(layernorm.build(rows=128, hidden=128), stage="layernorm",
            x=x, gamma=g, beta=b, y=h, eps=1e-6)          # a float binds an f32 argument
    cb.call(rmsnorm.build(rows=128, hidden=128, head_dim=16), stage="rmsnorm",
            x=cb.view(h, (128, 8, 16)), weight=w, y=out, eps=1e-6)
    module = cb.module                                    # the kernels, then the tile.chain

`call` takes a module holding one tile.kernel (what every `kernels.<name>.build()` returns)
and binds every kernel argument by name.  The module gets each kernel once: a kernel equal to
one already there (the same kernel built with the same sizes) is shared, a different kernel
whose name is taken is renamed `@name_1`, `@name_2` ...  Bad bindings raise ValueError naming
the stage and the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import ArrayAttr, FloatAttr, ModuleOp, StringAttr, f32
from xdsl.ir import Attribute, Block, BlockArgument, SSAValue
from xdsl.traits import SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr, target_attr, target_of
from plena_mlir.dialects.tile import (
    CallOp,
    ChainOp,
    HbmTensorOp,
    KernelOp,
    TensorType,
    ViewOp,
)
from plena_mlir.frontend.kernel_builder import ELEMENT_TYPE_OF_NAME
from plena_mlir.target import DEFAULT_TARGET, Target


@dataclass(frozen=True)
class ChainTensor:
    """An HBM tensor of the chain: an argument, an intermediate or a view (whose `name` is the
    name of the tensor it views)."""

    value: SSAValue
    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ChainScalar:
    """An f32 argument of the chain (the host writes it to FPRAM)."""

    value: SSAValue
    name: str


class ChainBuilder:
    """Builds one `tile.chain` and the kernels it calls in a module (`module`, verified)."""

    def __init__(self, name: str, target: Target | str | TargetAttr | None = None):
        """A chain named `name`; `target` (a Target, a preset, a settings file or a
        TargetAttr, default the default target) is recorded as the module's `plena.target`."""
        self.chain = ChainOp(name, [])
        self._module = ModuleOp([self.chain])
        self._module.attributes[TARGET_ATTR_NAME] = target_attr(target or DEFAULT_TARGET)
        self._block: Block = self.chain.body.block
        self._names: set[str] = set()
        self._stages: set[str] = set()
        self._kernels: dict[str, list[KernelOp]] = {}
        self._constants: dict[float, SSAValue] = {}

    @property
    def module(self) -> ModuleOp:
        """The module: the called kernels, then the chain; verified."""
        self._module.verify()
        return self._module

    # tensors and scalars ----------------------------------------------------------------------
    def _new_name(self, name: str) -> str:
        if not name.isidentifier():
            raise ValueError(f"chain {self.chain.sym_name.data}: '{name}' is not a valid name")
        if name in self._names:
            raise ValueError(f"chain {self.chain.sym_name.data}: the name '{name}' is taken")
        self._names.add(name)
        return name

    def _argument(self, name: str, typ: Attribute) -> SSAValue:
        arg = self._block.insert_arg(typ, len(self._block.args))
        arg.name_hint = self._new_name(name)
        names = [*self.chain.names, name]
        self.chain.properties["arg_names"] = ArrayAttr(StringAttr(n) for n in names)
        return arg

    def tensor(self, name: str, shape: Sequence[int], dtype: str = "f32") -> ChainTensor:
        """A new chain argument: an HBM tensor the host writes (an input) or reads (an
        output)."""
        typ = TensorType(shape, ELEMENT_TYPE_OF_NAME[dtype])
        return ChainTensor(self._argument(name, typ), name, tuple(shape))

    def scalar(self, name: str) -> ChainScalar:
        """A new f32 chain argument, which the host writes to FPRAM."""
        return ChainScalar(self._argument(name, f32), name)

    def intermediate(self, name: str, shape: Sequence[int], dtype: str = "f32") -> ChainTensor:
        """A new intermediate HBM tensor (`tile.hbm_tensor`), placed by the linker."""
        op = HbmTensorOp(self._new_name(name), TensorType(shape, ELEMENT_TYPE_OF_NAME[dtype]))
        op.result.name_hint = name
        self._block.add_op(op)
        return ChainTensor(op.result, name, tuple(shape))

    def view(self, source: ChainTensor, shape: Sequence[int]) -> ChainTensor:
        """`source` with another shape (`tile.view`): the same bytes, so the same element
        count and element type; ValueError otherwise."""
        self._check_own(source, f"chain {self.chain.sym_name.data}, view of '{source.name}'")
        assert isinstance(source.value.type, TensorType)
        op = ViewOp(source.value, TensorType(shape, source.value.type.element_type))
        try:
            op.verify_()
        except VerifyException as e:
            raise ValueError(f"chain {self.chain.sym_name.data}: {e}") from None
        op.result.name_hint = f"{source.name}_view"
        self._block.add_op(op)
        return ChainTensor(op.result, source.name, tuple(shape))

    def _check_own(self, handle: ChainTensor | ChainScalar, where: str) -> None:
        value = handle.value
        block = value.block if isinstance(value, BlockArgument) else value.owner.parent
        if block is not self._block:
            raise ValueError(f"{where}: '{handle.name}' belongs to another chain")

    def _constant(self, value: float, name: str) -> SSAValue:
        """An f32 arith.constant in the chain, made once per value (`name`: its name hint)."""
        if value not in self._constants:
            op = arith.ConstantOp(FloatAttr(value, f32))
            op.result.name_hint = name
            self._block.add_op(op)
            self._constants[value] = op.result
        return self._constants[value]

    # calls ------------------------------------------------------------------------------------
    def call(
        self,
        kernel: ModuleOp,
        /,
        stage: str,
        **bindings: ChainTensor | ChainScalar | float,
    ) -> CallOp:
        """Call the one tile.kernel of `kernel` as stage `stage`, binding every kernel argument
        by name to a chain tensor, an f32 chain argument or a Python float (an f32
        arith.constant)."""
        where = f"chain {self.chain.sym_name.data}, stage '{stage}'"
        if not stage.isidentifier():
            raise ValueError(f"{where}: '{stage}' is not a valid stage name")
        if stage in self._stages:
            raise ValueError(f"{where}: the stage name is used twice")
        kernel_op = self._kernel_of(kernel, where)
        names = [a.data for a in kernel_op.arg_names.data]
        listing = f"(arguments of @{kernel_op.sym_name.data}: {', '.join(names)})"
        if unknown := sorted(set(bindings) - set(names)):
            raise ValueError(f"{where}: no kernel argument {', '.join(unknown)} {listing}")
        if missing := [name for name in names if name not in bindings]:
            raise ValueError(f"{where}: argument {', '.join(missing)} not bound {listing}")
        for name, param in zip(names, kernel_op.arguments, strict=True):
            self._check_binding(where, name, param.type, bindings[name])
        values = [
            self._constant(float(bound), name) if isinstance(bound, int | float) else bound.value
            for name, bound in ((name, bindings[name]) for name in names)
        ]
        self._stages.add(stage)
        call = CallOp(self._add_kernel(kernel_op), stage, values)
        self._block.add_op(call)
        return call

    def _kernel_of(self, module: ModuleOp, where: str) -> KernelOp:
        kernels = [op for op in module.ops if isinstance(op, KernelOp)]
        if len(kernels) != 1 or len(module.ops) != 1:
            raise ValueError(
                f"{where}: the callee must be a module holding one tile.kernel, got "
                f"{', '.join(op.name for op in module.ops) or 'an empty module'}"
            )
        if TARGET_ATTR_NAME in module.attributes and target_of(module) != target_of(self.chain):
            raise ValueError(
                f"{where}: the kernel is built for {module.attributes[TARGET_ATTR_NAME]}, the "
                f"chain for {self._module.attributes[TARGET_ATTR_NAME]}"
            )
        return kernels[0]

    def _check_binding(self, where: str, name: str, expected: Attribute, bound: object) -> None:
        if isinstance(bound, bool) or not isinstance(
            bound, ChainTensor | ChainScalar | int | float
        ):
            raise ValueError(
                f"{where}: argument '{name}' must be a chain tensor, an f32 chain argument or a "
                f"float, got {type(bound).__name__} {bound!r}"
            )
        if isinstance(bound, int | float):
            if expected != f32:
                raise ValueError(f"{where}: argument '{name}' is {expected}, got the float {bound}")
            return
        self._check_own(bound, f"{where}, argument '{name}'")
        if bound.value.type != expected:
            raise ValueError(
                f"{where}: argument '{name}' is {expected}, got '{bound.name}' of type "
                f"{bound.value.type}"
            )

    def _add_kernel(self, kernel: KernelOp) -> str:
        """The name under which the module holds `kernel`: an equal kernel already there, or
        a copy added before the chain, renamed if its name is taken."""
        base = kernel.sym_name.data
        candidate = kernel.clone()
        for existing in self._kernels.get(base, []):
            candidate.sym_name = existing.sym_name
            if candidate.is_structurally_equivalent(existing):
                return existing.sym_name.data
        taken = {
            trait.get_sym_attr_name(op).data
            for op in self._module.ops
            if (trait := op.get_trait(SymbolOpInterface)) is not None
        }
        name, suffix = base, 0
        while name in taken:
            suffix += 1
            name = f"{base}_{suffix}"
        candidate.sym_name = StringAttr(name)
        self._module.body.block.insert_op_before(candidate, self.chain)
        self._kernels.setdefault(base, []).append(candidate)
        return name
