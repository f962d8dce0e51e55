"""backend/scalar_opt/effects.py and sharing.py against xDSL: the effect classes, the dead-code
check and CSE give what xDSL's `get_effects`, `is_trivially_dead` and `cse` give."""

from __future__ import annotations

import pytest
from plena_mlir.dialects.plena import LoopOp
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.traits import MemoryEffectKind, get_effects
from xdsl.transforms.common_subexpression_elimination import cse as xdsl_cse
from xdsl.transforms.dead_code_elimination import is_trivially_dead as xdsl_is_trivially_dead

from plena_mlir.backend.scalar_opt.effects import (
    EffectClass,
    LoopClasses,
    effect_class,
    is_trivially_dead,
)
from plena_mlir.backend.scalar_opt.sharing import share_common_subexpressions
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_passes

# pytest names this test package `passes` (test/unit has no __init__.py); the relative
# import loads the sibling helper module, not the compiler's passes package.
from .scalar_programs import allocate, parse, random_program  # noqa: TID251

ALLOCATED = """
%zero = plena.get_register : !plena.gp<gp0>
%a = plena.s_addi_int %zero, 5 : (!plena.gp<gp0>) -> !plena.gp<gp2>
%b = plena.s_addi_int %zero, 5 : (!plena.gp<gp0>) -> !plena.gp
%c = plena.li 7 : !plena.gp<gp3>
%d = plena.li 7 : !plena.gp
plena.comment "a comment"
plena.loop %i : !plena.gp<gp4> = 3 {
  %e = plena.s_add_int %b, %d : (!plena.gp, !plena.gp) -> !plena.gp
}
plena.loop %j : !plena.gp = 3 {
  %f = plena.s_add_int %b, %d : (!plena.gp, !plena.gp) -> !plena.gp
  plena.loop %k : !plena.gp = 2 {
    %g = plena.s_ld_int %zero, 4 : (!plena.gp<gp0>) -> !plena.gp
  }
}
plena.loop %l : !plena.gp = 3 {
  plena.comment "unknown effects"
}
"""


def _class_of_effects(op) -> EffectClass:
    effects = get_effects(op)
    if effects is None:
        return EffectClass.UNKNOWN
    if not effects:
        return EffectClass.NONE
    if all(e.kind is MemoryEffectKind.READ for e in effects):
        return EffectClass.READS
    return EffectClass.WRITES


def _modules() -> list[ModuleOp]:
    programs = [parse(random_program(seed)) for seed in range(6)]
    return [parse(ALLOCATED), *programs, *(allocate(p.clone()) for p in programs)]


@pytest.mark.parametrize("module", _modules())
def test_effect_classes_and_dead_code_are_xdsls(module):
    loops: LoopClasses = {}
    for op in module.walk():
        assert effect_class(op, loops) is _class_of_effects(op), op
        assert is_trivially_dead(op) == xdsl_is_trivially_dead(op), op


def test_a_loop_class_is_computed_once_per_memo():
    module = parse(ALLOCATED)
    loops: LoopClasses = {}
    counted = [op for op in module.walk() if isinstance(op, LoopOp)][0]
    assert effect_class(counted, loops) is EffectClass.WRITES
    loops[counted] = EffectClass.NONE  # a memo entry is trusted, not recomputed
    assert effect_class(counted, loops) is EffectClass.NONE
    assert effect_class(counted, {}) is EffectClass.WRITES


@pytest.mark.parametrize("seed", range(6))
def test_sharing_is_xdsls_cse(seed):
    ours, theirs = parse(random_program(seed)), parse(random_program(seed))
    share_common_subexpressions(ours)
    xdsl_cse(theirs)
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("kernel", ["flash_attention", "layernorm"])
def test_sharing_is_xdsls_cse_on_a_lowered_kernel(kernel):
    spec = all_kernels()[kernel]
    module = spec.build(spec.resolve(spec.sizes_to_test()[0]))
    for compile_pass in compile_passes(AllocateMemoryPass())[:-2]:  # up to the scalar pass
        compile_pass.apply(Context(), module)
    theirs = module.clone()
    share_common_subexpressions(module)
    xdsl_cse(theirs)
    assert str(module) == str(theirs)
