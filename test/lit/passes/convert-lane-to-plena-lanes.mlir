// RUN: plena-opt %s -p 'plena-allocate-memory,convert-lane-to-plena' | filecheck %s

// Lane IR: two groups (%g) of 4 lanes.  %x (col_pack 4x16x16: one 16 x 64 VRAM tile) is at
// VRAM 0, %s (row_stack 4x16x64: slab l at 1024 + l*16*64) at 1024, %m (fp_lane 4x16: lane l
// at 32 + l*16) at FPRAM 32.
//
// - The col_pack load is ONE H_PREFETCH_V of 16 rows x 64 columns: heads h0..h0+3 are
//   adjacent in a row of X (16 x 8 x 16 seen as 16 x 128), start h0*16, STRIDE 128.
// - The row_stack load is one DMA per lane, into slab l from h0*1024 + l*1024.
// - lane.for_lanes: the row_max of every lane at once (slab l at 1024 + l*1024 and lane l's
//   FPRAM run at 32 + 16*l follow each other: one loop over the 64 slab rows into FPRAM
//   32 .. 95, rmask 0); then unrolled per lane l the row_mul on col_pack under V_MASK = 1 << l
//   (rmask 1), scalars from FPRAM 32 + 16*l.
// - The store writes heads 8 + h0 .. of the 16-head Y: start (h0 + 8)*16, STRIDE 256.

tile.kernel @lanes grid(%g = 2) args(%X : !tile.tensor<16x8x16xf32>, %S : !tile.tensor<8x16x64xf32>, %Y : !tile.tensor<16x16x16xf32>) {
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %h0 = arith.muli %g, %c4 : index
  %ho = arith.addi %h0, %c8 : index
  %x = lane.alloc : !lane.buffer<4x16x16xbf16, vram, col_pack>
  %s = lane.alloc : !lane.buffer<4x16x64xbf16, vram, row_stack>
  %m = lane.alloc : !lane.buffer<4x16xf32, fpram, fp_lane>
  lane.copy %X[0, lanes %h0, 0] to %x : !tile.tensor<16x8x16xf32> to !lane.buffer<4x16x16xbf16, vram, col_pack>
  lane.copy %S[lanes %h0, 0, 0] to %s : !tile.tensor<8x16x64xf32> to !lane.buffer<4x16x64xbf16, vram, row_stack>
  lane.for_lanes %l = 4 {
    lane.row_max %m, %s lane %l : !lane.buffer<4x16xf32, fpram, fp_lane>, !lane.buffer<4x16x64xbf16, vram, row_stack>
    lane.row_mul %x, %x, %m lane %l : !lane.buffer<4x16x16xbf16, vram, col_pack>, !lane.buffer<4x16x16xbf16, vram, col_pack>, !lane.buffer<4x16xf32, fpram, fp_lane>
  }
  lane.copy %x to %Y[0, lanes %ho, 0] : !lane.buffer<4x16x16xbf16, vram, col_pack> to !tile.tensor<16x16x16xf32>
}

// CHECK:      %[[ZERO:.*]] = plena.li 0 : !plena.gp
// CHECK:      plena.loop %{{.*}} : !plena.gp = 2 iter_args(%[[G:.*]] = %[[ZERO]])
// CHECK-NEXT: %[[C4:.*]] = plena.li 4 : !plena.gp
// CHECK-NEXT: %[[C8:.*]] = plena.li 8 : !plena.gp
// CHECK-NEXT: %[[H0:.*]] = plena.s_mul_int %[[G]], %[[C4]]
// CHECK-NEXT: %[[HO:.*]] = plena.s_add_int %[[H0]], %{{.*}}
// CHECK-NEXT: %[[D:.*]] = plena.li 16 : !plena.gp
// CHECK-NEXT: %[[COL0:.*]] = plena.s_mul_int %[[H0]], %[[D]]
// CHECK-NEXT: %[[XSTART:.*]] = plena.s_add_int %[[ZERO]], %[[COL0]]
// CHECK:      %[[HD:.*]] = plena.li 128 : !plena.gp
// CHECK-NEXT: plena.c_set_stride_reg %[[HD]]
// CHECK-NEXT: %[[XA:.*]] = plena.c_set_addr_reg
// CHECK-NEXT: plena.h_prefetch_v %[[ZERO]], %[[XSTART]], %[[XA]], rstride 1, precision 0
// CHECK-NOT:  plena.h_prefetch_v
// CHECK:      %[[SLAB:.*]] = plena.li 1024 : !plena.gp
// CHECK:      %[[SOFF:.*]] = plena.s_mul_int %[[H0]], %[[SLAB]]
// CHECK-NEXT: %[[SSTART:.*]] = plena.s_add_int %[[ZERO]], %[[SOFF]]
// CHECK:      plena.c_set_stride_reg %{{.*}} : !plena.gp
// CHECK:      %[[SA:.*]] = plena.c_set_addr_reg
// CHECK-NEXT: plena.h_prefetch_v %[[SLAB]], %[[SSTART]], %[[SA]], rstride 1, precision 0
// CHECK:      plena.h_prefetch_v %{{.*}}, %{{.*}}, %[[SA]], rstride 1, precision 0
// CHECK:      plena.h_prefetch_v %{{.*}}, %{{.*}}, %[[SA]], rstride 1, precision 0
// CHECK:      plena.h_prefetch_v %{{.*}}, %{{.*}}, %[[SA]], rstride 1, precision 0
// CHECK-NOT:  plena.h_prefetch_v

// The row maxima of every lane: 4 iterations of 16 rows from slab 0 (1024), FPRAM from 32.
// CHECK:      %[[M:.*]] = plena.li 32 : !plena.gp
// CHECK-NEXT: plena.loop %{{.*}} : !plena.gp = 4 iter_args(%[[R:.*]] = %[[SLAB]], %[[MR:.*]] = %[[M]])
// CHECK-NEXT: %[[SEED:.*]] = plena.s_ld_fp %[[ZERO]], 0
// CHECK-NEXT: %[[MAX:.*]] = plena.v_red_max %[[SEED]], %[[R]], rmask 0
// CHECK-NEXT: plena.s_st_fp %[[MAX]], %[[MR]], 0
// CHECK-COUNT-15: plena.v_red_max %{{.*}}, rmask 0
// CHECK:      plena.yield
// CHECK-NOT:  plena.v_red_max

// lane 0: the masked row_mul of head 0's columns by FPRAM 32 .. 47.
// CHECK:      %[[MASK0:.*]] = plena.li 1 : !plena.gp
// CHECK-NEXT: plena.c_set_v_mask_reg %[[MASK0]]
// CHECK-NEXT: %[[F0:.*]] = plena.s_ld_fp %[[M]], 0
// CHECK-NEXT: plena.v_mul_vf %[[ZERO]], %[[ZERO]], %[[F0]], rmask 1
// CHECK:      plena.s_ld_fp %[[M]], 1
// CHECK-NEXT: plena.v_mul_vf %{{.*}}, %{{.*}}, %{{.*}}, rmask 1
// CHECK-COUNT-14: plena.v_mul_vf %{{.*}}, rmask 1

// lane 1: V_MASK = 2, scalars from FPRAM 48 .. 63 (32 + 16).
// CHECK:      %[[M1:.*]] = plena.li 48 : !plena.gp
// CHECK-NEXT: %[[MASK1:.*]] = plena.li 2 : !plena.gp
// CHECK-NEXT: plena.c_set_v_mask_reg %[[MASK1]]
// CHECK-NEXT: %[[F1:.*]] = plena.s_ld_fp %[[M1]], 0
// CHECK-NEXT: plena.v_mul_vf %[[ZERO]], %[[ZERO]], %[[F1]], rmask 1

// lanes 2 and 3: V_MASK = 4, then 8 (the constants of the index arithmetic).
// CHECK:      plena.c_set_v_mask_reg %[[C4]] : !plena.gp
// CHECK:      plena.c_set_v_mask_reg %[[C8]] : !plena.gp
// CHECK-NOT:  plena.c_set_v_mask_reg

// The store into heads 8 + h0 ..: start (h0 + 8) * 16, STRIDE 16 * 16 = 256.
// CHECK:      %[[OCOL:.*]] = plena.s_mul_int %[[HO]], %[[D]]
// CHECK:      plena.c_set_stride_reg %[[OSTRIDE:.*]] : !plena.gp
// CHECK-NEXT: %[[Y:.*]] = plena.li 11520 : !plena.gp
// CHECK-NEXT: %[[YA:.*]] = plena.c_set_addr_reg %{{.*}}, %[[Y]]
// CHECK-NEXT: plena.h_store_v %[[ZERO]], %{{.*}}, %[[YA]], rstride 1, precision 0
