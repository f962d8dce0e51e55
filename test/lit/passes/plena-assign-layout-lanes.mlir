// RUN: plena-opt %s -p plena-expand-lanes,plena-assign-layout | filecheck %s

// plena-assign-layout on a lane kernel: every lane.alloc gets the layout of its physical
// buffer (col_pack 4x64x16 is one 64x64 VRAM tile, fp_lane 4x64 is 256 FPRAM entries), every
// tensor moved by heads is BSHD with the heads of its `lanes` dimension ([S, H, D] here), and
// the masked per-lane row_mul was made in place by plena-expand-lanes (a lane.copy before the
// lane loop), so the lane verifier accepts it.

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

// CHECK:      tile.kernel @rmsnorm grid(%block = 2, %head = 2) args(%x : !tile.tensor<128x8x16xf32>, %y : !tile.tensor<128x8x16xf32>, %inv_n : f32) attributes {hbm_layouts = {x = #tile.bshd<heads = 8, head_dim = 16>, y = #tile.bshd<heads = 8, head_dim = 16>}} {
// CHECK-NEXT:   %lanes = arith.constant 4 : index
// CHECK-NEXT:   %head0 = arith.muli %head, %lanes : index
// CHECK-NEXT:   %c64 = arith.constant 64 : index
// CHECK-NEXT:   %row0 = arith.muli %block, %c64 : index
// CHECK-NEXT:   %t = lane.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %sq = lane.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %out = lane.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:   %inv = lane.alloc {layout = #tile.fpram_entries<entries = 256>} : !lane.buffer<4x64xf32, fpram, fp_lane>
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
