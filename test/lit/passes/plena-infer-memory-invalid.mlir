// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-infer-memory | filecheck %s

// A buffer that is a gemm B operand (mram) and a vector operand (vram) needs two copies.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %b : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>
  tile.exp %b, %b : !tile.buffer<64x64xbf16, ?>
}

// CHECK: tile.alloc %b (64x64xbf16, ?): the buffer is operand b of tile.gemm (needs mram) and an operand of tile.exp (needs vram); MRAM is written only from HBM, so allocate two buffers and copy the data from HBM into each

// -----

// ... also when the other use is the A operand of the same gemm.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
  %b = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %b : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.gemm %c[m, n] = %b[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>
}

// CHECK: tile.alloc %b (64x64xbf16, ?): the buffer is operand b of tile.gemm (needs mram) and operand a of tile.gemm (needs vram)

// -----

// A buffer read but written by no op: on-chip memory holds what an earlier kernel left.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %acc = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.add %t, %t, %acc : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>
  tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}

// CHECK: tile.alloc %acc (64x64xbf16, vram) is read by tile.add #1 of @k, but no op writes it: on-chip memory holds what an earlier kernel left there
