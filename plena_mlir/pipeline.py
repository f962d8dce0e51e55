"""`plena-compile`: a `tile` kernel -> an allocated `plena` program, and `compile_kernel`.

    plena-opt softmax.mlir -p plena-compile -t plena-asm
    plena-opt softmax.mlir -p plena-compile --print-between-passes

runs COMPILE_PIPELINE, in this order (docs/passes.md, "Pipeline"):

    plena-infer-memory, plena-expand-lanes, plena-assign-layout, plena-select-gemm,
    plena-allocate-memory, convert-lane-to-plena, plena-optimize-scalar,
    plena-allocate-registers

plena-opt expands the name `plena-compile` into that list (`expand_compile`), so the IR is
verified, and with --print-between-passes printed, after every stage.

From Python, `compile_kernel(module)` runs the same passes on a copy of the module and
returns a `CompiledKernel`: the program as instructions, the HBM address of every tensor
argument, the FPRAM entry of every f32 argument and the FPRAM preload (the constant pool,
constant i in entry i).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, Float32Type, ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.emit import module_instructions
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp, TensorType
from plena_mlir.ir.int_dict import int_dict
from plena_mlir.isa.instruction import Instruction
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from plena_mlir.passes.allocate_registers import AllocateRegistersPass
from plena_mlir.passes.assign_layout import AssignLayoutPass
from plena_mlir.passes.convert_lane_to_plena import KERNEL_ATTR_NAME, ConvertLaneToPlenaPass
from plena_mlir.passes.expand_lanes import ExpandLanesPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from plena_mlir.passes.optimize_scalar import OptimizeScalarPass
from plena_mlir.passes.select_gemm import SelectGemmPass
from plena_mlir.target import Target

_PASSES: tuple[ModulePass, ...] = (
    InferMemoryPass(),
    ExpandLanesPass(),
    AssignLayoutPass(),
    SelectGemmPass(),
    AllocateMemoryPass(),
    ConvertLaneToPlenaPass(),
    OptimizeScalarPass(),
    AllocateRegistersPass(),
)

#: The pass pipeline of `plena-compile`, as a `plena-opt -p` string.
COMPILE_PIPELINE = ",".join(compile_pass.name for compile_pass in _PASSES)


def compile_passes(allocate_memory: AllocateMemoryPass) -> tuple[ModulePass, ...]:
    """The passes of COMPILE_PIPELINE with `allocate_memory` as plena-allocate-memory (how
    plena-link-kernels compiles each kernel of a chain)."""
    return tuple(allocate_memory if isinstance(p, AllocateMemoryPass) else p for p in _PASSES)


def expand_compile(pipeline: str) -> str:
    """The `-p` pipeline `pipeline` with each `plena-compile` replaced by COMPILE_PIPELINE
    (DiagnosticException when it is given options: it has none)."""
    specs = list(parse_pipeline(pipeline))
    if all(spec.name != CompilePass.name for spec in specs):
        return pipeline
    expanded = []
    for spec in specs:
        if spec.name != CompilePass.name:
            expanded.append(str(spec))
        elif spec.parameters:
            raise DiagnosticException(f"{CompilePass.name} takes no options, got {spec}")
        else:
            expanded.append(COMPILE_PIPELINE)
    return ",".join(expanded)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector paused.  xDSL IR is a web of
    reference cycles (parents, uses), so while the passes build and erase ops the collector
    runs often, and each full collection walks every live object: about a fifth of a
    flash-attention compile.  The garbage is the same and is collected after the compile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class CompilePass(ModulePass):
    """Run COMPILE_PIPELINE with each pass's default options."""

    name = "plena-compile"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with collector_paused():
            for compile_pass in _PASSES:
                compile_pass.apply(ctx, op)


@dataclass(frozen=True)
class Stage:
    """One call of a linked chain: `program[first:end]` runs kernel `kernel`."""

    name: str
    kernel: str
    first: int
    end: int


@dataclass(frozen=True)
class CompiledKernel:
    """A kernel ready to run: its program and where the host puts its inputs."""

    name: str
    target: Target
    program: list[Instruction]
    tensors: dict[str, tuple[int, ...]]
    """Shape of every tensor argument, in argument order."""
    hbm_addresses: dict[str, int]
    """HBM address of every tensor argument (bytes of the MX image; elements in fp32 HBM)."""
    fpram_arguments: dict[str, int]
    """FPRAM entry of every f32 scalar argument."""
    fpram_preload: list[float]
    """FPRAM entries 0 .. n: the constant pool."""
    module: ModuleOp
    """The compiled module (allocated registers): `-t plena-asm` prints it."""
    stages: tuple[Stage, ...] = ()
    """A linked chain's calls in order, each with its instruction range (empty for a kernel)."""
    intermediates: dict[str, tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    """A linked chain's intermediate tensors: name -> (HBM address, shape)."""


def compile_kernel(module: ModuleOp, target: Target | None = None) -> CompiledKernel:
    """Compile the one `tile.kernel` of `module` (left unchanged).  `target`, when given,
    must be the module's target (`plena.target`); DiagnosticException on bad input."""
    module = module.clone()
    if target is not None and target != target_of(module):
        raise DiagnosticException(
            f"compile_kernel: the module targets {target_of(module).name}, not {target.name}: "
            "set the module's plena.target attribute"
        )
    kernels = [op for op in module.body.block.ops if isinstance(op, KernelOp)]
    if len(kernels) != 1:
        raise DiagnosticException(f"compile_kernel: expected one tile.kernel, got {len(kernels)}")
    grid = len(kernels[0].grid_sizes.get_values())
    tensors = {
        name.data: tuple(arg.type.get_shape())
        for name, arg in zip(
            kernels[0].arg_names.data, kernels[0].body.block.args[grid:], strict=True
        )
        if isinstance(arg.type, TensorType) and not isinstance(arg.type, Float32Type)
    }
    CompilePass().apply(Context(), module)
    return _compiled(module, tensors)


def _compiled(module: ModuleOp, tensors: dict[str, tuple[int, ...]], **chain) -> CompiledKernel:
    """The CompiledKernel of a module holding the program and its interface (`plena.kernel`,
    `plena.fpram_pool`); `chain` gives a linked program's `stages` and `intermediates`."""
    interface = module.attributes[KERNEL_ATTR_NAME]
    assert isinstance(interface, DictionaryAttr)
    pool = FpramPool.of(module)
    assert pool is not None
    return CompiledKernel(
        name=interface.data["name"].data,
        target=target_of(module),
        program=module_instructions(module),
        tensors=tensors,
        hbm_addresses=_ints(interface, "hbm_addresses"),
        fpram_arguments=_ints(interface, "fpram_arguments"),
        fpram_preload=list(pool.constants),
        module=module,
        **chain,
    )


def _ints(interface: DictionaryAttr, key: str) -> dict[str, int]:
    return int_dict(interface.data[key], f"{KERNEL_ATTR_NAME}.{key}")


def link_chain(module: ModuleOp, reuse_intermediates: bool = True) -> CompiledKernel:
    """Link the `tile.chain` of `module` (left unchanged) with plena-link-kernels: one
    program running its calls in order; `name`, `tensors`, `hbm_addresses` and
    `fpram_arguments` are the chain's, `stages` and `intermediates` as the linker planned
    them.  DiagnosticException on bad input (naming the stage for a kernel's error)."""
    # plena-link-kernels compiles each call with this module's passes: imported here.
    from plena_mlir.linking.chain_reading import find_chain, read_chain
    from plena_mlir.passes.link_kernels import LinkKernelsPass

    module = module.clone()
    chain = read_chain(find_chain(module))
    shapes = {name: tuple(t.typ.get_shape()) for name, t in chain.tensors.items()}
    with collector_paused():
        LinkKernelsPass(reuse_intermediates=reuse_intermediates).apply(Context(), module)
    interface = module.attributes[KERNEL_ATTR_NAME]
    assert isinstance(interface, DictionaryAttr)
    return _compiled(
        module,
        {t.name: shapes[t.name] for t in chain.arguments},
        stages=tuple(
            Stage(
                stage.data["name"].data,
                stage.data["kernel"].data,
                stage.data["first"].value.data,
                stage.data["end"].value.data,
            )
            for stage in interface.data["stages"].data
        ),
        intermediates={
            name: (address, shapes[name])
            for name, address in _ints(interface, "intermediates").items()
        },
    )
