"""The plena-mlir passes.  `get_all_passes()` maps pass names to lazy factories."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    def get_allocate_registers() -> type[ModulePass]:
        from plena_mlir.passes.allocate_registers import AllocateRegistersPass

        return AllocateRegistersPass

    def get_infer_memory() -> type[ModulePass]:
        from plena_mlir.passes.infer_memory import InferMemoryPass

        return InferMemoryPass

    def get_allocate_memory() -> type[ModulePass]:
        from plena_mlir.passes.allocate_memory import AllocateMemoryPass

        return AllocateMemoryPass

    def get_optimize_scalar() -> type[ModulePass]:
        from plena_mlir.passes.optimize_scalar import OptimizeScalarPass

        return OptimizeScalarPass

    def get_convert_lane_to_plena() -> type[ModulePass]:
        from plena_mlir.passes.convert_lane_to_plena import ConvertLaneToPlenaPass

        return ConvertLaneToPlenaPass

    def get_expand_lanes() -> type[ModulePass]:
        from plena_mlir.passes.expand_lanes import ExpandLanesPass

        return ExpandLanesPass

    def get_assign_layout() -> type[ModulePass]:
        from plena_mlir.passes.assign_layout import AssignLayoutPass

        return AssignLayoutPass

    def get_select_gemm() -> type[ModulePass]:
        from plena_mlir.passes.select_gemm import SelectGemmPass

        return SelectGemmPass

    def get_link_kernels() -> type[ModulePass]:
        from plena_mlir.passes.link_kernels import LinkKernelsPass

        return LinkKernelsPass

    def get_compile() -> type[ModulePass]:
        from plena_mlir.pipeline import CompilePass

        return CompilePass

    return {
        "plena-allocate-registers": get_allocate_registers,
        "convert-lane-to-plena": get_convert_lane_to_plena,
        "plena-compile": get_compile,
        "plena-link-kernels": get_link_kernels,
        "plena-infer-memory": get_infer_memory,
        "plena-allocate-memory": get_allocate_memory,
        "plena-optimize-scalar": get_optimize_scalar,
        "plena-select-gemm": get_select_gemm,
        "plena-expand-lanes": get_expand_lanes,
        "plena-assign-layout": get_assign_layout,
    }
