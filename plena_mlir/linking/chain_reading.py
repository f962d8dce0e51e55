"""What the linker needs to know about a `tile.chain`: its tensors, their live ranges, and
what each call binds.

    chain = read_chain(find_chain(module))
    chain.tensors["h"]     # ChainTensor: type, argument or intermediate, calls it is live over
    chain.calls[0]         # ChainCall: stage, kernel, kernel tensor -> chain tensor, scalars

Tensors are the chain's tensor arguments (live over the whole chain) and its
`tile.hbm_tensor` intermediates (live from the first call using them to the last).  A
`tile.view` is its source under another shape: a kernel argument bound to a view is bound
to the view's source tensor (same address, same bytes).  Which kernel arguments a call
reads and writes comes from `kernel_access.tensor_access`; an intermediate read by a call when no
earlier call wrote it is a DiagnosticException naming the stage and the tensor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import Float32Type, FloatAttr, ModuleOp
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.buffer_liveness import LiveRange
from plena_mlir.dialects.plena import TARGET_ATTR_NAME
from plena_mlir.dialects.tile import (
    CallOp,
    ChainOp,
    HbmTensorOp,
    KernelOp,
    TensorType,
    ViewOp,
)
from plena_mlir.linking.kernel_access import TensorAccess, tensor_access


@dataclass
class ChainTensor:
    """An HBM tensor of the chain: a chain argument or an intermediate."""

    name: str
    typ: TensorType
    is_argument: bool
    live: LiveRange | None = None
    """The calls (indices) from its first use to its last; None when no call uses it."""


@dataclass(frozen=True)
class ChainCall:
    """One `tile.call`: the kernel, and what each kernel argument is bound to."""

    op: CallOp
    kernel: KernelOp
    tensors: dict[str, str]
    """Kernel tensor argument -> the chain tensor it is (the source of a view)."""
    constants: dict[str, float]
    """Kernel f32 argument -> the f32 constant bound to it."""
    scalars: dict[str, str]
    """Kernel f32 argument -> the chain f32 argument bound to it."""
    access: TensorAccess

    @property
    def stage(self) -> str:
        return self.op.stage_name

    @property
    def where(self) -> str:
        """How diagnostics name the call: `stage "linear_q" (@linear)`."""
        return f'stage "{self.stage}" (@{self.kernel.sym_name.data})'


@dataclass
class Chain:
    """A chain as the linker reads it (module docstring)."""

    op: ChainOp
    tensors: dict[str, ChainTensor] = field(default_factory=dict)
    """Arguments in argument order, then intermediates in program order."""
    scalars: list[str] = field(default_factory=list)
    """The chain's f32 arguments, in argument order."""
    calls: list[ChainCall] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.op.sym_name.data

    @property
    def arguments(self) -> list[ChainTensor]:
        return [t for t in self.tensors.values() if t.is_argument]

    @property
    def intermediates(self) -> list[ChainTensor]:
        return [t for t in self.tensors.values() if not t.is_argument]


def find_chain(module: ModuleOp) -> ChainOp:
    """The one tile.chain of `module`; DiagnosticException when it has none or several."""
    chains = [op for op in module.body.block.ops if isinstance(op, ChainOp)]
    if len(chains) != 1:
        names = ", ".join(f"@{c.sym_name.data}" for c in chains)
        raise DiagnosticException(
            "plena-link-kernels: the module must hold exactly one tile.chain (the program), "
            f"got {len(chains)}" + (f" ({names})" if names else "")
        )
    return chains[0]


def kernel_module(kernel: KernelOp) -> ModuleOp:
    """A module holding a clone of `kernel`, with the `plena.target` of the module it is in
    (a callee of a chain, compiled, interpreted or bounded on its own)."""
    module = ModuleOp([kernel.clone()])
    parent = kernel.parent_op()
    if parent is not None and TARGET_ATTR_NAME in parent.attributes:
        module.attributes[TARGET_ATTR_NAME] = parent.attributes[TARGET_ATTR_NAME]
    return module


def read_chain(op: ChainOp) -> Chain:
    """The tensors, live ranges and calls of the chain `op` (module docstring)."""
    chain = Chain(op)
    tensor_of: dict[SSAValue, str] = {}
    scalar_of: dict[SSAValue, str] = {}
    for name, arg in zip(op.names, op.arguments, strict=True):
        if isinstance(arg.type, TensorType):
            chain.tensors[name] = ChainTensor(name, arg.type, is_argument=True)
            tensor_of[arg] = name
        else:
            chain.scalars.append(name)
            scalar_of[arg] = name
    accesses: dict[KernelOp, TensorAccess] = {}
    for body_op in op.body.block.ops:
        if isinstance(body_op, HbmTensorOp):
            typ = body_op.result.type
            assert isinstance(typ, TensorType)
            chain.tensors[body_op.tensor] = ChainTensor(body_op.tensor, typ, is_argument=False)
            tensor_of[body_op.result] = body_op.tensor
        elif isinstance(body_op, ViewOp):
            tensor_of[body_op.result] = tensor_of[body_op.source]
        elif isinstance(body_op, CallOp):
            kernel = body_op.kernel
            if kernel not in accesses:
                accesses[kernel] = tensor_access(kernel)
            chain.calls.append(_read_call(body_op, kernel, tensor_of, scalar_of, accesses[kernel]))
    _set_live_ranges(chain)
    _check_written_before_read(chain)
    return chain


def _read_call(
    op: CallOp,
    kernel: KernelOp,
    tensor_of: dict[SSAValue, str],
    scalar_of: dict[SSAValue, str],
    access: TensorAccess,
) -> ChainCall:
    tensors: dict[str, str] = {}
    constants: dict[str, float] = {}
    scalars: dict[str, str] = {}
    for name, value in zip(kernel.arg_names.data, op.args, strict=True):
        if isinstance(value.type, TensorType):
            tensors[name.data] = tensor_of[value]
        elif value in scalar_of:
            scalars[name.data] = scalar_of[value]
        else:
            constant = value.owner
            assert isinstance(value.type, Float32Type)
            assert isinstance(constant, ConstantOp) and isinstance(constant.value, FloatAttr)
            constants[name.data] = constant.value.value.data
    return ChainCall(op, kernel, tensors, constants, scalars, access)


def _set_live_ranges(chain: Chain) -> None:
    whole_chain = LiveRange(0, max(len(chain.calls) - 1, 0))
    for tensor in chain.arguments:
        tensor.live = whole_chain
    for index, call in enumerate(chain.calls):
        for name in call.tensors.values():
            tensor = chain.tensors[name]
            if tensor.is_argument:
                continue
            start = index if tensor.live is None else tensor.live.start
            tensor.live = LiveRange(start, index)


def _check_written_before_read(chain: Chain) -> None:
    written: set[str] = set()
    for call in chain.calls:
        for argument, name in call.tensors.items():
            tensor = chain.tensors[name]
            if argument in call.access.reads and not tensor.is_argument and name not in written:
                raise DiagnosticException(
                    f"{call.where} reads the intermediate tensor {name} (as its argument "
                    f"%{argument}) before any stage writes it: an intermediate holds nothing "
                    "until a call writes it; make it a chain argument if the host provides it"
                )
        written.update(call.tensors[argument] for argument in call.access.writes)
