// RUN: PLENA_ROUNDTRIP
// RUN: plena-opt %s --split-input-file --print-op-generic | plena-opt --split-input-file | filecheck %s
// RUN: plena-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every lane op, in custom syntax, in a lane-expanded kernel: the 8 heads of the grid are two
// groups of L = 4 lanes (plena-tvm: MLEN 64, HLEN 16); %g is the group.

// CHECK-LABEL: tile.kernel @every_op grid(%qb = 2, %g = 2) args(%Q : !tile.tensor<1x128x8x16xf32>, %K : !tile.tensor<1x64x8x16xf32>, %O : !tile.tensor<1x128x8x16xf32>, %W : !tile.tensor<64x64xf32>, %scale : f32) {
tile.kernel @every_op grid(%qb = 2, %g = 2) args(%Q : !tile.tensor<1x128x8x16xf32>, %K : !tile.tensor<1x64x8x16xf32>, %O : !tile.tensor<1x128x8x16xf32>, %W : !tile.tensor<64x64xf32>, %scale : f32) {
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.000000e+00 : f32
  %r = arith.muli %qb, %c64 : index
  %h0 = arith.muli %g, %c4 : index

  %q = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %o = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %k = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %s = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %p = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %q1 = lane.alloc : !lane.buffer<4x1x16xbf16, vram, col_pack>
  %s1 = lane.alloc : !lane.buffer<4x1x64xbf16, vram, row_stack>
  %m = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
  %l = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
  %slab = lane.alloc : !lane.buffer<4x4096xf32, fpram, fp_lane>
  %row = lane.alloc : !lane.buffer<4x16xf32, fpram, fp_lane>
  %w = lane.alloc : !lane.buffer<64x64xbf16, mram, flat>
  %bias = lane.alloc : !lane.buffer<64xf32, fpram, flat>
  // CHECK:      %q = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: %o = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: %k = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  // CHECK-NEXT: %s = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  // CHECK:      %m = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK:      %w = lane.alloc : !lane.buffer<64x64xbf16, mram, flat>
  // CHECK-NEXT: %bias = lane.alloc : !lane.buffer<64xf32, fpram, flat>
  // GENERIC:    %q = "lane.alloc"() : () -> !lane.buffer<4x64x16xbf16, vram, col_pack>

  lane.copy %Q[0, %r, lanes %h0, 0] to %q : !tile.tensor<1x128x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.copy %K[0, 0, lanes 4, 0] to %k : !tile.tensor<1x64x8x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
  lane.copy %W to %w : !tile.tensor<64x64xf32> to !lane.buffer<64x64xbf16, mram, flat>
  lane.copy %o to %O[0, %r, lanes %h0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<1x128x8x16xf32>
  lane.copy %q to %o : !lane.buffer<4x64x16xbf16, vram, col_pack> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.copy %q1 to %row : !lane.buffer<4x1x16xbf16, vram, col_pack> to !lane.buffer<4x16xf32, fpram, fp_lane>
  lane.copy %s to %slab : !lane.buffer<4x64x64xbf16, vram, row_stack> to !lane.buffer<4x4096xf32, fpram, fp_lane>
  lane.copy %m to %l : !lane.buffer<4x64xf32, fpram, fp_lane> to !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT: lane.copy %Q[0, %r, lanes %h0, 0] to %q : !tile.tensor<1x128x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: lane.copy %K[0, 0, lanes 4, 0] to %k : !tile.tensor<1x64x8x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
  // CHECK-NEXT: lane.copy %W to %w : !tile.tensor<64x64xf32> to !lane.buffer<64x64xbf16, mram, flat>
  // CHECK-NEXT: lane.copy %o to %O[0, %r, lanes %h0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<1x128x8x16xf32>
  // CHECK-NEXT: lane.copy %q to %o : !lane.buffer<4x64x16xbf16, vram, col_pack> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: lane.copy %q1 to %row : !lane.buffer<4x1x16xbf16, vram, col_pack> to !lane.buffer<4x16xf32, fpram, fp_lane>
  // CHECK-NEXT: lane.copy %s to %slab : !lane.buffer<4x64x64xbf16, vram, row_stack> to !lane.buffer<4x4096xf32, fpram, fp_lane>
  // CHECK-NEXT: lane.copy %m to %l : !lane.buffer<4x64xf32, fpram, fp_lane> to !lane.buffer<4x64xf32, fpram, fp_lane>
  // GENERIC:    "lane.copy"(%Q, %q, %r, %h0) <{hbm_static_offsets = array<i64: 0, -9223372036854775808, -9223372036854775808, 0>, lane_dim = 2 : i64}>
  // GENERIC:    "lane.copy"(%W, %w) <{hbm_static_offsets = array<i64>}>

  lane.fill %m, %zero : !lane.buffer<4x64xf32, fpram, fp_lane>, f32
  lane.fill %o, %zero : !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
  // CHECK-NEXT: lane.fill %m, %zero : !lane.buffer<4x64xf32, fpram, fp_lane>, f32
  // CHECK-NEXT: lane.fill %o, %zero : !lane.buffer<4x64x16xbf16, vram, col_pack>, f32

  lane.btmm %s = %q * %k : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  lane.btmv %s1 = %q1 * %k : !lane.buffer<4x1x64xbf16, vram, row_stack>, !lane.buffer<4x1x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  // CHECK-NEXT: lane.btmm %s = %q * %k : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  // CHECK-NEXT: lane.btmv %s1 = %q1 * %k : !lane.buffer<4x1x64xbf16, vram, row_stack>, !lane.buffer<4x1x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  // GENERIC:    "lane.btmm"(%s, %q, %k) : (!lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>) -> ()

  lane.add %o, %o, %q : !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.sub %o, %q, %o : !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.mul %s, %s, %s : !lane.buffer<4x64x64xbf16, vram, row_stack>
  lane.exp %s, %s : !lane.buffer<4x64x64xbf16, vram, row_stack>
  lane.reci %o, %q : !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.mul_scalar %s, %s, %scale : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, f32
  lane.add_scalar %o, %q, %bias : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<64xf32, fpram, flat>
  lane.sub_scalar %o, %o, %scale : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
  lane.rsub_scalar %o, %o, %scale : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
  // CHECK-NEXT: lane.add %o, %o, %q : !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: lane.sub %o, %q, %o : !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: lane.mul %s, %s, %s : !lane.buffer<4x64x64xbf16, vram, row_stack>
  // CHECK-NEXT: lane.exp %s, %s : !lane.buffer<4x64x64xbf16, vram, row_stack>
  // CHECK-NEXT: lane.reci %o, %q : !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: lane.mul_scalar %s, %s, %scale : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, f32
  // CHECK-NEXT: lane.add_scalar %o, %q, %bias : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<64xf32, fpram, flat>
  // CHECK-NEXT: lane.sub_scalar %o, %o, %scale : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
  // CHECK-NEXT: lane.rsub_scalar %o, %o, %scale : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
  // GENERIC:    "lane.add"(%o, %o, %q) : (!lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>) -> ()

  lane.for_lanes %lane = 4 {
    lane.row_max %m, %s lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
    lane.row_sum %l, %s lane %lane accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
    lane.row_max %m, %o lane %lane accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x16xbf16, vram, col_pack>
    lane.row_sub %s, %s, %m lane %lane : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.row_rsub %o, %o, %scale lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
    lane.row_add %o, %o, %bias lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<64xf32, fpram, flat>
    lane.row_mul %o, %o, %l lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_add %l, %l, %m lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_sub %l, %l, %scale lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64xf32, fpram, fp_lane>, f32
    lane.fp_mul %l, %bias, %m lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<64xf32, fpram, flat>, !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_max %m, %m, %l lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_exp %l, %l lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_reci %l, %l lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_sqrt %l, %scale lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, f32
    lane.gemm %o[m, n] += %s[m, k] * %k[k, n] lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
    lane.gemm %p[m, n] = %s[k, m] * %w[k, n] lane %lane via M_TMM_A : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<64x64xbf16, mram, flat>
    lane.gemm %q1[m, n] = %s1[m, k] * %k[k, n] lane %lane via M_MV : !lane.buffer<4x1x16xbf16, vram, col_pack>, !lane.buffer<4x1x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  }
  // CHECK-NEXT: lane.for_lanes %lane = 4 {
  // CHECK-NEXT:   lane.row_max %m, %s lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
  // CHECK-NEXT:   lane.row_sum %l, %s lane %lane accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
  // CHECK-NEXT:   lane.row_max %m, %o lane %lane accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT:   lane.row_sub %s, %s, %m lane %lane : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.row_rsub %o, %o, %scale lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, f32
  // CHECK-NEXT:   lane.row_add %o, %o, %bias lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<64xf32, fpram, flat>
  // CHECK-NEXT:   lane.row_mul %o, %o, %l lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.fp_add %l, %l, %m lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.fp_sub %l, %l, %scale lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64xf32, fpram, fp_lane>, f32
  // CHECK-NEXT:   lane.fp_mul %l, %bias, %m lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<64xf32, fpram, flat>, !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.fp_max %m, %m, %l lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.fp_exp %l, %l lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.fp_reci %l, %l lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>
  // CHECK-NEXT:   lane.fp_sqrt %l, %scale lane %lane : !lane.buffer<4x64xf32, fpram, fp_lane>, f32
  // CHECK-NEXT:   lane.gemm %o[m, n] += %s[m, k] * %k[k, n] lane %lane : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  // CHECK-NEXT:   lane.gemm %p[m, n] = %s[k, m] * %w[k, n] lane %lane via M_TMM_A : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<64x64xbf16, mram, flat>
  // CHECK-NEXT:   lane.gemm %q1[m, n] = %s1[m, k] * %k[k, n] lane %lane via M_MV : !lane.buffer<4x1x16xbf16, vram, col_pack>, !lane.buffer<4x1x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  // CHECK-NEXT: }
  // GENERIC:      "lane.for_lanes"() <{count = 4 : i64}> ({
  // GENERIC-NEXT: ^bb0(%lane: index):
  // GENERIC-NEXT:   "lane.row_max"(%m, %s, %lane) : (!lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>, index) -> ()
  // GENERIC-NEXT:   "lane.row_sum"(%l, %s, %lane) <{accumulate}> : (!lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>, index) -> ()
  // GENERIC:        "lane.gemm"(%p, %s, %w, %lane) <{c_roles = "mn", a_roles = "km", b_roles = "kn", instruction = "M_TMM_A"}>
}

// -----

// A broadcast copy (no `lanes`: every lane gets the same region, here a per-head weight), a
// one-row rhs broadcast to every row, and a placed lane.alloc.

// CHECK-LABEL: tile.kernel @broadcast
tile.kernel @broadcast grid(%g = 2) args(%X : !tile.tensor<64x8x16xf32>, %W : !tile.tensor<1x16xf32>) {
  %c4 = arith.constant 4 : index
  %h0 = arith.muli %g, %c4 : index
  %x = lane.alloc {address = 0 : i64} : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %w = lane.alloc {address = 4096 : i64} : !lane.buffer<4x1x16xbf16, vram, col_pack>
  // CHECK:      %x = lane.alloc {address = 0 : i64} : !lane.buffer<4x64x16xbf16, vram, col_pack>
  // CHECK-NEXT: %w = lane.alloc {address = 4096 : i64} : !lane.buffer<4x1x16xbf16, vram, col_pack>
  lane.copy %X[0, lanes %h0, 0] to %x : !tile.tensor<64x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.copy %W[0, 0] to %w : !tile.tensor<1x16xf32> to !lane.buffer<4x1x16xbf16, vram, col_pack>
  lane.mul %x, %x, %w : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x1x16xbf16, vram, col_pack>
  lane.copy %x to %X[0, lanes %h0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<64x8x16xf32>
  // CHECK-NEXT: lane.copy %X[0, lanes %h0, 0] to %x
  // CHECK-NEXT: lane.copy %W[0, 0] to %w : !tile.tensor<1x16xf32> to !lane.buffer<4x1x16xbf16, vram, col_pack>
  // CHECK-NEXT: lane.mul %x, %x, %w : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x1x16xbf16, vram, col_pack>
}
