// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-infer-memory | filecheck %s

// A load whose HBM row offset depends on the grid index runs past the tensor at the last block.

tile.kernel @k grid(%block = 4) args(%x : !tile.tensor<128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  tile.copy %x[%row0, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.copy %x[%row0, 0] -> %t: rows 192..255 of %x (128 rows) are out of bounds when %block = 3 (grid block = 4)

// -----

// A load inside an scf.for past the end of the columns, named by the grid point and the loop
// index that reach it (an unnamed offset is shown as its arithmetic).

tile.kernel @k grid(%block = 2) args(%x : !tile.tensor<128x256xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c64 = arith.constant 64 : index
  %0 = arith.muli %block, %c64 : index
  scf.for %j = %c0 to %c5 step %c1 {
    %1 = arith.muli %j, %c64 : index
    tile.copy %x[%0, %1] to %t : !tile.tensor<128x256xf32> to !tile.buffer<64x64xbf16, vram>
    tile.exp %t, %t : !tile.buffer<64x64xbf16, vram>
  }
}

// CHECK: tile.copy %x[(%block * 64), (%j * 64)] -> %t: columns 256..319 of %x (256 columns) are out of bounds when %j = 4 (scf.for %j = 0 to 5 step 1)

// -----

// A store to an output past its end: the loop walks rows 0, 32, ..., 96 with a 64-row tile.

tile.kernel @k grid(%i = 1) args(%y : !tile.tensor<128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  tile.fill %t, %zero : !tile.buffer<64x64xbf16, vram>, f32
  scf.for %r = %c0 to %c128 step %c32 {
    tile.copy %t to %y[%r, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
  }
}

// CHECK: tile.copy %t -> %y[%r, 0]: rows 96..159 of %y (128 rows) are out of bounds when %r = 96 (scf.for %r = 0 to 128 step 32)

// -----

// A negative offset: a subi that goes below row 0 at the first block.

tile.kernel @k grid(%block = 2) args(%x : !tile.tensor<128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c64 = arith.constant 64 : index
  %base = arith.muli %block, %c64 : index
  %prev = arith.subi %base, %c64 : index
  tile.copy %x[%prev, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.copy %x[%prev, 0] -> %t: rows -64..-1 of %x (128 rows) are out of bounds when %block = 0 (grid block = 2)

// -----

// An on-chip buffer sliced with an SSA offset: the panel has 128 columns, the loop writes 3
// 64-column tiles into it.

tile.kernel @k grid(%i = 1) args(%a : !tile.tensor<64x192xf32>) {
  %panel = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c192 = arith.constant 192 : index
  scf.for %k = %c0 to %c192 step %c64 {
    tile.copy %a[0, %k] sizes [64, 64] to %panel[0, %k] : !tile.tensor<64x192xf32> to !tile.buffer<64x128xbf16, vram>
  }
}

// CHECK: tile.copy %a[0, %k] -> %panel[0, %k]: columns 128..191 of %panel (128 columns) are out of bounds when %k = 128 (scf.for %k = 0 to 192 step 64)

// -----

// A carried row offset advanced by 64 each trip: exact, so the third trip is out of bounds.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  %end = scf.for %n = %c0 to %c3 step %c1 iter_args(%row = %c0) -> (index) {
    tile.copy %x[%row, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
    %next = arith.addi %row, %c64 : index
    scf.yield %next : index
  }
}

// CHECK: tile.copy %x[%row, 0] -> %t: rows 128..191 of %x (128 rows) are out of bounds when %n = 2 (scf.for %n = 0 to 3 step 1)

// -----

// A dimension of a rank-3 tensor has no name: it is called by its number.

tile.kernel @k grid(%h = 3) args(%q : !tile.tensor<2x128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c64 = arith.constant 64 : index
  tile.copy %q[%h, %c64, 0] sizes [1, 64, 64] to %t : !tile.tensor<2x128x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.copy %q[%h, 64, 0] -> %t: index 2 of dimension 0 of %q (size 2) is out of bounds when %h = 2 (grid h = 3)

// -----

// An FPRAM element index past the end of its buffer.

tile.kernel @k grid(%i = 1) args(%eps : f32) {
  %s = tile.alloc : !tile.buffer<64xf32, fpram>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c65 = arith.constant 65 : index
  scf.for %e = %c0 to %c65 step %c1 {
    tile.fp_add %s[%e], %s[%e], %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  }
}

// CHECK: tile.fp_add %s[%e]: entry 64 of %s (64 entries) is out of bounds when %e = 64 (scf.for %e = 0 to 65 step 1)

// -----

// An offset the analysis cannot bound is an error too: the hardware checks no address.

tile.kernel @k grid(%block = 4) args(%x : !tile.tensor<128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c2 = arith.constant 2 : index
  %half = arith.divui %block, %c2 : index
  tile.copy %x[%half, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.copy %x[%half, 0] -> %t: the offset %half into dimension 0 of %x cannot be bounded: it depends on arith.divui, which is not index arithmetic the analysis knows (only arith.constant, addi, subi, muli, and remui / remsi by a positive constant (remsi of a non-negative value) of grid indices and of scf.for indices with constant bounds are bounded); the hardware does not check addresses

// -----

// A loop that runs no iteration never copies: no error here; the next copy is in bounds.

tile.kernel @k grid(%block = 2) args(%x : !tile.tensor<128x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c512 = arith.constant 512 : index
  scf.for %n = %c0 to %c0 step %c1 {
    tile.copy %x[%c512, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
  }
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %block, %c64 : index
  tile.copy %x[%row0, 0] to %t : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}

// CHECK: tile.kernel @k
// CHECK-NOT: out of bounds
