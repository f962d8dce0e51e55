// RUN: PLENA_ROUNDTRIP
// RUN: plena-opt %s --split-input-file --print-op-generic | plena-opt --split-input-file | filecheck %s
// RUN: plena-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every tile op, in custom syntax; the generic form of the kernel and of the ops with
// properties or optional operands.

// CHECK-LABEL: tile.kernel @every_op grid(%q = 2, %h = 8 lane) args(%x : !tile.tensor<1x128x8x16xf32>, %y : !tile.tensor<128x64xf32>, %bias : !tile.tensor<64xf32>, %eps : f32) {
// GENERIC-LABEL: "tile.kernel"() <{sym_name = "every_op", grid_sizes = array<i64: 2, 8>, grid_names = ["q", "h"], arg_names = ["x", "y", "bias", "eps"], lane_axis = 1 : i64}> ({
// GENERIC-NEXT:  ^bb0(%q: index, %h: index, %x: !tile.tensor<1x128x8x16xf32>, %y: !tile.tensor<128x64xf32>, %bias: !tile.tensor<64xf32>, %eps: f32):
tile.kernel @every_op grid(%q = 2, %h = 8 lane) args(%x : !tile.tensor<1x128x8x16xf32>, %y : !tile.tensor<128x64xf32>, %bias : !tile.tensor<64xf32>, %eps : f32) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %one = arith.constant 1.000000e+00 : f32
  %r = arith.muli %q, %c64 : index
  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %u = tile.alloc : !tile.buffer<64x16xbf16, vram>
  %wide = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %row = tile.alloc : !tile.buffer<1x64xbf16, vram>
  %w = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %v = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  %l = tile.alloc : !tile.buffer<64xf16, fpram>
  // CHECK:      %t = tile.alloc : !tile.buffer<64x16xbf16, vram>
  // CHECK:      %w = tile.alloc : !tile.buffer<64x64xbf16, mram>
  // CHECK-NEXT: %v = tile.alloc : !tile.buffer<64x64xbf16, ?>
  // CHECK-NEXT: %m = tile.alloc : !tile.buffer<64xf32, fpram>
  // GENERIC:    %t = "tile.alloc"() : () -> !tile.buffer<64x16xbf16, vram>

  tile.copy %x[0, %r, %h, 0] sizes [1, 64, 1, 16] to %t : !tile.tensor<1x128x8x16xf32> to !tile.buffer<64x16xbf16, vram>
  tile.copy %y[%r, 0] to %w : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, mram>
  tile.copy %y[%r, 0] to %v : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.copy %bias[0] to %row : !tile.tensor<64xf32> to !tile.buffer<1x64xbf16, vram>
  tile.copy %y[%r, 0] sizes [64, 16] to %wide[0, 16] : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.copy %t to %u : !tile.buffer<64x16xbf16, vram> to !tile.buffer<64x16xbf16, vram>
  tile.copy %wide[%c0, 0] to %m : !tile.buffer<64x64xbf16, vram> to !tile.buffer<64xf32, fpram>
  tile.copy %m to %row : !tile.buffer<64xf32, fpram> to !tile.buffer<1x64xbf16, vram>
  tile.copy %m to %l : !tile.buffer<64xf32, fpram> to !tile.buffer<64xf16, fpram>
  tile.copy %wide to %y[%r, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
  // CHECK:      tile.copy %x[0, %r, %h, 0] sizes [1, 64, 1, 16] to %t : !tile.tensor<1x128x8x16xf32> to !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.copy %y[%r, 0] to %w : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, mram>
  // CHECK-NEXT: tile.copy %y[%r, 0] to %v : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, ?>
  // CHECK-NEXT: tile.copy %bias[0] to %row : !tile.tensor<64xf32> to !tile.buffer<1x64xbf16, vram>
  // CHECK-NEXT: tile.copy %y[%r, 0] sizes [64, 16] to %wide[0, 16] : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
  // CHECK-NEXT: tile.copy %t to %u : !tile.buffer<64x16xbf16, vram> to !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.copy %wide[%c0, 0] to %m : !tile.buffer<64x64xbf16, vram> to !tile.buffer<64xf32, fpram>
  // CHECK-NEXT: tile.copy %m to %row : !tile.buffer<64xf32, fpram> to !tile.buffer<1x64xbf16, vram>
  // CHECK-NEXT: tile.copy %m to %l : !tile.buffer<64xf32, fpram> to !tile.buffer<64xf16, fpram>
  // CHECK-NEXT: tile.copy %wide to %y[%r, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
  // GENERIC:    "tile.copy"(%x, %r, %h, %t) <{src_static_offsets = array<i64: 0, -9223372036854775808, -9223372036854775808, 0>, src_static_sizes = array<i64: 1, 64, 1, 16>, dst_static_offsets = array<i64>, dst_static_sizes = array<i64>, operandSegmentSizes = array<i32: 1, 2, 1, 0>}>
  // GENERIC:    "tile.copy"(%y, %r, %wide) <{src_static_offsets = array<i64: -9223372036854775808, 0>, src_static_sizes = array<i64: 64, 16>, dst_static_offsets = array<i64: 0, 16>, dst_static_sizes = array<i64>, operandSegmentSizes = array<i32: 1, 1, 1, 0>}>

  tile.fill %wide, %one : !tile.buffer<64x64xbf16, vram>, f32
  tile.fill %m, %eps : !tile.buffer<64xf32, fpram>, f32
  // CHECK-NEXT: tile.fill %wide, %one : !tile.buffer<64x64xbf16, vram>, f32
  // CHECK-NEXT: tile.fill %m, %eps : !tile.buffer<64xf32, fpram>, f32

  tile.gemm %wide[m, n] = %v[m, k] * %w[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, mram>
  tile.gemm %wide[m, n] += %v[k, m] * %w[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, mram>
  // CHECK-NEXT: tile.gemm %wide[m, n] = %v[m, k] * %w[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, mram>
  // CHECK-NEXT: tile.gemm %wide[m, n] += %v[k, m] * %w[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, mram>
  // GENERIC:    "tile.gemm"(%wide, %v, %w) <{c_roles = "mn", a_roles = "mk", b_roles = "nk"}>
  // GENERIC-NEXT: "tile.gemm"(%wide, %v, %w) <{c_roles = "mn", a_roles = "km", b_roles = "kn", accumulate}>

  tile.add %t, %t, %u : !tile.buffer<64x16xbf16, vram>
  tile.sub %t, %u, %t : !tile.buffer<64x16xbf16, vram>
  tile.mul %wide, %wide, %row : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<1x64xbf16, vram>
  tile.exp %t, %t : !tile.buffer<64x16xbf16, vram>
  tile.reci %u, %t : !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.add %t, %t, %u : !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.sub %t, %u, %t : !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.mul %wide, %wide, %row : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<1x64xbf16, vram>
  // CHECK-NEXT: tile.exp %t, %t : !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.reci %u, %t : !tile.buffer<64x16xbf16, vram>
  // GENERIC:    "tile.add"(%t, %t, %u) : (!tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>) -> ()

  tile.add_scalar %t, %t, %m : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.sub_scalar %t, %u, %m[%c0] : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.rsub_scalar %t, %t, %one : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, f32
  tile.mul_scalar %t, %t, %eps : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, f32
  // CHECK-NEXT: tile.add_scalar %t, %t, %m : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>
  // CHECK-NEXT: tile.sub_scalar %t, %u, %m[%c0] : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>
  // CHECK-NEXT: tile.rsub_scalar %t, %t, %one : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, f32
  // CHECK-NEXT: tile.mul_scalar %t, %t, %eps : !tile.buffer<64x16xbf16, vram>, !tile.buffer<64x16xbf16, vram>, f32
  // GENERIC:    "tile.sub_scalar"(%t, %u, %m, %c0) <{operandSegmentSizes = array<i32: 1, 1, 1, 1>}>

  tile.reduce_max %m, %wide : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.reduce_sum %m, %t accumulate : !tile.buffer<64xf32, fpram>, !tile.buffer<64x16xbf16, vram>
  tile.reduce_sum %m[%c0], %row : !tile.buffer<64xf32, fpram>, !tile.buffer<1x64xbf16, vram>
  // CHECK-NEXT: tile.reduce_max %m, %wide : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  // CHECK-NEXT: tile.reduce_sum %m, %t accumulate : !tile.buffer<64xf32, fpram>, !tile.buffer<64x16xbf16, vram>
  // CHECK-NEXT: tile.reduce_sum %m[%c0], %row : !tile.buffer<64xf32, fpram>, !tile.buffer<1x64xbf16, vram>
  // GENERIC:    "tile.reduce_sum"(%m, %t) <{accumulate, operandSegmentSizes = array<i32: 1, 0, 1>}>

  tile.fp_add %m, %m, %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.fp_sub %m[%c0], %m[%c0], %l[%c0] : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, !tile.buffer<64xf16, fpram>
  tile.fp_mul %m, %m, %m[%c0] : !tile.buffer<64xf32, fpram>
  tile.fp_max %m, %m, %l : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, !tile.buffer<64xf16, fpram>
  tile.fp_exp %m, %m : !tile.buffer<64xf32, fpram>
  tile.fp_reci %m[%c0], %eps : !tile.buffer<64xf32, fpram>, f32
  tile.fp_sqrt %m, %m : !tile.buffer<64xf32, fpram>
  // CHECK-NEXT: tile.fp_add %m, %m, %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  // CHECK-NEXT: tile.fp_sub %m[%c0], %m[%c0], %l[%c0] : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, !tile.buffer<64xf16, fpram>
  // CHECK-NEXT: tile.fp_mul %m, %m, %m[%c0] : !tile.buffer<64xf32, fpram>
  // CHECK-NEXT: tile.fp_max %m, %m, %l : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, !tile.buffer<64xf16, fpram>
  // CHECK-NEXT: tile.fp_exp %m, %m : !tile.buffer<64xf32, fpram>
  // CHECK-NEXT: tile.fp_reci %m[%c0], %eps : !tile.buffer<64xf32, fpram>, f32
  // CHECK-NEXT: tile.fp_sqrt %m, %m : !tile.buffer<64xf32, fpram>
  // GENERIC:    "tile.fp_sub"(%m, %c0, %m, %c0, %l, %c0) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1>}>

  scf.for %i = %c0 to %c64 step %c64 {
    tile.copy %wide to %y[%i, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
  }
  // CHECK-NEXT: scf.for %i = %c0 to %c64 step %c64 {
  // CHECK-NEXT:   tile.copy %wide to %y[%i, 0] : !tile.buffer<64x64xbf16, vram> to !tile.tensor<128x64xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: }
}

// -----

// A kernel without grid axes or arguments, and with attributes.

tile.kernel @empty grid() args() attributes {note = "one instance"} {
}
// CHECK:      tile.kernel @empty grid() args() attributes {note = "one instance"} {
// CHECK-NEXT: }
// GENERIC:    "tile.kernel"() <{sym_name = "empty", grid_sizes = array<i64>, grid_names = [], arg_names = []}> ({
// GENERIC-NEXT:   ^bb0:
// GENERIC-NEXT: }) {note = "one instance"} : () -> ()
