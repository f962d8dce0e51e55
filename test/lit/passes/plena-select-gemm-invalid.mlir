// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-select-gemm | filecheck %s

// A stored K x M (transposed A): the matrix unit reads A only row by row.

tile.kernel @k grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[k, m] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}

// CHECK: plena-select-gemm: tile.gemm (km,nk->mn; c, a, b: 64x64xbf16 vram, 64x64xbf16 vram, 64x64xbf16 mram): A has roles [k, m]: the matrix unit reads A row by row as [m, k] (M_TMM_A runs as M_MM on plena-tvm, so no instruction reads A transposed)

// -----

// C written transposed.

tile.kernel @k grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[n, m] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}

// CHECK: C has roles [n, m]: every write-out writes C as [m, n]

// -----

// B whose space was never inferred.

tile.kernel @k grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>
}

// CHECK: b has no memory space yet: run plena-infer-memory first

// -----

// B is MRAM but not whole 64 x 64 tiles.

tile.kernel @k grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x32xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x32xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x32xbf16, vram>, !tile.buffer<64x32xbf16, mram>
}

// CHECK: B (32 x 64 as K x N) must be whole 64x64 MRAM tiles

// -----

// A form that does not compute the product (M_TMM reads B as N x K; here B is K x N).

tile.kernel @k grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] {plena.gemm = {form = "M_TMM"}} : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}

// CHECK: M_TMM does not compute it (forms that do: M_BMM+lane-sum, M_MM)

// -----

// An unknown form.

tile.kernel @k grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] {plena.gemm = {form = "M_FAST"}} : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}

// CHECK: plena.gemm names an unknown form
