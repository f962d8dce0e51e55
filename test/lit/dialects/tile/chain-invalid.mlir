// RUN: plena-opt %s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// Calls

builtin.module {
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @missing(%x) stage "s" : (!tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.call @missing (stage 's'): there is no tile.kernel @missing

// -----

builtin.module {
  tile.chain @other args() {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @other(%x) stage "s" : (!tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.call @other (stage 's'): @other is a tile.chain, not a kernel

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>, %b : !tile.tensor<64xf32>) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @k(%x) stage "s" : (!tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.call @k (stage 's'): the kernel takes 2 arguments (a, b), got 1

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>, %b : !tile.tensor<8x8xf32>) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @k(%x, %x) stage "s" : (!tile.tensor<64xf32>, !tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.call @k (stage 's'): argument 'b' must be !tile.tensor<8x8xf32>, got !tile.tensor<64xf32>

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>, %eps : f32) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @k(%x, %x) stage "s" : (!tile.tensor<64xf32>, !tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.call @k (stage 's'): argument 'eps' must be f32, got !tile.tensor<64xf32>

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @k(%x) stage "s" : (!tile.tensor<64xf32>) -> ()
    tile.call @k(%x) stage "s" : (!tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.chain @c: the stage 's' is used twice

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    tile.call @k(%x) stage "first stage" : (!tile.tensor<64xf32>) -> ()
  }
}
// CHECK: tile.chain @c: 'first stage' is not a valid stage

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    // CHECK: tile.call has no results: its type ends in '-> ()'
    tile.call @k(%x) stage "s" : (!tile.tensor<64xf32>) -> (f32)
  }
}

// -----

builtin.module {
  tile.kernel @k grid() args(%a : !tile.tensor<64xf32>) {
  }
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    // CHECK: expected 2 operand types but had 1
    tile.call @k(%x) stage "s" : (!tile.tensor<64xf32>, !tile.tensor<64xf32>) -> ()
  }
}

// -----

tile.kernel @k grid() args(%a : !tile.tensor<64xf32>) {
  tile.call @k(%a) stage "s" : (!tile.tensor<64xf32>) -> ()
}
// CHECK: tile.call must be in a tile.chain, not in tile.kernel

// -----

// Views

builtin.module {
  tile.chain @c args(%x : !tile.tensor<128x128xf32>) {
    %v = tile.view %x : !tile.tensor<128x128xf32> to !tile.tensor<128x64xf32>
  }
}
// CHECK: tile.view: 128x128xf32 (16384 elements) to 128x64xf32 (8192 elements): a view relabels the same bytes, so it keeps the element count and the element type; a part of a tensor or a concatenation is another tensor: copy it with a kernel (s_split, s_concat, concat)

// -----

builtin.module {
  tile.chain @c args(%x : !tile.tensor<128x128xf32>) {
    %v = tile.view %x : !tile.tensor<128x128xf32> to !tile.tensor<128x8x16xbf16>
  }
}
// CHECK: tile.view: 128x128xf32 (16384 elements) to 128x8x16xbf16 (16384 elements): a view relabels the same bytes, so it keeps the element count and the element type

// -----

tile.kernel @k grid() args(%a : !tile.tensor<64xf32>) {
  %v = tile.view %a : !tile.tensor<64xf32> to !tile.tensor<8x8xf32>
}
// CHECK: tile.view must be in a tile.chain, not in tile.kernel

// -----

// Intermediate tensors

tile.kernel @k grid() args() {
  %t = tile.hbm_tensor "t" : !tile.tensor<64xf32>
}
// CHECK: tile.hbm_tensor must be in a tile.chain, not in tile.kernel

// -----

builtin.module {
  tile.chain @c args(%x : !tile.tensor<64xf32>) {
    %t = tile.hbm_tensor "x" : !tile.tensor<64xf32>
  }
}
// CHECK: tile.chain @c: the name 'x' is used twice

// -----

builtin.module {
  tile.chain @c args() {
    %t = tile.hbm_tensor "2nd" : !tile.tensor<64xf32>
  }
}
// CHECK: tile.hbm_tensor: '2nd' is not a valid name

// -----

// Chains

builtin.module {
  tile.chain @c args(%n : index) {
  }
}
// CHECK: tile.chain @c: argument 'n' must be an HBM tensor (!tile.tensor) or an f32 scalar, got index

// -----

builtin.module {
  tile.chain @c args() {
    %two = arith.constant 2 : i32
  }
}
// CHECK: tile.chain @c: a constant in a chain is an f32 kernel argument, got i32

// -----

builtin.module {
  tile.chain @c args() {
    %b = tile.alloc : !tile.buffer<64x64xbf16, vram>
  }
}
// CHECK: tile.chain @c: tile.alloc cannot be in a chain, only tile.hbm_tensor, tile.view, tile.call and f32 arith.constant

// -----

"tile.chain"() <{sym_name = "c", arg_names = ["x"]}> ({
^bb0(%x: !tile.tensor<64xf32>, %y: !tile.tensor<64xf32>):
}) : () -> ()
// CHECK: tile.chain @c: 1 argument names for 2 block arguments

// -----

"tile.chain"() <{sym_name = "c", arg_names = ["x", "x"]}> ({
^bb0(%x: !tile.tensor<64xf32>, %y: !tile.tensor<64xf32>):
}) : () -> ()
// CHECK: tile.chain @c: the name 'x' is used twice
