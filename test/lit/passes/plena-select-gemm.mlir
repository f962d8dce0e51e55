// RUN: plena-opt %s --split-input-file -p plena-select-gemm | filecheck %s

// C = A·Bᵀ over whole 64 x 64 tiles: one M_BTMM per K tile contracts all four lanes at
// once, and the lane sum (3 vector adds per row) is far cheaper than 64 M_TMM cycles per
// 2 x 2 block.  The lanes' partial products need a 256-row VRAM scratch (L = 4 slabs of 64
// rows), allocated just before the gemm.

tile.kernel @bt grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<128x128xbf16, vram>
  %b = tile.alloc : !tile.buffer<128x128xbf16, mram>
  %c = tile.alloc : !tile.buffer<128x128xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<128x128xbf16, vram>, !tile.buffer<128x128xbf16, vram>, !tile.buffer<128x128xbf16, mram>
}

// CHECK-LABEL: tile.kernel @bt
// CHECK:         %gemm_scratch = tile.alloc : !tile.buffer<256x64xbf16, vram>
// CHECK-NEXT:    tile.gemm %c[m, n] = %a[m, k] * %b[n, k] scratch %gemm_scratch {plena.gemm = {form = "M_BTMM+lane-sum", cycles = 2588 : i64, reason = "M_BTMM+lane-sum (8 M_BTMM + 4 write-outs + 768 lane adds): ~2588 cycles; M_BTMV+lane-sum ({{.*}}): ~{{[0-9]+}} cycles; M_TMM (8192 M_TMM + 4096 write-outs): ~552960 cycles"}} : !tile.buffer<128x128xbf16, vram>, !tile.buffer<128x128xbf16, vram>, !tile.buffer<128x128xbf16, mram>, !tile.buffer<256x64xbf16, vram>


// -----

// C = A·B (B stored K x N): the lane-paired M_BMM, each lane contracting its 16 rows of the
// tile.

tile.kernel @ab grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %b = tile.alloc : !tile.buffer<128x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<128x64xbf16, mram>
}

// CHECK-LABEL: tile.kernel @ab
// CHECK:         tile.gemm %c[m, n] = %a[m, k] * %b[k, n] scratch %gemm_scratch {plena.gemm = {form = "M_BMM+lane-sum", {{.*}} reason = "M_BMM+lane-sum (2 M_BMM + 1 write-outs + 192 lane adds): ~{{[0-9]+}} cycles; M_MM (2048 M_MM + 1024 write-outs): ~{{[0-9]+}} cycles"}}

// -----

// A few rows (a decode step): M_BTMV contracts one row in one cycle, so 4 rows x 2 K tiles
// of M_BTMV (+ a 4-row scratch for M_BMV_WO) beat reading 64 rows with M_BTMM.

tile.kernel @decode grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<4x128xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x128xbf16, mram>
  %c = tile.alloc : !tile.buffer<4x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<4x64xbf16, vram>, !tile.buffer<4x128xbf16, vram>, !tile.buffer<64x128xbf16, mram>
}

// CHECK-LABEL: tile.kernel @decode
// CHECK:         %gemm_scratch = tile.alloc : !tile.buffer<4x64xbf16, vram>
// CHECK-NEXT:    tile.gemm {{.*}} {plena.gemm = {form = "M_BTMV+lane-sum", {{.*}} reason = "M_BTMV+lane-sum (8 M_BTMV + 4 write-outs + 12 lane adds): ~{{[0-9]+}} cycles; M_BTMM+lane-sum

// -----

// An accumulating M_MM (forced by hand through the attribute, which the pass keeps) writes
// its product to a scratch of C's shape and adds it to C.

tile.kernel @acc grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<2x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<2x64xbf16, vram>
  tile.gemm %c[m, n] += %a[m, k] * %b[k, n] {plena.gemm = {form = "M_MM"}} : !tile.buffer<2x64xbf16, vram>, !tile.buffer<2x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}

// CHECK-LABEL: tile.kernel @acc
// CHECK:         %gemm_scratch = tile.alloc : !tile.buffer<2x64xbf16, vram>
// CHECK-NEXT:    tile.gemm %c[m, n] += %a[m, k] * %b[k, n] scratch %gemm_scratch {plena.gemm = {form = "M_MM", {{.*}}"M_MM (32 M_MM + 32 write-outs + 2 lane adds)
