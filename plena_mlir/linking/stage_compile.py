"""Compile one call of a chain: its kernel with the addresses the linker pinned.

    stage = compile_call(call, pool, hbm_addresses, fpram_arguments, passes)
    stage.ops            # the allocated plena program of the call, detached
    stage.instructions   # how many instructions it emits
    stage.pool           # the constant pool after it (grown by its constants and seeds)

The kernel is cloned into a fresh module carrying the chain module's `plena.target`
(`kernel_module`) and the chain's constant pool so far, with `hbm_addresses` (every tensor
argument) and `fpram_arguments` (the scalars the chain binds: constant pool slots and chain
argument entries) set on it, which plena-allocate-memory keeps; then the compile passes
run.  A DiagnosticException of any pass is raised again prefixed with the call:
`stage "linear_q" (@linear): tile.alloc ...`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.emit import instruction_count
from plena_mlir.ir.int_dict import int_dict_attr
from plena_mlir.linking.chain_reading import ChainCall, kernel_module
from plena_mlir.memory.fpram_pool import FpramPool


@dataclass(frozen=True)
class CompiledStage:
    """The program of one call (module docstring)."""

    ops: list[Operation]
    instructions: int
    pool: FpramPool


def compile_call(
    call: ChainCall,
    pool: FpramPool,
    hbm_addresses: dict[str, int],
    fpram_arguments: dict[str, int],
    passes: Sequence[ModulePass],
) -> CompiledStage:
    """Compile `call`'s kernel with the pinned addresses (module docstring)."""
    module = kernel_module(call.kernel)
    kernel = module.body.block.first_op
    assert kernel is not None
    kernel.attributes["hbm_addresses"] = int_dict_attr(hbm_addresses)
    kernel.attributes["fpram_arguments"] = int_dict_attr(fpram_arguments)
    pool.attach(module)
    context = Context()
    try:
        for compile_pass in passes:
            compile_pass.apply(context, module)
    except DiagnosticException as e:
        raise DiagnosticException(f"{call.where}: {e}") from None
    instructions = instruction_count(module.body.block)
    grown = FpramPool.of(module)
    assert grown is not None
    ops = list(module.body.block.ops)
    for op in ops:
        op.detach()
    return CompiledStage(ops, instructions, grown)
