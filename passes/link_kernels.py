"""`plena-link-kernels`: a module's `tile.chain` -> one allocated `plena` program.

    plena-opt chain.mlir -p plena-link-kernels -t plena-asm
    plena-opt chain.mlir -p 'plena-link-kernels{reuse-intermediates=false}'

Input: a module holding tile.kernels and exactly one tile.chain calling them
(test/lit/passes/plena-link-kernels.mlir):

    builtin.module {
      tile.kernel @scale grid(%i = 1) args(%x : !tile.tensor<64x64xf32>,
                                           %y : !tile.tensor<64x64xf32>, %s : f32) {...}
      tile.kernel @shift grid(%i = 1) args(%x : !tile.tensor<64x64xf32>,
                                           %y : !tile.tensor<64x64xf32>) {...}
      tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>,
                             %alpha : f32) {
        %a = tile.hbm_tensor "a" : !tile.tensor<64x64xf32>
        %b = tile.hbm_tensor "b" : !tile.tensor<64x64xf32>
        %c = tile.hbm_tensor "c" : !tile.tensor<32x128xf32>
        %three = arith.constant 3.000000e+00 : f32
        tile.call @scale(%x, %a, %three) stage "first" : (...) -> ()
        tile.call @shift(%a, %b) stage "second" : (...) -> ()
        %cv = tile.view %c : !tile.tensor<32x128xf32> to !tile.tensor<64x64xf32>
        tile.call @shift(%b, %cv) stage "third" : (...) -> ()
        tile.call @scale(%cv, %out, %alpha) stage "fourth" : (...) -> ()
      }
    }

Output: the module's body is the linked program, the calls' programs one after the other
(registers allocated, as after plena-compile), each after a `plena.comment` naming the stage
and its instruction range, and its interface is on the module:

    builtin.module attributes {plena.kernel = {name = "block",
        hbm_addresses = {x = 0 : i64, out = 4608 : i64}, fpram_arguments = {alpha = 32 : i64},
        intermediates = {a = 9216 : i64, b = 13824 : i64, c = 9216 : i64},
        stages = [{name = "first", kernel = "scale", first = 0 : i64, end = 90 : i64}, ...]},
      plena.fpram_pool = {slots = 32 : i64, constants = [3.0 : f32, 0.5 : f32, 2.0 : f32]}} {
      plena.comment "stage first (@scale): instructions 0 .. 90"
      ...                                  // %s read from pool slot 0 (3.0), a stored at 9216
      plena.comment "stage second (@shift): instructions 90 .. 145"
      ...                                  // a read at 9216, b stored at 13824
      plena.comment "stage third (@shift): instructions 145 .. 200"
      ...                                  // c (a is dead: its bytes) stored at 9216
      plena.comment "stage fourth (@scale): instructions 200 .. 291"
      ...                                  // %s read from entry 32 (%alpha)
    }

What it plans (`plena_mlir/linking/`):

- HBM (`hbm_plan.py`): the chain's tensor arguments back to back from byte 0 in argument
  order (the image the host builds), the intermediates (`tile.hbm_tensor`) above them, first
  fit by liveness in calls (a dead intermediate's bytes are reused) unless
  `reuse-intermediates=false`; a `tile.view` has its source's address.  A producer's output
  and its consumer's input are the same chain tensor, hence the same address.
- FPRAM: one constant pool (`plena.fpram_pool`, `fpram-constant-slots` entries from entry 0)
  shared by all calls: an f32 constant the chain binds to a kernel's scalar argument gets a
  pool slot and the argument is pinned there; the chain's f32 arguments get the entries
  right after the pool; every kernel's scratch is above those (plena-allocate-memory's
  `fpram-chain-entries`), so no kernel writes on another's pinned values.
- Each call (`stage_compile.py`): its kernel compiled alone with COMPILE_PIPELINE, its tensor
  arguments pinned to the planned addresses, its bound scalars to their entries, the pool
  carried from call to call.  VRAM and MRAM are each kernel's own: calls run one after the
  other and hand data over only through HBM.  No kernel assumes machine state left by
  another: the lowering sets SCALE, STRIDE and V_MASK before use and plena-optimize-scalar
  assumes nothing about them at the start of a program.

Diagnostics: no or several tile.chain; an intermediate read before any call writes it
(naming the stage and the tensor); a chain tensor that does not fit in HBM (naming it, its
size and what is live); and every error of a kernel's compilation prefixed by its stage:
`stage "linear_q" (@linear): tile.alloc %a_tile (...) does not fit in VRAM ...`, e.g. a VRAM
buffer that does not fit or a full FPRAM constant pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects.plena import CommentOp, target_of
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from plena_mlir.passes.convert_lane_to_plena import KERNEL_ATTR_NAME
from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.ir.int_dict import int_dict_attr
from plena_mlir.linking.chain_reading import Chain, ChainCall, find_chain, read_chain
from plena_mlir.linking.hbm_plan import HbmPlan, plan_hbm
from plena_mlir.linking.stage_compile import compile_call
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.pipeline import Stage, compile_passes


@dataclass(frozen=True)
class LinkKernelsPass(ModulePass):
    """Link the module's tile.chain into one program (module docstring)."""

    name = "plena-link-kernels"

    reuse_intermediates: bool = True
    """Let an intermediate take the HBM bytes of one that is dead (false: each its own)."""

    fpram_constant_slots: int = 32
    """FPRAM entries from entry 0 for the constant pool shared by every call."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        chain = read_chain(find_chain(op))
        plan = plan_hbm(chain, target_of(op), self.reuse_intermediates)
        pool = FpramPool(self.fpram_constant_slots)
        scalar_entries = {
            name: self.fpram_constant_slots + i for i, name in enumerate(chain.scalars)
        }
        passes = compile_passes(
            AllocateMemoryPass(
                fpram_constant_slots=self.fpram_constant_slots,
                fpram_chain_entries=len(chain.scalars),
            )
        )
        program: list[Operation] = []
        stages: list[Stage] = []
        for call in chain.calls:
            fpram = _bound_scalars(call, pool, scalar_entries)
            hbm = {argument: plan.addresses[name] for argument, name in call.tensors.items()}
            compiled = compile_call(call, pool, hbm, fpram, passes)
            first = stages[-1].end if stages else 0
            end = first + compiled.instructions
            kernel = call.kernel.sym_name.data
            stages.append(Stage(call.stage, kernel, first, end))
            comment = CommentOp(f"stage {call.stage} (@{kernel}): instructions {first} .. {end}")
            program += [comment, *compiled.ops]
            pool = compiled.pool
        for body_op in list(op.body.block.ops):
            body_op.detach()
            body_op.erase()
        op.body.block.add_ops(program)
        op.attributes[KERNEL_ATTR_NAME] = _interface(chain, plan, scalar_entries, stages)
        pool.attach(op)


def _bound_scalars(
    call: ChainCall, pool: FpramPool, scalar_entries: dict[str, int]
) -> dict[str, int]:
    """The FPRAM entry of each f32 argument the call binds: a pool slot for a constant (added
    to `pool`), the chain argument's entry for a chain f32 argument."""
    try:
        entries = {argument: pool.slot(value) for argument, value in call.constants.items()}
    except DiagnosticException as e:
        raise DiagnosticException(f"{call.where}: {e}") from None
    return entries | {argument: scalar_entries[name] for argument, name in call.scalars.items()}


def _interface(
    chain: Chain, plan: HbmPlan, scalar_entries: dict[str, int], stages: list[Stage]
) -> DictionaryAttr:
    """The `plena.kernel` attribute of the linked module (module docstring)."""
    addresses = plan.addresses
    return DictionaryAttr(
        {
            "name": StringAttr(chain.name),
            "hbm_addresses": int_dict_attr({t.name: addresses[t.name] for t in chain.arguments}),
            "fpram_arguments": int_dict_attr(scalar_entries),
            "intermediates": int_dict_attr(
                {t.name: addresses[t.name] for t in chain.intermediates}
            ),
            "stages": ArrayAttr(
                DictionaryAttr(
                    {
                        "name": StringAttr(stage.name),
                        "kernel": StringAttr(stage.kernel),
                        "first": IntegerAttr(stage.first, i64),
                        "end": IntegerAttr(stage.end, i64),
                    }
                )
                for stage in stages
            ),
        }
    )
