// RUN: plena-opt %s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// One case per diagnostic of the lane dialect (target plena-tvm: MLEN 64, HLEN 16, L = 4).

// Types

%b = "test.op"() : () -> !lane.buffer<4x64xf32, fpram, col_pack>
// CHECK: a col_pack buffer lives in vram or mram, not in fpram

// -----

%b = "test.op"() : () -> !lane.buffer<64x16xbf16, vram, col_pack>
// CHECK: a col_pack buffer in vram has rank 3 (lanes x rows x columns), got 64x16

// -----

// CHECK: unknown layout 'bshd': expected col_pack, row_stack, fp_lane, flat
%b = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, bshd>

// -----

// CHECK: a lane buffer has a resolved memory space (vram, mram or fpram), not ?: run plena-infer-memory before lane expansion
%b = "test.op"() : () -> !lane.buffer<4x64x16xbf16, ?, col_pack>

// -----

// Buffers on the target: head count / lanes, lane widths

%b = lane.alloc : !lane.buffer<2x64x32xbf16, vram, col_pack>
// CHECK: lane.alloc: head count/lanes mismatch: !lane.buffer<2x64x32xbf16, vram, col_pack> has 2 lanes but target 'plena-tvm' packs MLEN/HLEN = 64/16 = 4 heads in a row

// -----

%b = lane.alloc : !lane.buffer<4x64x32xbf16, vram, col_pack>
// CHECK: lane.alloc: a col_pack lane is HLEN = 16 columns wide on target 'plena-tvm', got 32

// -----

%b = lane.alloc : !lane.buffer<4x64x16xbf16, vram, row_stack>
// CHECK: lane.alloc: a row_stack lane is MLEN = 64 columns wide on target 'plena-tvm', got 16

// -----

// The loop over lanes

lane.for_lanes %l = 2 {
}
// CHECK: lane.for_lanes: head count/lanes mismatch: the loop runs 2 lanes but target 'plena-tvm' packs MLEN/HLEN = 64/16 = 4 heads in a row

// -----

lane.for_lanes %l = 4 {
  lane.for_lanes %m = 4 {
  }
}
// CHECK: lane.for_lanes: loops over lanes do not nest

// -----

// Multi-lane ops inside a lane loop, per-lane ops outside one

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.for_lanes %l = 4 {
  lane.add %o, %o, %o : !lane.buffer<4x64x16xbf16, vram, col_pack>
}
// CHECK: lane.add is multi-lane (one instruction covers all lanes) and must not be inside lane.for_lanes, where it would run once per lane: move it out of the loop

// -----

lane.for_lanes %l = 4 {
  %b = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
}
// CHECK: lane.alloc is multi-lane (one instruction covers all lanes) and must not be inside lane.for_lanes

// -----

%m = "test.op"() : () -> !lane.buffer<4x64xf32, fpram, fp_lane>
%s = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%c0 = arith.constant 0 : index
lane.row_max %m, %s lane %c0 : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK: lane.row_max is per-lane (it works on one head, selected by V_MASK or by address) and must be inside a lane.for_lanes loop over the lanes

// -----

%m = "test.op"() : () -> !lane.buffer<4x64xf32, fpram, fp_lane>
%c0 = arith.constant 0 : index
lane.for_lanes %l = 4 {
  lane.fp_exp %m, %m lane %c0 : !lane.buffer<4x64xf32, fpram, fp_lane>
}
// CHECK: lane.fp_exp: the lane operand must be the lane index of the enclosing lane.for_lanes

// -----

// Per-lane ops write one lane of a lane buffer

%m = "test.op"() : () -> !lane.buffer<64xf32, fpram, flat>
%s = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
lane.for_lanes %l = 4 {
  lane.row_sum %m, %s lane %l : !lane.buffer<64xf32, fpram, flat>, !lane.buffer<4x64x64xbf16, vram, row_stack>
}
// CHECK: lane.row_sum: acc is flat (shared by every lane), so the per-lane op would write it once per lane; a per-lane op writes one lane of a lane-laid buffer

// -----

// BTMM / BTMV

%s = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%k = "test.op"() : () -> !lane.buffer<4x64x16xbf16, mram, col_pack>
lane.btmm %s = %q * %k : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK: lane.btmm: the result must be row_stack, got col_pack (!lane.buffer<4x64x16xbf16, vram, col_pack>): M_BMM_WO writes lane l's rows as one head-major slab

// -----

%s = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.btmm %s = %q * %q : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.btmm: the B operand k must be in mram, got vram (!lane.buffer<4x64x16xbf16, vram, col_pack>): the matrix unit reads its B operand from MRAM, which only HBM (H_PREFETCH_M) can fill

// -----

%s = "test.op"() : () -> !lane.buffer<4x1x64xbf16, vram, row_stack>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%k = "test.op"() : () -> !lane.buffer<4x64x16xbf16, mram, col_pack>
lane.btmv %s = %q * %k : !lane.buffer<4x1x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK: lane.btmv: a lane of q must be 1x16 (MLEN = 64, HLEN = 16), got 64x16

// -----

// The per-lane gemm

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%p = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%v = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.for_lanes %l = 4 {
  lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>
}
// CHECK: lane.gemm: the B operand b must be in mram, got vram (!lane.buffer<4x64x16xbf16, vram, col_pack>): the matrix unit reads its B operand from MRAM, which only HBM (H_PREFETCH_M) can fill

// -----

%o = "test.op"() : () -> !lane.buffer<64x16xbf16, vram, flat>
%p = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%v = "test.op"() : () -> !lane.buffer<4x64x16xbf16, mram, col_pack>
lane.for_lanes %l = 4 {
  lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l : !lane.buffer<64x16xbf16, vram, flat>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
}
// CHECK: lane.gemm: c is flat (shared by every lane), so the per-lane op would write it once per lane

// -----

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%p = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%v = "test.op"() : () -> !lane.buffer<4x64x16xbf16, mram, col_pack>
lane.for_lanes %l = 4 {
  lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l via M_MV : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
}
// CHECK: lane.gemm: M_MV computes one row, but M is 64

// -----

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%p = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%v = "test.op"() : () -> !lane.buffer<4x32x16xbf16, mram, col_pack>
lane.for_lanes %l = 4 {
  lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x32x16xbf16, mram, col_pack>
}
// CHECK: lane.gemm: K of a (64) does not match K of b (32) (per-lane shapes)

// -----

// Masked per-lane vector-scalar ops are in place

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%m = "test.op"() : () -> !lane.buffer<4x64xf32, fpram, fp_lane>
lane.for_lanes %l = 4 {
  lane.row_mul %o, %q, %m lane %l : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64xf32, fpram, fp_lane>
}
// CHECK: lane.row_mul: a masked per-lane vector-scalar op must be in place (dst is src): dst is col_pack, so V_MASK selects the lane and the instruction writes the other lanes of the row with src's values, undoing the other iterations of the lane loop; copy src to dst first (lane.copy) and run the op on dst

// -----

%s = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
%m = "test.op"() : () -> !lane.buffer<4x16xf32, fpram, fp_lane>
lane.for_lanes %l = 4 {
  lane.row_max %m, %s lane %l : !lane.buffer<4x16xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
}
// CHECK: lane.row_max: a lane of acc has 16 entries but a lane of src has 64 rows: acc needs one entry per row

// -----

// Producer / consumer layouts agree

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%s = "test.op"() : () -> !lane.buffer<4x64x64xbf16, vram, row_stack>
lane.add %s, %o, %s : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>
// CHECK: lane.add: layout mismatch: lhs is col_pack but dst is row_stack; an element-wise op reads and writes the same positions, so its producer and consumer must agree on the layout

// -----

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%s = "test.op"() : () -> !lane.buffer<4x16x64xbf16, vram, row_stack>
lane.copy %o to %s : !lane.buffer<4x64x16xbf16, vram, col_pack> to !lane.buffer<4x16x64xbf16, vram, row_stack>
// CHECK: lane.copy: layout mismatch: src is col_pack but dst is row_stack: a copy does not change the layout, so the producer and consumer of the data must agree on it

// -----

%o = "test.op"() : () -> !lane.buffer<4x4x16xbf16, vram, col_pack>
%m = "test.op"() : () -> !lane.buffer<4x64xf32, fpram, fp_lane>
lane.copy %o to %m : !lane.buffer<4x4x16xbf16, vram, col_pack> to !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK: lane.copy: layout mismatch: a col_pack buffer maps to fp_lane only with one row per lane (a VRAM row holds a slice of every lane), got 4x4x16

// -----

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%m = "test.op"() : () -> !lane.buffer<4x64xf32, fpram, fp_lane>
lane.mul_scalar %o, %o, %m : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64xf32, fpram, fp_lane>
// CHECK: lane.mul_scalar: the scalar operand is fp_lane: scalars that differ per lane need the per-lane lane.row_mul inside lane.for_lanes

// -----

%m = "test.op"() : () -> !lane.buffer<64xf32, fpram, flat>
lane.for_lanes %l = 4 {
  lane.fp_reci %m, %m lane %l : !lane.buffer<64xf32, fpram, flat>
}
// CHECK: lane.fp_reci: dst must be fp_lane, got flat (!lane.buffer<64xf32, fpram, flat>)

// -----

// DMA with lane ranges

%Q = "test.op"() : () -> !tile.tensor<1x128x8x16xf32>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.copy %q to %Q[0, 0, 0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<1x128x8x16xf32>
// CHECK: lane.copy: src is col_pack: mark the head dimension of the HBM side with `lanes` (`%t[..., lanes %h0, ...]`) to say which heads the lanes hold

// -----

// A broadcast copy (no `lanes`: every lane the same region) fills VRAM only.

%W = "test.op"() : () -> !tile.tensor<64x16xf32>
%k = "test.op"() : () -> !lane.buffer<4x64x16xbf16, mram, col_pack>
lane.copy %W[0, 0] to %k : !tile.tensor<64x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
// CHECK: lane.copy: a broadcast copy (no `lanes` dimension: every lane gets the same region) fills a VRAM buffer, not mram (!lane.buffer<4x64x16xbf16, mram, col_pack>); mark the head dimension with `lanes`, or use a flat buffer

// -----

%W = "test.op"() : () -> !tile.tensor<2x16xf32>
%w = "test.op"() : () -> !lane.buffer<4x1x16xbf16, vram, col_pack>
lane.copy %W to %w : !tile.tensor<2x16xf32> to !lane.buffer<4x1x16xbf16, vram, col_pack>
// CHECK: lane.copy: shape of the HBM side (2x16) does not match a lane of dst (1x16)

// -----

// A one-row rhs is broadcast to every row; a row of another shape or layout is not.

%t = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%w = "test.op"() : () -> !lane.buffer<4x2x16xbf16, vram, col_pack>
lane.mul %t, %t, %w : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x2x16xbf16, vram, col_pack>
// CHECK: lane.mul: shape of rhs (4x2x16) does not match dst (4x64x16)

// -----

%t = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%w = "test.op"() : () -> !lane.buffer<4x1x16xbf16, vram, col_pack>
lane.mul %t, %w, %t : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x1x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.mul: shape of lhs (4x1x16) does not match dst (4x64x16)

// -----

%b = lane.alloc {address = 3 : i64} : !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.alloc: vram address 3 must be non-negative, a multiple of VLEN

// -----

%Q = "test.op"() : () -> !tile.tensor<1x128x6x16xf32>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.copy %Q[0, 0, lanes 0, 0] to %q : !tile.tensor<1x128x6x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.copy: head count/lanes mismatch: the HBM side has 6 heads (dimension 2), not a multiple of the 4 lanes

// -----

%Q = "test.op"() : () -> !tile.tensor<1x128x8x16xf32>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.copy %Q[0, 0, lanes 6, 0] to %q : !tile.tensor<1x128x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.copy: heads 6 .. 9 are out of bounds for the 8 heads of dimension 2

// -----

%Q = "test.op"() : () -> !tile.tensor<1x128x8x16xf32>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.copy %Q[0, 96, lanes 0, 0] to %q : !tile.tensor<1x128x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.copy: offset 96 + size 64 is out of bounds for dimension 1 of the HBM side (1x128x8x16)

// -----

%W = "test.op"() : () -> !tile.tensor<8x64x64xf32>
%w = "test.op"() : () -> !lane.buffer<64x64xbf16, mram, flat>
lane.copy %W[lanes 0, 0, 0] to %w : !tile.tensor<8x64x64xf32> to !lane.buffer<64x64xbf16, mram, flat>
// CHECK: lane.copy: dst is flat (no lanes), so no HBM dimension can be `lanes`

// -----

%k = "test.op"() : () -> !lane.buffer<4x64x16xbf16, mram, col_pack>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
lane.copy %k to %q : !lane.buffer<4x64x16xbf16, mram, col_pack> to !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.copy: MRAM cannot be read by a copy, only by tile.gemm (its B operand)

// -----

%o = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
%q = "test.op"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>
// CHECK: lane.copy: only the HBM side has offsets; lane buffers move whole
lane.copy %o[0, 0, 0] to %q : !lane.buffer<4x64x16xbf16, vram, col_pack> to !lane.buffer<4x64x16xbf16, vram, col_pack>
