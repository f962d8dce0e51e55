// RUN: plena-opt %s --split-input-file -p 'plena-select-gemm,plena-allocate-memory,convert-lane-to-plena' | filecheck %s

// C = A·Bᵀ, one 64 x 64 output tile, K = 128: %a at VRAM 0 (two column blocks of 64 rows,
// the second at 4096), %c at 8192, the scratch at 12288; %b at MRAM 0 (tile kt = 1 at 4096).
// One M_BTMM per K tile into hm_accum, one M_BMM_WO of the four lane slabs (4096 elements
// apart), then per row of C: C = S0 + S1, C += S2, C += S3 (16 rows per hardware iteration).

tile.kernel @gemm grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x128xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<64x128xbf16, mram>
}

// CHECK:      %[[ZERO:.*]] = plena.li 0 : !plena.gp
// CHECK-NEXT: %[[S0:.*]] = plena.li 12288 : !plena.gp
// CHECK-NEXT: %[[C:.*]] = plena.li 8192 : !plena.gp
// CHECK-NEXT: plena.m_btmm %[[ZERO]], %[[ZERO]]
// CHECK-NEXT: %[[TILE:.*]] = plena.li 4096 : !plena.gp
// CHECK-NEXT: %[[K1:.*]] = plena.s_add_int %[[ZERO]], %[[TILE]]
// CHECK-NEXT: plena.m_btmm %[[K1]], %[[K1]]
// CHECK:      plena.m_bmm_wo %[[S0]], 0
// CHECK-NEXT: %[[S1:.*]] = plena.li 16384
// CHECK-NEXT: %[[S2:.*]] = plena.li 20480
// CHECK-NEXT: %[[S3:.*]] = plena.li 24576
// CHECK-NEXT: plena.loop %{{.*}} : !plena.gp = 4 iter_args(%[[CR:.*]] = %[[C]], %[[S0R:.*]] = %[[S0]], %[[S1R:.*]] = %[[S1]], %[[S2R:.*]] = %[[S2]], %[[S3R:.*]] = %[[S3]])
// CHECK-NEXT:   plena.v_add_vv %[[CR]], %[[S0R]], %[[S1R]], rmask 0
// CHECK-NEXT:   plena.v_add_vv %[[CR]], %[[CR]], %[[S2R]], rmask 0
// CHECK-NEXT:   plena.v_add_vv %[[CR]], %[[CR]], %[[S3R]], rmask 0
// CHECK-COUNT-15: plena.v_add_vv %{{.*}}, %{{.*}}, %{{.*}}, rmask 0

// -----

// C = A·B for a single row, M_MM forced: per 2-column block j of the N tile, M_MM over
// columns j*2 of the tile, M_MM_WO to C + j*2 (row 0 of C; C's padded row 1 takes row 1).
// %a and %b are both at address 0 (VRAM and MRAM), %c at VRAM 128.  The steps of the
// one-iteration K loop are dead (plena-optimize-scalar drops them).

tile.kernel @mm grid(%i = 1) args() {
  %a = tile.alloc : !tile.buffer<1x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %c = tile.alloc : !tile.buffer<1x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] {plena.gemm = {form = "M_MM"}} : !tile.buffer<1x64xbf16, vram>, !tile.buffer<1x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}

// CHECK-LABEL: plena.kernel = {name = "mm"
// CHECK:      %[[GP0:.*]] = plena.get_register : !plena.gp<gp0>
// CHECK-NEXT: %[[B:.*]] = plena.li 0 : !plena.gp
// CHECK-NEXT: %[[C:.*]] = plena.li 128 : !plena.gp
// CHECK-NEXT: plena.loop %{{.*}} : !plena.gp = 32 iter_args(%[[MR:.*]] = %[[B]], %[[CR:.*]] = %[[C]])
// CHECK-NEXT:   plena.m_mm %[[MR]], %[[B]]
// CHECK:        plena.m_mm_wo %[[CR]], %[[GP0]], 0
// CHECK-NEXT:   %[[TWO:.*]] = plena.li 2 : !plena.gp
// CHECK-NEXT:   plena.s_add_int %[[MR]], %[[TWO]]
// CHECK-NEXT:   plena.s_add_int %[[CR]], %[[TWO]]
