// RUN: plena-opt %s -p plena-compile --print-between-passes | filecheck %s
// RUN: plena-opt %s -p plena-compile -t plena-asm | filecheck %s --check-prefix=ASM
// RUN: not plena-opt %s -p 'plena-compile{fast=true}' 2>&1 | filecheck %s --check-prefix=OPTION

// Softmax of one 64x64 tile through the whole pipeline: plena-opt expands `plena-compile`
// into its passes, so --print-between-passes shows every stage (the last one's result is the
// output itself).

tile.kernel @softmax grid(%block = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
  %s = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %row_max = tile.alloc : !tile.buffer<64xf32, ?>
  %row_sum = tile.alloc : !tile.buffer<64xf32, ?>
  tile.copy %x to %s : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.reduce_max %row_max, %s : !tile.buffer<64xf32, ?>, !tile.buffer<64x64xbf16, ?>
  tile.sub_scalar %s, %s, %row_max : !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64xf32, ?>
  tile.exp %s, %s : !tile.buffer<64x64xbf16, ?>
  tile.reduce_sum %row_sum, %s : !tile.buffer<64xf32, ?>, !tile.buffer<64x64xbf16, ?>
  tile.fp_reci %row_sum, %row_sum : !tile.buffer<64xf32, ?>
  tile.mul_scalar %s, %s, %row_sum : !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64xf32, ?>
  tile.copy %s to %y : !tile.buffer<64x64xbf16, ?> to !tile.tensor<64x64xf32>
}

// 1. memory spaces
// CHECK-LABEL: IR after plena-infer-memory:
// CHECK:       %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT:  %row_max = tile.alloc : !tile.buffer<64xf32, fpram>

// 2. no lane axis: unchanged
// CHECK-LABEL: IR after plena-expand-lanes:
// CHECK:       tile.kernel @softmax grid(%block = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {

// 3. layouts
// CHECK-LABEL: IR after plena-assign-layout:
// CHECK:       tile.kernel @softmax {{.*}} attributes {hbm_layouts = {x = #tile.row_major, y = #tile.row_major}}
// CHECK:       %s = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT:  %row_max = tile.alloc {layout = #tile.fpram_entries<entries = 64>} : !tile.buffer<64xf32, fpram>

// 4. no gemm to select for
// CHECK-LABEL: IR after plena-select-gemm:
// CHECK:       tile.reduce_max

// 5. addresses
// CHECK-LABEL: IR after plena-allocate-memory:
// CHECK:       hbm_addresses = {x = 0 : i64, y = 4608 : i64}
// CHECK:       %s = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>, address = 0 : i64}

// 6. the plena program on virtual registers
// CHECK-LABEL: IR after convert-lane-to-plena:
// CHECK:       builtin.module attributes {{{.*}}plena.kernel = {name = "softmax"
// CHECK-NOT:   tile.
// CHECK:       plena.h_prefetch_v {{.*}} : !plena.gp, !plena.gp, !plena.areg
// CHECK:       plena.v_red_max
// CHECK:       plena.h_store_v

// 7. scalar code folded (constants as S_ADDI_INT from gp0)
// CHECK-LABEL: IR after plena-optimize-scalar:
// CHECK:       plena.s_addi_int %{{[0-9]+}}, 64 : (!plena.gp<gp0>) -> !plena.gp

// 8. (the output) every register allocated
// CHECK:       builtin.module
// CHECK:       plena.h_prefetch_v {{.*}} : !plena.gp<gp{{[0-9]+}}>, !plena.gp<gp{{[0-9]+}}>, !plena.areg<a{{[0-9]}}>
// CHECK-NOT:   IR after

// ASM:      C_SET_SCALE_REG gp{{[0-9]+}}
// ASM:      C_SET_ADDR_REG a0, gp0, gp0
// ASM:      H_PREFETCH_V gp{{[0-9]+}}, gp{{[0-9]+}}, a0, 1, 0
// ASM:      V_RED_MAX f{{[0-9]+}}, gp{{[0-9]+}}, 0
// ASM:      V_SUB_VF
// ASM:      V_EXP_V
// ASM:      V_RED_SUM
// ASM:      S_RECI_FP
// ASM:      V_MUL_VF
// ASM:      H_STORE_V gp{{[0-9]+}}, gp{{[0-9]+}}, a0, 1, 0
// ASM-NOT:  plena.

// OPTION: plena-opt: error: -p 'plena-compile{fast=true}': plena-compile takes no options, got plena-compile{fast=true}
