// RUN: plena-opt %s -p 'plena-allocate-memory' | filecheck %s
// RUN: not plena-opt %s -p 'plena-allocate-memory{vram-base=8382208}' 2>&1 | filecheck %s --check-prefix=TOOBIG

// lane.alloc is placed like a tile.alloc of its physical buffer (LaneBufferType.physical),
// with the same liveness reuse: %x (col_pack 4x64x16 = 64 x 64, 64 VRAM rows) at 0, %s
// (row_stack 4x64x64 = 256 x 64) at row 64 (element 4096); %y reuses %x's rows once %x is
// dead (after the btmm), %w (4x1x16 = one row, padded to BLEN) reuses %s's.  MRAM: %k
// (col_pack 64 x 64, one tile) at tile 0.  FPRAM: %eps at 32, %m (fp_lane 4x64 = 256
// entries) at 33; the broadcast copy of %W into col_pack %w gets its FPRAM staging
// (`fpram_scratch`: 64 entries for the region as one VLEN row, 64 for the replicated row)
// at 33 once %m is dead, and %t at 33 too (live only at its fill).

tile.kernel @lanes grid(%g = 2) args(%X : !tile.tensor<64x8x16xf32>, %W : !tile.tensor<16xf32>, %Y : !tile.tensor<64x8x16xf32>, %eps : f32) {
  %c4 = arith.constant 4 : index
  %h0 = arith.muli %g, %c4 : index
  %half = arith.constant 5.000000e-01 : f32
  %x = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %s = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %y = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %w = lane.alloc : !lane.buffer<4x1x16xbf16, vram, col_pack>
  %k = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %m = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
  %t = lane.alloc : !lane.buffer<64xf32, fpram, flat>
  lane.copy %X[0, lanes %h0, 0] to %x : !tile.tensor<64x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.copy %X[0, lanes %h0, 0] to %k : !tile.tensor<64x8x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
  lane.btmm %s = %x * %k : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  lane.for_lanes %l = 4 {
    lane.row_max %m, %s lane %l : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
    lane.fp_mul %m, %m, %half lane %l : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64xf32, fpram, fp_lane>, f32
  }
  lane.copy %X[0, lanes %h0, 0] to %y : !tile.tensor<64x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.copy %W to %w : !tile.tensor<16xf32> to !lane.buffer<4x1x16xbf16, vram, col_pack>
  lane.fill %t, %eps : !lane.buffer<64xf32, fpram, flat>, f32
  lane.mul %y, %y, %w : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x1x16xbf16, vram, col_pack>
  lane.copy %y to %Y[0, lanes %h0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<64x8x16xf32>
}

// CHECK:      attributes {fpram_arguments = {eps = 32 : i64}, hbm_addresses = {X = 0 : i64, W = 9216 : i64, Y = 9472 : i64}}
// CHECK:      %x = lane.alloc {address = 0 : i64} : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT: %s = lane.alloc {address = 4096 : i64} : !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT: %y = lane.alloc {address = 0 : i64} : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT: %w = lane.alloc {address = 4096 : i64} : !lane.buffer<4x1x16xbf16, vram, col_pack>
// CHECK-NEXT: %k = lane.alloc {address = 0 : i64} : !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT: %m = lane.alloc {address = 33 : i64} : !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK-NEXT: %t = lane.alloc {address = 33 : i64} : !lane.buffer<64xf32, fpram, flat>
// CHECK:      lane.copy %W to %w {fpram_scratch = 33 : i64} : !tile.tensor<16xf32> to !lane.buffer<4x1x16xbf16, vram, col_pack>

// TOOBIG: lane.alloc %s (!lane.buffer<4x64x64xbf16, vram, row_stack>) does not fit in VRAM: it needs 256 VRAM rows; 84 VRAM rows are available (VRAM has 131072 rows, the top 16 are the lowering's staging rows, vram-base=8382208), 64 of them taken by buffers live at the same time (lane.alloc %x (!lane.buffer<4x64x16xbf16, vram, col_pack>))
