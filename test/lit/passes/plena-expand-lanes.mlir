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
