// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-allocate-memory | filecheck %s
// RUN: plena-opt %s --split-input-file --verify-diagnostics -p 'plena-allocate-memory{vram-base=100}' | filecheck %s --check-prefix=OPTION

// VRAM overflow (a target with 144 VRAM rows, the top 16 the lowering's staging rows): two
// 64-row buffers live at once fill the other 128.

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {vram_rows = 144}>} {
  tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
    %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
    %b = tile.alloc : !tile.buffer<64x64xbf16, vram>
    %c = tile.alloc : !tile.buffer<2x64xbf16, vram>
    tile.copy %x to %a : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.exp %b, %a : !tile.buffer<64x64xbf16, vram>
    tile.copy %b[0, 0] to %c : !tile.buffer<64x64xbf16, vram> to !tile.buffer<2x64xbf16, vram>
    tile.copy %c to %a[0, 0] : !tile.buffer<2x64xbf16, vram> to !tile.buffer<64x64xbf16, vram>
  }
}

// CHECK: tile.alloc %c (2x64xbf16, vram) does not fit in VRAM: it needs 2 VRAM rows; 128 VRAM rows are available (VRAM has 144 rows, the top 16 are the lowering's staging rows, vram-base=0), 128 of them taken by buffers live at the same time (tile.alloc %a (64x64xbf16, vram), tile.alloc %b (64x64xbf16, vram))
// OPTION: plena-allocate-memory: vram-base=100 must be a non-negative multiple of 64 below the 9216 elements of VRAM

// -----

// One buffer larger than MRAM (a target with 4 tiles).

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {mram_rows = 256}>} {
  tile.kernel @k grid(%i = 1) args(%w : !tile.tensor<128x192xf32>) {
    %b = tile.alloc : !tile.buffer<128x192xbf16, mram>
    tile.copy %w to %b : !tile.tensor<128x192xf32> to !tile.buffer<128x192xbf16, mram>
  }
}

// CHECK: tile.alloc %b (128x192xbf16, mram) does not fit in MRAM: it needs 6 MRAM tiles; 4 MRAM tiles are available (MRAM has 4 tiles, mram-base=0), 0 of them taken by buffers live at the same time (none)

// -----

// FPRAM overflow: the 32 pool slots and the 256-entry spill window leave 64 of 352 entries,
// and the scalar argument %eps takes one.

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {fpram_entries = 352}>} {
  tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %eps : f32) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    %m = tile.alloc : !tile.buffer<64xf32, fpram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.reduce_sum %m, %t : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
    tile.fp_add %m, %m, %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  }
}

// CHECK: tile.alloc %m (64xf32, fpram) does not fit in FPRAM: it needs 64 FPRAM entries; 64 FPRAM entries are available (FPRAM has 352 entries, fpram-constant-slots=32, fpram-reserved-top=256), 1 of them taken by buffers live at the same time (scalar argument %eps of @k)

// -----

// An MRAM buffer must be whole 64x64 tiles.

tile.kernel @k grid(%i = 1) args(%w : !tile.tensor<64x32xf32>) {
  %b = tile.alloc : !tile.buffer<64x32xbf16, mram>
  tile.copy %w to %b : !tile.tensor<64x32xf32> to !tile.buffer<64x32xbf16, mram>
}

// CHECK: tile.alloc %b (64x32xbf16, mram): an mram buffer must be whole 64x64 tiles (H_PREFETCH_M loads one tile), got 64x32

// -----

// Memory spaces must be known.

tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
  %t = tile.alloc : !tile.buffer<64x64xbf16, ?>
  tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, ?>
}

// CHECK: tile.alloc %t (64x64xbf16, ?): the memory space is not known: run plena-infer-memory first

// -----

// The address attribute the pass sets is checked by tile.alloc's verifier.

%b = tile.alloc {address = 100 : i64} : !tile.buffer<64x64xbf16, vram>

// CHECK: tile.alloc: vram address 100 is not a multiple of VLEN = 64

// -----

%b = tile.alloc {address = 2048 : i64} : !tile.buffer<64x64xbf16, mram>

// CHECK: tile.alloc: mram address 2048 is not a multiple of MLEN^2 (one tile) = 4096

// -----

%b = tile.alloc {address = 0 : i64} : !tile.buffer<64x64xbf16, ?>

// CHECK: tile.alloc: a buffer with an address must have a memory space, got ?
