// RUN: PLENA_ROUNDTRIP
// RUN: plena-opt %s --split-input-file --print-op-generic | plena-opt --split-input-file | filecheck %s
// RUN: plena-opt %s --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// A chain in custom syntax: chain arguments (tensors and an f32), an intermediate HBM tensor,
// an f32 constant, calls of two kernels and a view; the generic form of every chain op.

builtin.module attributes {plena.target = #plena.target<"plena-tvm">} {
  tile.kernel @scale grid(%block = 2) args(%x : !tile.tensor<128x128xf32>, %y : !tile.tensor<128x128xf32>, %s : f32) {
  }
  tile.kernel @heads grid(%head = 8 lane) args(%x : !tile.tensor<1x128x8x16xf32>, %y : !tile.tensor<128x8x16xf32>) {
  }
  tile.chain @block args(%x : !tile.tensor<128x128xf32>, %out : !tile.tensor<128x8x16xf32>, %eps : f32) {
    %h = tile.hbm_tensor "h" : !tile.tensor<128x128xf32>
    %half = arith.constant 5.000000e-01 : f32
    tile.call @scale(%x, %h, %half) stage "scale" : (!tile.tensor<128x128xf32>, !tile.tensor<128x128xf32>, f32) -> ()
    tile.call @scale(%h, %h, %eps) stage "rescale" {note = "in place"} : (!tile.tensor<128x128xf32>, !tile.tensor<128x128xf32>, f32) -> ()
    %h4 = tile.view %h : !tile.tensor<128x128xf32> to !tile.tensor<1x128x8x16xf32>
    tile.call @heads(%h4, %out) stage "heads" : (!tile.tensor<1x128x8x16xf32>, !tile.tensor<128x8x16xf32>) -> ()
  }
}

// CHECK:      tile.kernel @heads grid(%head = 8 lane) args(%x : !tile.tensor<1x128x8x16xf32>, %y : !tile.tensor<128x8x16xf32>) {
// CHECK-NEXT: }
// CHECK-NEXT: tile.chain @block args(%x : !tile.tensor<128x128xf32>, %out : !tile.tensor<128x8x16xf32>, %eps : f32) {
// CHECK-NEXT:   %h = tile.hbm_tensor "h" : !tile.tensor<128x128xf32>
// CHECK-NEXT:   %half = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:   tile.call @scale(%x, %h, %half) stage "scale" : (!tile.tensor<128x128xf32>, !tile.tensor<128x128xf32>, f32) -> ()
// CHECK-NEXT:   tile.call @scale(%h, %h, %eps) stage "rescale" {note = "in place"} : (!tile.tensor<128x128xf32>, !tile.tensor<128x128xf32>, f32) -> ()
// CHECK-NEXT:   %h4 = tile.view %h : !tile.tensor<128x128xf32> to !tile.tensor<1x128x8x16xf32>
// CHECK-NEXT:   tile.call @heads(%h4, %out) stage "heads" : (!tile.tensor<1x128x8x16xf32>, !tile.tensor<128x8x16xf32>) -> ()
// CHECK-NEXT: }

// GENERIC:      "tile.chain"() <{sym_name = "block", arg_names = ["x", "out", "eps"]}> ({
// GENERIC-NEXT: ^bb0(%x: !tile.tensor<128x128xf32>, %out: !tile.tensor<128x8x16xf32>, %eps: f32):
// GENERIC-NEXT:   %h = "tile.hbm_tensor"() <{tensor_name = "h"}> : () -> !tile.tensor<128x128xf32>
// GENERIC-NEXT:   %half = "arith.constant"() <{value = 5.000000e-01 : f32}> : () -> f32
// GENERIC-NEXT:   "tile.call"(%x, %h, %half) <{callee = @scale, stage = "scale"}> : (!tile.tensor<128x128xf32>, !tile.tensor<128x128xf32>, f32) -> ()
// GENERIC-NEXT:   "tile.call"(%h, %h, %eps) <{callee = @scale, stage = "rescale"}> {note = "in place"} : (!tile.tensor<128x128xf32>, !tile.tensor<128x128xf32>, f32) -> ()
// GENERIC-NEXT:   %h4 = "tile.view"(%h) : (!tile.tensor<128x128xf32>) -> !tile.tensor<1x128x8x16xf32>
// GENERIC-NEXT:   "tile.call"(%h4, %out) <{callee = @heads, stage = "heads"}> : (!tile.tensor<1x128x8x16xf32>, !tile.tensor<128x8x16xf32>) -> ()
// GENERIC-NEXT: }) : () -> ()

// -----

// A chain without arguments or calls, with attributes; a view to the same shape; an
// intermediate with another element type.

builtin.module {
  tile.chain @empty args() attributes {note = "nothing to run"} {
    %t = tile.hbm_tensor "t" : !tile.tensor<64xbf16>
    %u = tile.view %t : !tile.tensor<64xbf16> to !tile.tensor<64xbf16>
  }
}
// CHECK:      tile.chain @empty args() attributes {note = "nothing to run"} {
// CHECK-NEXT:   %t = tile.hbm_tensor "t" : !tile.tensor<64xbf16>
// CHECK-NEXT:   %u = tile.view %t : !tile.tensor<64xbf16> to !tile.tensor<64xbf16>
// CHECK-NEXT: }
// GENERIC:      "tile.chain"() <{sym_name = "empty", arg_names = []}> ({
// GENERIC-NEXT:   %t = "tile.hbm_tensor"() <{tensor_name = "t"}> : () -> !tile.tensor<64xbf16>
// GENERIC-NEXT:   %u = "tile.view"(%t) : (!tile.tensor<64xbf16>) -> !tile.tensor<64xbf16>
// GENERIC-NEXT: }) {note = "nothing to run"} : () -> ()
