// RUN: plena-opt %s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// Types

%b = "test.op"() : () -> !tile.buffer<2x64x64xbf16, vram>
// CHECK: vram buffers have rank 2 (rows x columns), got 2x64x64

// -----

%b = "test.op"() : () -> !tile.buffer<64x64xf32, fpram>
// CHECK: fpram buffers have rank 1 (one scalar per entry), got 64x64

// -----

%b = "test.op"() : () -> !tile.buffer<2x4x8xbf16, ?>
// CHECK: a buffer must have rank 1 (fpram) or 2 (vram, mram), got 2x4x8

// -----

%b = "test.op"() : () -> !tile.buffer<?x64xbf16, vram>
// CHECK: !tile.buffer dimensions must be static and positive, got ?x64

// -----

%t = "test.op"() : () -> !tile.tensor<0x64xf32>
// CHECK: !tile.tensor dimensions must be static and positive, got 0x64

// -----

%b = "test.op"() : () -> !tile.buffer<64x64xi32, vram>
// CHECK: !tile.buffer element type must be bf16, f16 or f32, got i32

// -----

// CHECK: unknown memory space 'sram': expected vram, mram, fpram or ?
%b = "test.op"() : () -> !tile.buffer<64x64xbf16, sram>

// -----

// Kernels

tile.kernel @k grid(%i = 0) args() {
}
// CHECK: tile.kernel @k: grid axis 'i' has size 0, must be >= 1

// -----

tile.kernel @k grid(%i = 2) args(%n : index) {
}
// CHECK: tile.kernel @k: argument 'n' must be an HBM tensor (!tile.tensor) or an f32 scalar, got index

// -----

// CHECK: at most one grid axis can be the lane axis, and 'a' is
tile.kernel @k grid(%a = 2 lane, %b = 4 lane) args() {
}

// -----

"tile.kernel"() <{sym_name = "k", grid_sizes = array<i64: 2>, grid_names = ["x"], arg_names = ["x"]}> ({
^bb0(%i: index, %x: !tile.tensor<4xf32>):
}) : () -> ()
// CHECK: tile.kernel @k: the name 'x' is used twice

// -----

"tile.kernel"() <{sym_name = "k", grid_sizes = array<i64: 2>, grid_names = ["1st"], arg_names = []}> ({
^bb0(%i: index):
}) : () -> ()
// CHECK: tile.kernel @k: '1st' is not a valid name

// -----

"tile.kernel"() <{sym_name = "k", grid_sizes = array<i64: 2, 3>, grid_names = ["i"], arg_names = []}> ({
^bb0(%i: index):
}) : () -> ()
// CHECK: tile.kernel @k: 2 grid sizes for 1 grid axes

// -----

"tile.kernel"() <{sym_name = "k", grid_sizes = array<i64: 2>, grid_names = ["i"], arg_names = [], lane_axis = 1 : i64}> ({
^bb0(%i: index):
}) : () -> ()
// CHECK: tile.kernel @k: lane axis 1 is not one of the 1 grid axes

// -----

"tile.kernel"() <{sym_name = "k", grid_sizes = array<i64: 2>, grid_names = ["i"], arg_names = ["x"]}> ({
^bb0(%i: index):
}) : () -> ()
// CHECK: tile.kernel @k: the body must take 1 grid indices and 1 arguments, it takes 1 block arguments

// -----

"tile.kernel"() <{sym_name = "k", grid_sizes = array<i64: 2>, grid_names = ["i"], arg_names = []}> ({
^bb0(%i: i32):
}) : () -> ()
// CHECK: tile.kernel @k: grid index 'i' must be an index, got i32

// -----

// Copies: directions

tile.kernel @k grid() args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
  tile.copy %x to %y : !tile.tensor<64x64xf32> to !tile.tensor<64x64xf32>
}
// CHECK: tile.copy: cannot copy from HBM to HBM: stage the data through a VRAM buffer

// -----

tile.kernel @k grid() args(%x : !tile.tensor<64xf32>) {
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x to %m : !tile.tensor<64xf32> to !tile.buffer<64xf32, fpram>
}
// CHECK: tile.copy: HBM can only be copied to vram or mram, not to fpram: go through VRAM

// -----

tile.kernel @k grid() args() {
  %w = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %w to %v : !tile.buffer<64x64xbf16, mram> to !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.copy: MRAM cannot be read by a copy, only by tile.gemm (its B operand)

// -----

tile.kernel @k grid() args() {
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %w = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.copy %v to %w : !tile.buffer<64x64xbf16, vram> to !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.copy: MRAM can only be written from HBM (H_PREFETCH_M), not from vram

// -----

tile.kernel @k grid() args(%y : !tile.tensor<64xf32>) {
  %m = tile.alloc : !tile.buffer<64xf32, ?>
  tile.copy %m to %y : !tile.buffer<64xf32, ?> to !tile.tensor<64xf32>
}
// CHECK: tile.copy: fpram cannot be copied to HBM directly: copy it to a VRAM buffer first

// -----

// Copies: shapes and offsets

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<32x64xbf16, vram>
  tile.copy %x[0, 0] sizes [64, 64] to %v : !tile.tensor<128x64xf32> to !tile.buffer<32x64xbf16, vram>
}
// CHECK: tile.copy: shape of the region of src (64x64) does not match dst (32x64)

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x32xbf16, vram>
  tile.copy %a to %b : !tile.buffer<64x64xbf16, vram> to !tile.buffer<64x32xbf16, vram>
}
// CHECK: tile.copy: shape of src (64x64) does not match dst (64x32)

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x[96, 0] to %v : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.copy: offset 96 + size 64 is out of bounds for dimension 0 of src (128x64)

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x[0] to %v : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.copy: src has rank 2 (128x64) but 1 offsets

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x[0, 0] sizes [64, 64, 1] to %v : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.copy: src has rank 2 (128x64) but 3 sizes

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x[0, 0] sizes [0, 64] to %v : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.copy: sizes of src must be positive, got [0, 64]

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<128x64xbf16, vram>
  tile.copy %x sizes [64, 64] to %v : !tile.tensor<128x64xf32> to !tile.buffer<128x64xbf16, vram>
}
// CHECK: tile.copy: src has sizes but no offsets

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128x64xf32>) {
  %v = tile.alloc : !tile.buffer<128x64xbf16, vram>
  tile.copy %x[0, 0] to %v[0, 0] : !tile.tensor<128x64xf32> to !tile.buffer<128x64xbf16, vram>
}
// CHECK: tile.copy: both sides are sliced: give the sizes of one of them

// -----

tile.kernel @k grid() args(%x : !tile.tensor<128xf32>) {
  %v = tile.alloc : !tile.buffer<2x64xbf16, vram>
  tile.copy %v to %x[0] : !tile.buffer<2x64xbf16, vram> to !tile.tensor<128xf32>
}
// CHECK: tile.copy: the extent 2x64 of src does not fit the rank 1 of dst: give the sizes of dst

// -----

tile.kernel @k grid() args() {
  %w = tile.alloc : !tile.buffer<64x64xbf16, mram>
  %one = arith.constant 1.0 : f32
  tile.fill %w, %one : !tile.buffer<64x64xbf16, mram>, f32
}
// CHECK: tile.fill: dst must be in vram or fpram, got mram (!tile.buffer<64x64xbf16, mram>)

// -----

// gemm

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: K of a (128) does not match K of b (64)

// -----

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<32x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] : !tile.buffer<32x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: M of a (64) does not match M of c (32)

// -----

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<64x32xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] : !tile.buffer<64x32xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: N of b (64) does not match N of c (32)

// -----

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %c[m, n] = %a[m, m] * %b[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: role 'm' is used twice in a [m, m]

// -----

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %c[m, n] = %a[m, n] * %b[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: a (!tile.buffer<64x64xbf16, vram>) must have one role per dimension, m and k, got [m, n]

// -----

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %c[m, n] = %a[m, x] * %b[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: unknown role 'x' in a [m, x]: roles are m, k, n

// -----

tile.kernel @k grid() args() {
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.gemm %c[m, n] = %a[m, k] * %b[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.gemm: b must be in mram, got vram (!tile.buffer<64x64xbf16, vram>)

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.gemm %a[m, n] += %a[m, k] * %b[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.gemm: c must be a buffer distinct from a and b

// -----

// Vector ops

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x32xbf16, vram>
  tile.add %a, %a, %b : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x32xbf16, vram>
}
// CHECK: tile.add: shape of rhs (64x32) does not match dst (64x64)

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x32xbf16, vram>
  tile.exp %a, %b : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x32xbf16, vram>
}
// CHECK: tile.exp: shape of src (64x32) does not match dst (64x64)

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %w = tile.alloc : !tile.buffer<64x64xbf16, mram>
  tile.mul %a, %a, %w : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, mram>
}
// CHECK: tile.mul: rhs must be in vram, got mram (!tile.buffer<64x64xbf16, mram>)

// -----

tile.kernel @k grid() args() {
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.reci %m, %m : !tile.buffer<64xf32, fpram>
}
// CHECK: tile.reci: dst must be in vram, got fpram (!tile.buffer<64xf32, fpram>)

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %m = tile.alloc : !tile.buffer<32xf32, fpram>
  tile.mul_scalar %a, %a, %m : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<32xf32, fpram>
}
// CHECK: tile.mul_scalar: the scalar operand has 32 entries but dst has 64 rows: give one scalar per row or one for all rows

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.add_scalar %a, %a, %a : !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.add_scalar: scalar must be in fpram, got vram (!tile.buffer<64x64xbf16, vram>)

// -----

tile.kernel @k grid() args(%s : f32) {
  %c0 = arith.constant 0 : index
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.sub_scalar %a, %a, %s[%c0] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
}
// CHECK: tile.sub_scalar: scalar is an f32 value and cannot be indexed

// -----

tile.kernel @k grid() args() {
  %c64 = arith.constant 64 : index
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.rsub_scalar %a, %a, %m[%c64] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64xf32, fpram>
}
// CHECK: tile.rsub_scalar: index 64 of scalar is out of bounds for !tile.buffer<64xf32, fpram>

// -----

tile.kernel @k grid() args() {
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %m = tile.alloc : !tile.buffer<32xf32, fpram>
  tile.reduce_max %m, %a : !tile.buffer<32xf32, fpram>, !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.reduce_max: acc has 32 entries but src has 64 rows: acc needs one entry per row

// -----

tile.kernel @k grid() args() {
  %c0 = arith.constant 0 : index
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.reduce_sum %m[%c0], %a accumulate : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
}
// CHECK: tile.reduce_sum: acc has one element but src has 64 rows: acc needs one entry per row

// -----

// Scalar FP ops

tile.kernel @k grid() args(%s : f32) {
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.fp_add %s, %m, %m : f32, !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>
}
// CHECK: tile.fp_add: dst must be an fpram buffer, got f32 (an SSA value is read-only)

// -----

tile.kernel @k grid() args() {
  %c0 = arith.constant 0 : index
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.fp_mul %m[%c0], %m, %m[%c0] : !tile.buffer<64xf32, fpram>
}
// CHECK: tile.fp_mul: dst is one element but lhs has 64 entries: index lhs too

// -----

tile.kernel @k grid() args() {
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  %l = tile.alloc : !tile.buffer<32xf32, fpram>
  tile.fp_max %m, %m, %l : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, !tile.buffer<32xf32, fpram>
}
// CHECK: tile.fp_max: rhs has 32 entries but dst has 64

// -----

tile.kernel @k grid() args() {
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  %v = tile.alloc : !tile.buffer<1x64xbf16, vram>
  tile.fp_exp %m, %v : !tile.buffer<64xf32, fpram>, !tile.buffer<1x64xbf16, vram>
}
// CHECK: tile.fp_exp: src must be in fpram, got vram (!tile.buffer<1x64xbf16, vram>)
