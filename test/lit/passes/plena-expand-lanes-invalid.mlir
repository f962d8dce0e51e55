// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-expand-lanes | filecheck %s

// 6 heads cannot be packed into groups of 4 lanes (MLEN/HLEN = 64/16).

tile.kernel @scores grid(%head = 6 lane) args(%Q : !tile.tensor<1x64x6x16xf32>) {
  %q = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %Q[0, 0, %head, 0] sizes [1, 64, 1, 16] to %q : !tile.tensor<1x64x6x16xf32> to !tile.buffer<64x16xbf16, vram>
}

// CHECK: plena-expand-lanes: tile.kernel @scores: the lane axis %head has 6 heads, not a multiple of the 4 lanes (MLEN/HLEN = 64/16 on target 'plena-tvm') that share a row

// -----

// The head index as a column offset into a 2-D tensor: the tensor needs a head dimension.

tile.kernel @rmsnorm grid(%block = 1, %head = 4 lane) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
  %c16 = arith.constant 16 : index
  %col0 = arith.muli %head, %c16 : index
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %x[0, %col0] to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %t to %y[0, %col0] : !tile.buffer<64x16xbf16, vram> to !tile.tensor<64x64xf32>
}

// CHECK: plena-expand-lanes: tile.copy #1 of @rmsnorm: the head index %head is used in dimension 1 of the HBM src (64x64), which is not a head dimension: declare the tensor with a head dimension, [S, H, D] or [B, S, H, D] (the same bytes), and select the head there

// -----

// A per-head buffer 32 columns wide: a lane is HLEN = 16 (col_pack) or MLEN = 64 (row_stack).

tile.kernel @wide grid(%head = 8 lane) args(%x : !tile.tensor<1x64x8x32xf32>) {
  %n = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %t = tile.alloc : !tile.buffer<64x32xbf16, vram>
  tile.copy %x[0, 0, %head, 0] sizes [1, 64, 1, 32] to %t : !tile.tensor<1x64x8x32xf32> to !tile.buffer<64x32xbf16, vram>
}

// CHECK: plena-expand-lanes: the buffer %t (64x32xbf16, vram) cannot be lane-packed: it holds one head per lane (loaded from HBM through the head index by tile.copy #1 of @wide), and a lane of a vram buffer is HLEN = 16 columns (col_pack) or MLEN = 64 (row_stack) wide, not 32

// -----

// A lane-independent 64x64 tile (flat) added to the per-head scores (row_stack): one unmasked
// instruction cannot read both, so the producer and the consumer disagree.

tile.kernel @masked grid(%head = 8 lane) args(%Q : !tile.tensor<1x64x8x16xf32>, %K : !tile.tensor<1x64x8x16xf32>, %M : !tile.tensor<64x64xf32>) {
  %q = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %k = tile.alloc : !tile.buffer<64x16xbf16, mram>
  %s = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %mask = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %Q[0, 0, %head, 0] sizes [1, 64, 1, 16] to %q : !tile.tensor<1x64x8x16xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %K[0, 0, %head, 0] sizes [1, 64, 1, 16] to %k : !tile.tensor<1x64x8x16xf32> to !tile.buffer<64x16xbf16, mram>
  tile.copy %M to %mask : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.gemm %s[m, n] = %q[m, k] * %k[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, mram>
  tile.add %s, %s, %mask : !tile.buffer<64x64xbf16, vram>
}

// CHECK: plena-expand-lanes: tile.add #1 of @masked: layout conflict: an element-wise op reads and writes the same positions of every operand, but %s (64x64xbf16, vram) is row_stack (written by tile.gemm #1 of @masked from the lane-dependent %q (64x16xbf16, vram)) and %mask (64x64xbf16, vram) is flat (it is lane-independent: the same for every head)

// -----

// The head index in a loop bound: the lanes of a group run as one program.

tile.kernel @bound grid(%head = 8 lane) args(%x : !tile.tensor<1x64x8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %x[0, 0, %head, 0] sizes [1, 64, 1, 16] to %t : !tile.tensor<1x64x8x16xf32> to !tile.buffer<64x16xbf16, vram>
  scf.for %i = %c0 to %head step %c1 {
    tile.exp %t, %t : !tile.buffer<64x16xbf16, vram>
  }
}

// CHECK: plena-expand-lanes: scf.for #1 of @bound uses the head index %head of tile.kernel @bound: the head index may only select the head of an HBM copy (its head dimension), since the lanes of a group run as one program

// -----

// GQA with `%head % 2`: two consecutive heads would share a kv head, so a group of 4 lanes
// does not load 4 consecutive kv heads.

tile.kernel @gqa grid(%head = 8 lane) args(%K : !tile.tensor<1x64x2x16xf32>) {
  %c2 = arith.constant 2 : index
  %kvh = arith.remsi %head, %c2 : index
  %k = tile.alloc : !tile.buffer<64x16xbf16, mram>
  tile.copy %K[0, 0, %kvh, 0] sizes [1, 64, 1, 16] to %k : !tile.tensor<1x64x2x16xf32> to !tile.buffer<64x16xbf16, mram>
}

// CHECK: plena-expand-lanes: tile.copy #1 of @gqa: a GQA head `%h % c` needs a constant c that is a multiple of the 4 lanes (so the heads of a lane group stay consecutive)
