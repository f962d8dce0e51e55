// RUN: plena-opt %s --split-input-file -p plena-infer-memory,plena-assign-layout | filecheck %s
// RUN: plena-opt %s --split-input-file -p plena-infer-memory,plena-assign-layout,plena-assign-layout | filecheck %s

// Flat: row-major HBM tensors; a VRAM buffer of at most VLEN columns is one column block of
// its rows rounded up to BLEN (a 1-row bias takes 2 rows); an MRAM buffer is whole tiles;
// an FPRAM buffer one entry per element.  A second run keeps the layouts it finds.

tile.kernel @linear grid(%block = 2) args(%a : !tile.tensor<128x128xf32>, %b : !tile.tensor<64x128xf32>, %bias : !tile.tensor<1x64xf32>, %c : !tile.tensor<128x64xf32>) {
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %a_tile = tile.alloc : !tile.buffer<64x128xbf16, ?>
  %b_tile = tile.alloc : !tile.buffer<64x128xbf16, ?>
  %acc = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %bias_row = tile.alloc : !tile.buffer<1x64xbf16, vram>
  %row_max = tile.alloc : !tile.buffer<64xf32, ?>
  tile.copy %a[%row0, 0] to %a_tile : !tile.tensor<128x128xf32> to !tile.buffer<64x128xbf16, ?>
  tile.copy %b to %b_tile : !tile.tensor<64x128xf32> to !tile.buffer<64x128xbf16, ?>
  tile.copy %bias to %bias_row : !tile.tensor<1x64xf32> to !tile.buffer<1x64xbf16, vram>
  tile.gemm %acc[m, n] = %a_tile[m, k] * %b_tile[n, k] : !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x128xbf16, ?>, !tile.buffer<64x128xbf16, ?>
  tile.add %acc, %acc, %bias_row : !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<1x64xbf16, vram>
  tile.reduce_max %row_max, %acc : !tile.buffer<64xf32, ?>, !tile.buffer<64x64xbf16, ?>
  tile.copy %acc to %c[%row0, 0] : !tile.buffer<64x64xbf16, ?> to !tile.tensor<128x64xf32>
}

// CHECK:      tile.kernel @linear grid(%block = 2) args({{.*}}) attributes {hbm_layouts = {a = #tile.row_major, b = #tile.row_major, bias = #tile.row_major, c = #tile.row_major}} {
// CHECK:      %a_tile = tile.alloc {layout = #tile.tiled<blocks = 2, rows = 64, width = 64>} : !tile.buffer<64x128xbf16, vram>
// CHECK-NEXT: %b_tile = tile.alloc {layout = #tile.mram_tiles<row_tiles = 1, col_tiles = 2, tile = 64>} : !tile.buffer<64x128xbf16, mram>
// CHECK-NEXT: %acc = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %bias_row = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 2, width = 64>} : !tile.buffer<1x64xbf16, vram>
// CHECK-NEXT: %row_max = tile.alloc {layout = #tile.fpram_entries<entries = 64>} : !tile.buffer<64xf32, fpram>

// -----

// BSHD: a rank-4 tensor is [B, S, H, D]; a rank-2 tensor whose columns a copy slices per head
// (offset = lane index * 16, 16 columns wide) holds 4 heads of 16 merged into its rows.  A
// tensor read whole (%w) stays row-major.

tile.kernel @heads grid(%block = 2, %head = 4 lane) args(%q : !tile.tensor<1x128x4x64xf32>, %x : !tile.tensor<128x64xf32>, %w : !tile.tensor<16xf32>, %o : !tile.tensor<1x128x4x64xf32>) {
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %col0 = arith.muli %head, %c16 : index
  %q_tile = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %x_tile = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %weight = tile.alloc : !tile.buffer<1x16xbf16, vram>
  tile.copy %q[0, %row0, %head, 0] sizes [1, 64, 1, 64] to %q_tile : !tile.tensor<1x128x4x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.copy %x[%row0, %col0] to %x_tile : !tile.tensor<128x64xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %w[0] to %weight : !tile.tensor<16xf32> to !tile.buffer<1x16xbf16, vram>
  tile.copy %q_tile to %o[0, %row0, %head, 0] sizes [1, 64, 1, 64] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<1x128x4x64xf32>
}

// CHECK:      tile.kernel @heads grid(%block = 2, %head = 4 lane) args({{.*}}) attributes {hbm_layouts = {q = #tile.bshd<heads = 4, head_dim = 64>, x = #tile.bshd<heads = 4, head_dim = 16>, w = #tile.row_major, o = #tile.bshd<heads = 4, head_dim = 64>}} {
// CHECK:      %q_tile = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %x_tile = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !tile.buffer<64x16xbf16, vram>
// CHECK-NEXT: %weight = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 2, width = 64>} : !tile.buffer<1x16xbf16, vram>

// -----

// A wide tensor: a 64x192 tile is the MLEN-tile layout with three column tiles of 64 rows x
// VLEN columns (element (i, j) at (j div 64) * 64 * 64 + i * 64 + j mod 64).

tile.kernel @softmax grid(%block = 2) args(%x : !tile.tensor<128x192xf32>, %y : !tile.tensor<128x192xf32>) {
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  %s = tile.alloc : !tile.buffer<64x192xbf16, vram>
  %row_max = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x[%row0, 0] to %s : !tile.tensor<128x192xf32> to !tile.buffer<64x192xbf16, vram>
  tile.reduce_max %row_max, %s : !tile.buffer<64xf32, fpram>, !tile.buffer<64x192xbf16, vram>
  tile.sub_scalar %s, %s, %row_max : !tile.buffer<64x192xbf16, vram>, !tile.buffer<64x192xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %s to %y[%row0, 0] : !tile.buffer<64x192xbf16, vram> to !tile.tensor<128x192xf32>
}

// CHECK:      tile.kernel @softmax grid(%block = 2) args({{.*}}) attributes {hbm_layouts = {x = #tile.row_major, y = #tile.row_major}} {
// CHECK:      %s = tile.alloc {layout = #tile.tiled<blocks = 3, rows = 64, width = 64>} : !tile.buffer<64x192xbf16, vram>
// CHECK-NEXT: %row_max = tile.alloc {layout = #tile.fpram_entries<entries = 64>} : !tile.buffer<64xf32, fpram>
