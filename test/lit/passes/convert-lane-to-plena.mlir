// RUN: plena-opt %s --split-input-file -p 'plena-infer-memory,plena-allocate-memory,convert-lane-to-plena' | filecheck %s

// On-chip copies.  %t is at VRAM 0 (16 x 128: two column blocks of 16 rows, block 1 at 1024),
// %u at 2048, %m at FPRAM 32, %n at 160.
// VRAM -> VRAM with a column offset: V_ADD_VF dst_row, src_row, f0 from %t's block 1 (1024)
// to %u's block 0 (2048), 16 rows unrolled, both addresses stepped by one row (64).
// VRAM -> FPRAM: one S_MAP_FP_V per column block of row 3 (192 and 192 + 1024), the FPRAM
// address stepped by the immediate.  FPRAM -> FPRAM: S_LD_FP / S_ST_FP with immediate
// offsets, 16 entries per hardware iteration.  FPRAM -> VRAM: S_MAP_V_FP into row 5 of %u.

tile.kernel @copies grid(%i = 1) args(%x : !tile.tensor<16x128xf32>, %y : !tile.tensor<16x128xf32>) {
  %t = tile.alloc : !tile.buffer<16x128xbf16, vram>
  %u = tile.alloc : !tile.buffer<16x128xbf16, vram>
  %m = tile.alloc : !tile.buffer<128xf32, fpram>
  %n = tile.alloc : !tile.buffer<128xf32, fpram>
  tile.copy %x to %t : !tile.tensor<16x128xf32> to !tile.buffer<16x128xbf16, vram>
  tile.copy %t[0, 64] sizes [16, 64] to %u[0, 0] : !tile.buffer<16x128xbf16, vram> to !tile.buffer<16x128xbf16, vram>
  tile.copy %t[3, 0] sizes [1, 128] to %m : !tile.buffer<16x128xbf16, vram> to !tile.buffer<128xf32, fpram>
  tile.copy %m to %n : !tile.buffer<128xf32, fpram> to !tile.buffer<128xf32, fpram>
  tile.copy %n to %u[5, 0] sizes [1, 128] : !tile.buffer<128xf32, fpram> to !tile.buffer<16x128xbf16, vram>
  tile.copy %u to %y : !tile.buffer<16x128xbf16, vram> to !tile.tensor<16x128xf32>
}

// CHECK:      %[[DST:.*]] = plena.li 2048 : !plena.gp
// CHECK:      plena.h_prefetch_v
// CHECK:      plena.yield
// CHECK-NEXT: }
// CHECK-NEXT: %[[SRC:.*]] = plena.li 1024 : !plena.gp
// CHECK:      %[[F0:.*]] = plena.get_register : !plena.fp<f0>
// CHECK-NEXT: plena.v_add_vf %[[DST]], %[[SRC]], %[[F0]], rmask 0
// CHECK-NEXT: %[[ROW:.*]] = plena.li 64 : !plena.gp
// CHECK-NEXT: %[[DST1:.*]] = plena.s_add_int %[[DST]], %[[ROW]]
// CHECK-NEXT: %[[SRC1:.*]] = plena.s_add_int %[[SRC]], %[[ROW]]
// CHECK-NEXT: plena.v_add_vf %[[DST1]], %[[SRC1]], %[[F0]], rmask 0
// CHECK-COUNT-14: plena.v_add_vf
// CHECK:      %[[M:.*]] = plena.li 32 : !plena.gp
// CHECK-NEXT: plena.s_map_fp_v %[[M]], %[[ROW3:.*]], 0
// CHECK-NEXT: %[[ROW3B1:.*]] = plena.s_add_int %[[ROW3]], %{{.*}}
// CHECK-NEXT: plena.s_map_fp_v %[[M]], %[[ROW3B1]], 64
// CHECK:      %[[N:.*]] = plena.li 160 : !plena.gp
// CHECK:      plena.loop %{{.*}} : !plena.gp = 8 iter_args(%[[FROM:.*]] = %[[M]], %[[TO:.*]] = %[[N]])
// CHECK-NEXT: %[[E0:.*]] = plena.s_ld_fp %[[FROM]], 0
// CHECK-NEXT: plena.s_st_fp %[[E0]], %[[TO]], 0
// CHECK-NEXT: %[[E1:.*]] = plena.s_ld_fp %[[FROM]], 1
// CHECK-NEXT: plena.s_st_fp %[[E1]], %[[TO]], 1
// CHECK:      plena.s_st_fp %{{.*}}, %[[TO]], 15
// CHECK:      %[[ROW5:.*]] = plena.li 2368 : !plena.gp
// CHECK-NEXT: plena.s_map_v_fp %[[ROW5]], %[[N]], 0
// CHECK:      plena.s_map_v_fp %{{.*}}, %[[N]], 64
// CHECK:      plena.h_store_v

// -----

// tile.fill of VRAM: BLEN = 2 zero rows at the top of VRAM (131070 * 64 = 8388480) written
// from the drained matrix accumulator, VLEN / BLEN = 32 M_MM_WO, then V_ADD_VF row, zero row,
// value for the 16 rows of the buffer (unrolled).

tile.kernel @fill grid(%i = 1) args(%y : !tile.tensor<16x64xf32>) {
  %v = arith.constant 2.500000e-01 : f32
  %t = tile.alloc : !tile.buffer<16x64xbf16, vram>
  tile.fill %t, %v : !tile.buffer<16x64xbf16, vram>, f32
  tile.copy %t to %y : !tile.buffer<16x64xbf16, vram> to !tile.tensor<16x64xf32>
}

// CHECK:      plena.fpram_pool = {slots = 32 : i64, constants = [2.500000e-01 : f32]}
// CHECK:      %[[GP0:.*]] = plena.get_register : !plena.gp<gp0>
// CHECK-NEXT: %[[C0:.*]] = plena.li 0 : !plena.gp
// CHECK-NEXT: %[[ZERO:.*]] = plena.li 8388480 : !plena.gp
// CHECK-NEXT: plena.m_mm_wo %[[ZERO]], %[[GP0]], 0
// CHECK-NEXT: plena.m_mm_wo %[[ZERO]], %[[GP0]], 2
// CHECK-COUNT-29: plena.m_mm_wo
// CHECK-NEXT: plena.m_mm_wo %[[ZERO]], %[[GP0]], 62
// CHECK-NEXT: %[[VALUE:.*]] = plena.s_ld_fp %[[C0]], 0
// CHECK-NEXT: plena.v_add_vf %[[C0]], %[[ZERO]], %[[VALUE]], rmask 0
// CHECK-COUNT-15: plena.v_add_vf %{{.*}}, %[[ZERO]], %[[VALUE]], rmask 0

// -----

// Element-wise ops over contiguous buffers (no padding rows, no broadcast) are one run of
// VRAM rows: 64 x 128 is 128 rows, 16 V_MUL_VV per hardware iteration of 8, each row address
// stepped by 64.  A broadcast row (%w) keeps its address in the inner loop over rows, column
// blocks outer.  FPRAM entry-wise ops address entries with the immediate.

tile.kernel @elementwise grid(%i = 1) args(%x : !tile.tensor<64x128xf32>, %b : !tile.tensor<128xf32>, %y : !tile.tensor<64x128xf32>) {
  %t = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %w = tile.alloc : !tile.buffer<1x128xbf16, vram>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x to %t : !tile.tensor<64x128xf32> to !tile.buffer<64x128xbf16, vram>
  tile.copy %b to %w : !tile.tensor<128xf32> to !tile.buffer<1x128xbf16, vram>
  tile.mul %t, %t, %t : !tile.buffer<64x128xbf16, vram>
  tile.add %t, %t, %w : !tile.buffer<64x128xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<1x128xbf16, vram>
  tile.reduce_sum %m, %t : !tile.buffer<64xf32, fpram>, !tile.buffer<64x128xbf16, vram>
  tile.fp_sqrt %m, %m : !tile.buffer<64xf32, fpram>
  tile.mul_scalar %t, %t, %m : !tile.buffer<64x128xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %t to %y : !tile.buffer<64x128xbf16, vram> to !tile.tensor<64x128xf32>
}

// CHECK:      plena.loop %{{.*}} : !plena.gp = 8 iter_args(%[[R:.*]] = %{{.*}})
// CHECK-NEXT: plena.v_mul_vv %[[R]], %[[R]], %[[R]], rmask 0
// CHECK-NEXT: %[[STEP:.*]] = plena.li 64 : !plena.gp
// CHECK-NEXT: %[[R1:.*]] = plena.s_add_int %[[R]], %[[STEP]]
// CHECK-NEXT: plena.v_mul_vv %[[R1]], %[[R1]], %[[R1]], rmask 0
// CHECK-COUNT-14: plena.v_mul_vv
// CHECK:      plena.loop %{{.*}} : !plena.gp = 2 iter_args(%[[BLOCK:.*]] = %{{.*}}, %[[WBLOCK:.*]] = %{{.*}})
// CHECK-NEXT: plena.loop %{{.*}} : !plena.gp = 4 iter_args(%[[ROW:.*]] = %[[BLOCK]])
// CHECK-NEXT: plena.v_add_vv %[[ROW]], %[[ROW]], %[[WBLOCK]], rmask 0
// CHECK:      plena.v_red_sum
// CHECK:      plena.loop %{{.*}} : !plena.gp = 4 iter_args(%[[ENTRY:.*]] = %{{.*}})
// CHECK-NEXT: %[[A:.*]] = plena.s_ld_fp %[[ENTRY]], 0
// CHECK-NEXT: %[[S:.*]] = plena.s_sqrt_fp %[[A]]
// CHECK-NEXT: plena.s_st_fp %[[S]], %[[ENTRY]], 0
// CHECK-NEXT: %[[B:.*]] = plena.s_ld_fp %[[ENTRY]], 1
// CHECK:      plena.v_mul_vf
