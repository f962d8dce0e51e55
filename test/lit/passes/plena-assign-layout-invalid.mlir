// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-assign-layout | filecheck %s

// A buffer whose memory space is still `?`: plena-infer-memory decides it first.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
  %s = tile.alloc : !tile.buffer<64x64xbf16, ?>
  tile.copy %x to %s : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, ?>
}

// CHECK: tile.alloc %s (64x64xbf16, ?): the memory space is not known: run plena-infer-memory first

// -----

// MRAM holds whole MLEN x MLEN tiles only.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x16xf32>) {
  %w = tile.alloc : !tile.buffer<64x16xbf16, mram>
  tile.copy %x to %w : !tile.tensor<64x16xf32> to !tile.buffer<64x16xbf16, mram>
}

// CHECK: tile.alloc %w (64x16xbf16, mram): an mram buffer must be whole 64x64 tiles (H_PREFETCH_M loads one tile), got 64x16

// -----

// A layout recorded in the IR that is not the one the buffer has: a 64x192 VRAM buffer is
// three column blocks, not one.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x192xf32>) {
  %s = tile.alloc {layout = #tile.tiled<blocks = 1, rows = 64, width = 64>} : !tile.buffer<64x192xbf16, vram>
  tile.copy %x to %s : !tile.tensor<64x192xf32> to !tile.buffer<64x192xbf16, vram>
}

// CHECK: tile.alloc %s (64x192xbf16, vram) needs two layouts: #tile.tiled<blocks = 1, rows = 64, width = 64> (recorded in the IR) and #tile.tiled<blocks = 3, rows = 64, width = 64> (the layout of its memory space on plena-tvm)

// -----

// ... nor an MRAM layout on a VRAM buffer.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
  %s = tile.alloc {layout = #tile.mram_tiles<row_tiles = 1, col_tiles = 1, tile = 64>} : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %s : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.alloc %s (64x64xbf16, vram) needs two layouts: #tile.mram_tiles<row_tiles = 1, col_tiles = 1, tile = 64> (recorded in the IR) and #tile.tiled<blocks = 1, rows = 64, width = 64> (the layout of its memory space on plena-tvm)

// -----

// An HBM layout recorded in the IR that its uses contradict: %x is only read whole.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) attributes {hbm_layouts = {x = #tile.bshd<heads = 4, head_dim = 16>}} {
  %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %s : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tensor %x of @k needs two layouts: #tile.bshd<heads = 4, head_dim = 16> (recorded in the IR) and #tile.row_major (what its uses need)

// -----

// hbm_layouts may only name tensor arguments.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %eps : f32) attributes {hbm_layouts = {eps = #tile.row_major}} {
  %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %s : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.kernel @k: hbm_layouts names 'eps', which is not a tensor argument

// -----

// One tensor sliced per head at two widths would need two head layouts.

tile.kernel @k grid(%h = 2 lane) args(%x : !tile.tensor<64x64xf32>) {
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %col16 = arith.muli %h, %c16 : index
  %col32 = arith.muli %h, %c32 : index
  %narrow = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %wide = tile.alloc : !tile.buffer<64x32xbf16, vram>
  tile.copy %x[0, %col16] to %narrow : !tile.tensor<64x64xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %x[0, %col32] to %wide : !tile.tensor<64x64xf32> to !tile.buffer<64x32xbf16, vram>
}

// CHECK: tensor %x of @k needs two layouts: #tile.bshd<heads = 4, head_dim = 16> (tile.copy #1 of @k slices it per head: 16 columns at %h * 16) and #tile.bshd<heads = 2, head_dim = 32> (tile.copy #2 of @k slices it per head: 32 columns at %h * 32)

// -----

// A rank-4 BSHD tensor whose head dimension D a copy slices per head.

tile.kernel @k grid(%h = 4 lane) args(%q : !tile.tensor<1x64x2x64xf32>) {
  %c16 = arith.constant 16 : index
  %col = arith.muli %h, %c16 : index
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %q[0, 0, 0, %col] sizes [1, 64, 1, 16] to %t : !tile.tensor<1x64x2x64xf32> to !tile.buffer<64x16xbf16, vram>
}

// CHECK: tensor %q of @k needs two layouts: #tile.bshd<heads = 2, head_dim = 64> (it is a rank-4 [B, S, H, D]) and heads of 16 columns inside its head dimension D (tile.copy #1 of @k slices it per head: 16 columns at %h * 16)

// -----

// Heads of 16 columns must tile the 72 columns of the tensor.

tile.kernel @k grid(%h = 4 lane) args(%x : !tile.tensor<64x72xf32>) {
  %c16 = arith.constant 16 : index
  %col = arith.muli %h, %c16 : index
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %x[0, %col] to %t : !tile.tensor<64x72xf32> to !tile.buffer<64x16xbf16, vram>
}

// CHECK: tensor %x of @k: tile.copy #1 of @k slices it per head: 16 columns at %h * 16, but its 72 columns are not a whole number of heads of 16

// -----

// Layout parameters are positive.

tile.kernel @k grid(%i = 1) args() {
  %s = tile.alloc {layout = #tile.tiled<blocks = 0, rows = 64, width = 64>} : !tile.buffer<64x64xbf16, vram>
}

// CHECK: #tile.tiled: blocks must be positive, got 0
