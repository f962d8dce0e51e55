// RUN: plena-opt %s -p plena-infer-memory | filecheck %s

// A gemm B operand goes to MRAM, rank-1 row state to FPRAM, every other rank-2 buffer to VRAM;
// the uses see the new types, and declared spaces are kept.

tile.kernel @linear grid(%block = 2) args(%a : !tile.tensor<128x64xf32>, %b : !tile.tensor<64x64xf32>, %c : !tile.tensor<128x64xf32>) {
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %a_tile = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %b_tile = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %acc = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %row_max = tile.alloc : !tile.buffer<64xf32, ?>
  %kept = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %a[%row0, 0] to %a_tile : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.copy %b to %b_tile : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.gemm %acc[m, n] = %a_tile[m, k] * %b_tile[n, k] : !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>
  tile.reduce_max %row_max, %acc : !tile.buffer<64xf32, ?>, !tile.buffer<64x64xbf16, ?>
  tile.copy %acc to %c[%row0, 0] : !tile.buffer<64x64xbf16, ?> to !tile.tensor<128x64xf32>
}

// CHECK:      %a_tile = tile.alloc : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %b_tile = tile.alloc : !tile.buffer<64x64xbf16, mram>
// CHECK-NEXT: %acc = tile.alloc : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %row_max = tile.alloc : !tile.buffer<64xf32, fpram>
// CHECK-NEXT: %kept = tile.alloc : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: tile.copy %a[%row0, 0] to %a_tile : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: tile.copy %b to %b_tile : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, mram>
// CHECK-NEXT: tile.gemm %acc[m, n] = %a_tile[m, k] * %b_tile[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
// CHECK-NEXT: tile.reduce_max %row_max, %acc : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
// CHECK-NOT:  ?>
