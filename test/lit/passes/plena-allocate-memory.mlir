// RUN: plena-opt %s --split-input-file -p plena-allocate-memory | filecheck %s
// RUN: plena-opt %s --split-input-file -p 'plena-allocate-memory{vram-base=8192 fpram-constant-slots=4}' | filecheck %s --check-prefix=BASE

// Reuse by liveness: %t is dead once %u is written from it, so %v takes its rows, and %row
// (written after the last read of %u) takes %u's.  VRAM addresses are elements on whole rows
// (a 64 x 64 buffer is 64 rows = 4096 elements).  HBM tensors are back to back with MX-packed
// footprints: 128x64 is 8192 element bytes + 1024 scale bytes; 64 elements are one 128-byte
// element row + one 128-byte scale row.  The f32 constant gets a slot in the FPRAM constant
// pool at the bottom of FPRAM, the f32 scalar argument an entry above it.

tile.kernel @reuse grid(%block = 2) args(%x : !tile.tensor<128x64xf32>, %bias : !tile.tensor<64xf32>, %y : !tile.tensor<128x64xf32>, %eps : f32) {
  %c64 = arith.constant 64 : index
  %half = arith.constant 5.000000e-01 : f32
  %row0 = arith.muli %block, %c64 : index
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %u = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %row = tile.alloc : !tile.buffer<1x64xbf16, vram>
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x[%row0, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.exp %u, %t : !tile.buffer<64x64xbf16, vram>
  tile.exp %v, %u : !tile.buffer<64x64xbf16, vram>
  tile.copy %bias to %row : !tile.tensor<64xf32> to !tile.buffer<1x64xbf16, vram>
  tile.add %v, %v, %row : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<1x64xbf16, vram>
  tile.reduce_sum %m, %v : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.fp_add %m, %m, %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.mul_scalar %v, %v, %half : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
  tile.mul_scalar %v, %v, %m : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %v to %y[%row0, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
}

// CHECK:      builtin.module attributes {plena.fpram_pool = {slots = 32 : i64, constants = [5.000000e-01 : f32]}}
// CHECK:      tile.kernel @reuse
// CHECK-SAME: attributes {fpram_arguments = {eps = 32 : i64}, hbm_addresses = {x = 0 : i64, bias = 9216 : i64, y = 9472 : i64}}
// CHECK:      %t = tile.alloc {address = 0 : i64} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %u = tile.alloc {address = 4096 : i64} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %row = tile.alloc {address = 4096 : i64} : !tile.buffer<1x64xbf16, vram>
// CHECK-NEXT: %v = tile.alloc {address = 0 : i64} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %m = tile.alloc {address = 33 : i64} : !tile.buffer<64xf32, fpram>

// BASE:      plena.fpram_pool = {slots = 4 : i64, constants = [5.000000e-01 : f32]}
// BASE:      fpram_arguments = {eps = 4 : i64}
// BASE:      %t = tile.alloc {address = 8192 : i64}
// BASE-NEXT: %u = tile.alloc {address = 12288 : i64}
// BASE-NEXT: %row = tile.alloc {address = 12288 : i64}
// BASE-NEXT: %v = tile.alloc {address = 8192 : i64}
// BASE-NEXT: %m = tile.alloc {address = 5 : i64}

// -----

// A buffer used inside a loop is live over the whole loop: %acc (allocated before the loop)
// and %tmp (only used in the loop) never share, but %late (used after the loop) reuses %tmp's
// rows.  %fresh is allocated in the body, a new buffer per iteration, live from its write to
// its read only: it takes rows of %a, which is dead before the loop.  A 64 x 128 VRAM buffer
// is two column blocks of 64 rows (8192 elements).

tile.kernel @loop grid(%i = 1) args(%x : !tile.tensor<64x128xf32>, %w : !tile.tensor<64x128xf32>, %y : !tile.tensor<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  %a = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x128xbf16, mram>
  %acc = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %tmp = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %late = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %a : !tile.tensor<64x128xf32> to !tile.buffer<64x128xbf16, vram>
  tile.copy %w to %b : !tile.tensor<64x128xf32> to !tile.buffer<64x128xbf16, mram>
  tile.gemm %acc[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<64x128xbf16, mram>
  scf.for %j = %c0 to %c2 step %c1 {
    %fresh = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.exp %fresh, %acc : !tile.buffer<64x64xbf16, vram>
    tile.exp %tmp, %fresh : !tile.buffer<64x64xbf16, vram>
    tile.add %acc, %acc, %tmp : !tile.buffer<64x64xbf16, vram>
  }
  tile.exp %late, %acc : !tile.buffer<64x64xbf16, vram>
  tile.copy %late to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}

// CHECK:      tile.kernel @loop
// CHECK-SAME: attributes {fpram_arguments = {}, hbm_addresses = {x = 0 : i64, w = 9216 : i64, y = 18432 : i64}}
// CHECK:      %a = tile.alloc {address = 0 : i64} : !tile.buffer<64x128xbf16, vram>
// CHECK-NEXT: %b = tile.alloc {address = 0 : i64} : !tile.buffer<64x128xbf16, mram>
// CHECK-NEXT: %acc = tile.alloc {address = 8192 : i64} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %tmp = tile.alloc {address = 0 : i64} : !tile.buffer<64x64xbf16, vram>
// CHECK-NEXT: %late = tile.alloc {address = 0 : i64} : !tile.buffer<64x64xbf16, vram>
// CHECK:      %fresh = tile.alloc {address = 4096 : i64} : !tile.buffer<64x64xbf16, vram>
