// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-expand-lanes | filecheck %s

// Heads of 16 columns must share MLEN-wide rows (4 lanes of HLEN = 16 on plena-tvm): lane
// expansion, which is not implemented yet.

tile.kernel @rmsnorm grid(%block = 1, %head = 4 lane) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
  %c16 = arith.constant 16 : index
  %col0 = arith.muli %head, %c16 : index
  %wide = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %x[0, %col0] to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %t to %y[0, %col0] : !tile.buffer<64x16xbf16, vram> to !tile.tensor<64x64xf32>
}

// CHECK: plena-expand-lanes: tile.kernel @rmsnorm has the lane axis %head and the buffer %t (64x16xbf16, vram) is narrower than MLEN = 64 columns: packing 4 heads into the lanes of a row (lane expansion) is not implemented yet
