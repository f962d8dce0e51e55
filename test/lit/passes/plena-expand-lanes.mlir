// RUN: plena-opt %s --split-input-file -p plena-expand-lanes | filecheck %s

// A kernel without a lane axis is left unchanged.

tile.kernel @softmax grid(%block = 2) args(%x : !tile.tensor<128x64xf32>, %y : !tile.tensor<128x64xf32>) {
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %row_max = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x[%row0, 0] to %s : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.reduce_max %row_max, %s : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.copy %s to %y[%row0, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
}

// CHECK:      tile.kernel @softmax grid(%block = 2) args(%x : !tile.tensor<128x64xf32>, %y : !tile.tensor<128x64xf32>) {
// CHECK-NEXT:   %c64 = arith.constant 64 : index
// CHECK-NEXT:   %row0 = arith.muli %block, %c64 : index
// CHECK-NEXT:   %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT:   %row_max = tile.alloc : !tile.buffer<64xf32, fpram>
// CHECK-NEXT:   tile.copy %x[%row0, 0] to %s : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT:   tile.reduce_max %row_max, %s : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT:   tile.copy %s to %y[%row0, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
// CHECK-NEXT: }

// -----

// Heads of MLEN = 64 columns fill whole rows: nothing to pack, so the lane axis becomes an
// ordinary grid axis (the `lane` marker goes) and every head is its own program instance.

tile.kernel @rmsnorm grid(%block = 2, %head = 4 lane) args(%x : !tile.tensor<128x256xf32>, %y : !tile.tensor<128x256xf32>) {
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %col0 = arith.muli %head, %c64 : index
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %sum = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x[%row0, %col0] to %t : !tile.tensor<128x256xf32> to !tile.buffer<64x64xbf16, vram>
  tile.reduce_sum %sum, %t : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.copy %t to %y[%row0, %col0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x256xf32>
}

// CHECK:      tile.kernel @rmsnorm grid(%block = 2, %head = 4) args(%x : !tile.tensor<128x256xf32>, %y : !tile.tensor<128x256xf32>) {
// CHECK-NEXT:   %c64 = arith.constant 64 : index
// CHECK-NEXT:   %row0 = arith.muli %block, %c64 : index
// CHECK-NEXT:   %col0 = arith.muli %head, %c64 : index
// CHECK-NEXT:   %t = tile.alloc : !tile.buffer<64x64xbf16, vram>

// -----

// Two groups of 4 lanes (8 heads of HLEN = 16): scores of every head by one lane.btmm, the
// scale once for all lanes, the row_stack softmax per lane, P·V per lane (lane.gemm), the
// output at a head offset (`%head + 8`): one lane loop per run of per-lane ops, the
// whole-tile exp between them outside.

tile.kernel @attention grid(%qb = 2, %head = 8 lane) args(%Q : !tile.tensor<1x128x8x16xf32>, %K : !tile.tensor<1x64x8x16xf32>, %V : !tile.tensor<1x64x8x16xf32>, %O : !tile.tensor<1x128x16x16xf32>, %scale : f32) {
  %c64 = arith.constant 64 : index
  %c8 = arith.constant 8 : index
  %row0 = arith.muli %qb, %c64 : index
  %oh = arith.addi %head, %c8 : index
  %q = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %k = tile.alloc : !tile.buffer<64x16xbf16, mram>
  %v = tile.alloc : !tile.buffer<64x16xbf16, mram>
  %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %o = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  %l = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %Q[0, %row0, %head, 0] sizes [1, 64, 1, 16] to %q : !tile.tensor<1x128x8x16xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %K[0, 0, %head, 0] sizes [1, 64, 1, 16] to %k : !tile.tensor<1x64x8x16xf32> to !tile.buffer<64x16xbf16, mram>
  tile.copy %V[0, 0, %head, 0] sizes [1, 64, 1, 16] to %v : !tile.tensor<1x64x8x16xf32> to !tile.buffer<64x16xbf16, mram>
  tile.gemm %s[m, n] = %q[m, k] * %k[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, mram>
  tile.mul_scalar %s, %s, %scale : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
  tile.reduce_max %m, %s : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.sub_scalar %s, %s, %m : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.exp %s, %s : !tile.buffer<64x64xbf16, vram>
  tile.reduce_sum %l, %s : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.fp_reci %l, %l : !tile.buffer<64xf32, fpram>
  tile.gemm %o[m, n] = %s[m, k] * %v[k, n] : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x16xbf16, mram>
  tile.mul_scalar %o, %o, %l : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %o to %O[0, %row0, %oh, 0] sizes [1, 64, 1, 16] : !tile.buffer<64x16xbf16, vram> to !tile.tensor<1x128x16x16xf32>
}

// CHECK:      tile.kernel @attention grid(%qb = 2, %head = 2) args(%Q : !tile.tensor<1x128x8x16xf32>, %K : !tile.tensor<1x64x8x16xf32>, %V : !tile.tensor<1x64x8x16xf32>, %O : !tile.tensor<1x128x16x16xf32>, %scale : f32) {
// CHECK-NEXT:   %lanes = arith.constant 4 : index
// CHECK-NEXT:   %head0 = arith.muli %head, %lanes : index
// CHECK-NEXT:   %c64 = arith.constant 64 : index
// CHECK-NEXT:   %c8 = arith.constant 8 : index
// CHECK-NEXT:   %row0 = arith.muli %qb, %c64 : index
// CHECK-NEXT:   %oh = arith.addi %head0, %c8 : index
// CHECK-NEXT:   %q = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %k = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:   %v = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:   %s = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT:   %o = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %m = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:   %l = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:   lane.copy %Q[0, %row0, lanes %head0, 0] to %q : !tile.tensor<1x128x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   lane.copy %K[0, 0, lanes %head0, 0] to %k : !tile.tensor<1x64x8x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:   lane.copy %V[0, 0, lanes %head0, 0] to %v : !tile.tensor<1x64x8x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:   lane.btmm %s = %q * %k : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:   lane.mul_scalar %s, %s, %scale : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, f32
// CHECK-NEXT:   lane.for_lanes %lane = 4 {
// CHECK-NEXT:     lane.row_max %m, %s lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT:     lane.row_sub %s, %s, %m lane %lane : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:   }
// CHECK-NEXT:   lane.exp %s, %s : !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT:   lane.for_lanes %lane_1 = 4 {
// CHECK-NEXT:     lane.row_sum %l, %s lane %lane_1 : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT:     lane.fp_reci %l, %l lane %lane_1 : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:     lane.gemm %o[m, n] = %s[m, k] * %v[k, n] lane %lane_1 : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:     lane.row_mul %o, %o, %l lane %lane_1 : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:   }
// CHECK-NEXT:   lane.copy %o to %O[0, %row0, lanes %oh, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<1x128x16x16xf32>
// CHECK-NEXT: }

// -----

// rmsnorm of heads of 16 ([S, H, D] tensors) written out of place: `%out = %t * inv` is a
// masked per-lane op on col_pack, so %t is copied to %out (once, for all lanes) before the
// lane loop and the row_mul runs in place.

tile.kernel @rmsnorm grid(%block = 2, %head = 8 lane) args(%x : !tile.tensor<128x8x16xf32>, %y : !tile.tensor<128x8x16xf32>, %inv_n : f32) {
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %sq = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %out = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %inv = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x[%row0, %head, 0] sizes [64, 1, 16] to %t : !tile.tensor<128x8x16xf32> to !tile.buffer<64x16xbf16, vram>
  tile.mul %sq, %t, %t : !tile.buffer<64x16xbf16, vram>
  tile.reduce_sum %inv, %sq : !tile.buffer<64xf32, fpram>, !tile.buffer<64x16xbf16, vram>
  tile.fp_mul %inv, %inv, %inv_n : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.fp_sqrt %inv, %inv : !tile.buffer<64xf32, fpram>
  tile.fp_reci %inv, %inv : !tile.buffer<64xf32, fpram>
  tile.mul_scalar %out, %t, %inv : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %out to %y[%row0, %head, 0] sizes [64, 1, 16] : !tile.buffer<64x16xbf16, vram> to !tile.tensor<128x8x16xf32>
}

// CHECK:      tile.kernel @rmsnorm grid(%block = 2, %head = 2) args(%x : !tile.tensor<128x8x16xf32>, %y : !tile.tensor<128x8x16xf32>, %inv_n : f32) {
// CHECK-NEXT:   %lanes = arith.constant 4 : index
// CHECK-NEXT:   %head0 = arith.muli %head, %lanes : index
// CHECK-NEXT:   %c64 = arith.constant 64 : index
// CHECK-NEXT:   %row0 = arith.muli %block, %c64 : index
// CHECK-NEXT:   %t = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %sq = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %out = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %inv = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:   lane.copy %x[%row0, lanes %head0, 0] to %t : !tile.tensor<128x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   lane.mul %sq, %t, %t : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   lane.copy %t to %out : !lane.buffer<4x64x16xbf16, vram, col_pack> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   lane.for_lanes %lane = 4 {
// CHECK-NEXT:     lane.row_sum %inv, %sq lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:     lane.fp_mul %inv, %inv, %inv_n lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64xf32, fpram, fp_lane>, f32
// CHECK-NEXT:     lane.fp_sqrt %inv, %inv lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:     lane.fp_reci %inv, %inv lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:     lane.row_mul %out, %out, %inv lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT:   }
// CHECK-NEXT:   lane.copy %out to %y[%row0, lanes %head0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<128x8x16xf32>
// CHECK-NEXT: }
