// RUN: plena-opt %s --split-input-file -p plena-select-gemm | filecheck %s

// Flash attention's P·V, one head per lane: P is the head's row_stack slab (64 x 64), V the
// head's 16 columns of the col_pack MRAM tile, O the head's 16 columns of a col_pack buffer.
// M_MM needs 32 row blocks x 8 column blocks = 256 M_MM of 64 cycles per head; M_BMM on
// the whole V tile contracts 16 of the 64 kv positions in each lane, and the 4 slabs are
// summed and merged into the head's columns under V_MASK (5 vector ops a row).  The
// scratch (4 slabs of 64 x 64) is allocated once, before the loop over lanes.

tile.kernel @pv grid(%g = 2) args() {
  %p = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %v = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %o = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.for_lanes %l = 4 {
    lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  }
}

// CHECK-LABEL: tile.kernel @pv
// CHECK:         %gemm_scratch = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT:    lane.for_lanes %l = 4 {
// CHECK-NEXT:      lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l via M_BMM scratch %gemm_scratch {plena.gemm = {form = "M_BMM+lane-sum", cycles = 709 : i64, reason = "M_BMM+lane-sum (1 M_BMM + 1 write-outs + 320 lane adds): ~709 cycles; M_MM (256 M_MM + 256 write-outs): ~17664 cycles"}} : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>

// -----

// O += P·V inside a kv loop: the lane sum adds into the head's columns (4 masked adds a
// row).  The scratch is allocated before the loop over lanes, inside the kv loop.

tile.kernel @pv_acc grid(%g = 2) args() {
  %p = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %v = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %o = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %kv = %c0 to %c2 step %c1 {
    lane.for_lanes %l = 4 {
      lane.gemm %o[m, n] += %p[m, k] * %v[k, n] lane %l : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
    }
  }
}

// CHECK-LABEL: tile.kernel @pv_acc
// CHECK:         scf.for %kv
// CHECK-NEXT:      %gemm_scratch = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK-NEXT:      lane.for_lanes %l = 4 {
// CHECK-NEXT:        lane.gemm %o[m, n] += %p[m, k] * %v[k, n] lane %l via M_BMM scratch %gemm_scratch {plena.gemm = {form = "M_BMM+lane-sum", cycles = 645 : i64, {{.*}}}

// -----

// One decode row per head: M_MV (8 column blocks of 2 per head) against M_BMM reading 64
// rows from the head's row (only row 0 of each slab is summed).

tile.kernel @decode grid(%g = 2) args() {
  %p = lane.alloc : !lane.buffer<4x1x64xbf16, vram, row_stack>
  %v = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %o = lane.alloc : !lane.buffer<4x1x16xbf16, vram, col_pack>
  lane.for_lanes %l = 4 {
    lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l : !lane.buffer<4x1x16xbf16, vram, col_pack>, !lane.buffer<4x1x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  }
}

// CHECK-LABEL: tile.kernel @decode
// CHECK:         lane.gemm {{.*}} via M_BMM scratch %gemm_scratch {plena.gemm = {form = "M_BMM+lane-sum", cycles = 79 : i64, reason = "M_BMM+lane-sum (1 M_BMM + 1 write-outs + 5 lane adds): ~79 cycles; M_MM (8 M_MM + 8 write-outs): ~552 cycles; M_MV (8 M_MV + 8 write-outs): ~552 cycles"}}

// -----

// A weight shared by every lane, stored [n, k] (flat), into each head's row_stack slab.

tile.kernel @shared grid(%g = 1) args() {
  %x = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %w = lane.alloc : !lane.buffer<64x64xbf16, mram, flat>
  %y = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  lane.for_lanes %l = 4 {
    lane.gemm %y[m, n] = %x[m, k] * %w[n, k] lane %l : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<64x64xbf16, mram, flat>
  }
}

// CHECK-LABEL: tile.kernel @shared
// CHECK:         lane.gemm {{.*}} via M_BTMM scratch %gemm_scratch {plena.gemm = {form = "M_BTMM+lane-sum", {{.*}} reason = "M_BTMM+lane-sum (1 M_BTMM + 1 write-outs + 192 lane adds): ~581 cycles; M_BTMV+lane-sum ({{.*}}): ~896 cycles; M_TMM (1024 M_TMM + 1024 write-outs): ~70656 cycles"}}

// -----

// A recorded `via M_MM` is kept (and priced).  Without += it writes the head's columns of O
// directly (M_MM_WO writes 2 columns of 2 rows); with += the product goes to a scratch of
// O's type and is added to the head's columns under V_MASK.

tile.kernel @kept grid(%g = 1) args() {
  %p = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %v = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %o = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.for_lanes %l = 4 {
    lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l via M_MM : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
    lane.gemm %o[m, n] += %p[m, k] * %v[k, n] lane %l via M_MM : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  }
}

// CHECK-LABEL: tile.kernel @kept
// CHECK:         %gemm_scratch = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK-NEXT:    lane.for_lanes %l = 4 {
// CHECK-NEXT:      lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l via M_MM {plena.gemm = {form = "M_MM", cycles = 17664 : i64, reason = "M_MM (256 M_MM + 256 write-outs): ~17664 cycles; M_BMM+lane-sum (1 M_BMM + 1 write-outs + 320 lane adds): ~709 cycles"}} : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK-NEXT:      lane.gemm %o[m, n] += %p[m, k] * %v[k, n] lane %l via M_MM scratch %gemm_scratch {plena.gemm = {form = "M_MM", {{.*}}} : {{.*}}, !lane.buffer<4x64x16xbf16, vram, col_pack>
