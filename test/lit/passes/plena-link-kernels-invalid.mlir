// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-link-kernels | filecheck %s
// RUN: plena-opt %s --split-input-file --verify-diagnostics -p 'plena-link-kernels{fpram-constant-slots=2}' | filecheck %s --check-prefix=POOL

// An intermediate read before any call writes it: "first" reads %h, which nothing wrote.

builtin.module {
  tile.kernel @copy grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>) {
    %h = tile.hbm_tensor "h" : !tile.tensor<64x64xf32>
    tile.call @copy(%h, %out) stage "first" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
    tile.call @copy(%x, %h) stage "second" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}

// CHECK: stage "first" (@copy) reads the intermediate tensor h (as its argument %x) before any stage writes it: an intermediate holds nothing until a call writes it; make it a chain argument if the host provides it

// -----

// HBM overflow (a target with 16384 bytes of HBM): the arguments take [0, 9216), a takes
// [9216, 13824), and b, live with a at "second", needs 4608 bytes more.

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {hbm_bytes = 16384}>} {
  tile.kernel @copy grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>) {
    %a = tile.hbm_tensor "a" : !tile.tensor<64x64xf32>
    %b = tile.hbm_tensor "b" : !tile.tensor<64x64xf32>
    tile.call @copy(%x, %a) stage "first" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
    tile.call @copy(%a, %b) stage "second" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
    tile.call @copy(%b, %out) stage "third" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}

// CHECK: tile.chain @block: the intermediate tensor b (64x64xf32, 4608 bytes) does not fit in HBM: the target has 16384 bytes, the chain arguments take bytes [0, 9216), the intermediates live at the same time take 4608 bytes above them (a (64x64xf32, 4608 bytes))

// -----

// A chain argument past the end of HBM (a target with 8192 bytes).

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {hbm_bytes = 8192}>} {
  tile.kernel @copy grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>) {
    tile.call @copy(%x, %out) stage "only" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}

// CHECK: tile.chain @block: argument tensor %out (64x64xf32) does not fit in HBM: placed at byte 4608 and taking 4608 bytes MX-packed, the tensors up to it need 9216 bytes of HBM, the target has only 8192

// -----

// A kernel's VRAM buffer that does not fit (a target with 80 VRAM rows, the top 16 the
// lowering's staging rows): the error names the stage, the kernel and the buffer.

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {vram_rows = 80}>} {
  tile.kernel @copy grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.kernel @twice grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    %u = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.add %u, %t, %t : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>
    tile.copy %u to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>) {
    %h = tile.hbm_tensor "h" : !tile.tensor<64x64xf32>
    tile.call @copy(%x, %h) stage "load" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
    tile.call @twice(%h, %out) stage "double" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}

// CHECK: stage "double" (@twice): tile.alloc %u (64x64xbf16, vram) does not fit in VRAM: it needs 64 VRAM rows; 64 VRAM rows are available (VRAM has 80 rows, the top 16 are the lowering's staging rows, vram-base=0), 64 of them taken by buffers live at the same time (tile.alloc %t (64x64xbf16, vram))

// -----

// The FPRAM constant pool shared by the chain (2 slots with fpram-constant-slots=2): 3.0
// (bound by the chain) and @scale's 0.5 fill it, @shift's 2.0 finds no slot.

builtin.module {
  tile.kernel @scale grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>, %s : f32) {
    %half = arith.constant 5.000000e-01 : f32
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.mul_scalar %t, %t, %s : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
    tile.mul_scalar %t, %t, %half : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.kernel @shift grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %two = arith.constant 2.000000e+00 : f32
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.add_scalar %t, %t, %two : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>) {
    %a = tile.hbm_tensor "a" : !tile.tensor<64x64xf32>
    %three = arith.constant 3.000000e+00 : f32
    tile.call @scale(%x, %a, %three) stage "first" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>, f32) -> ()
    tile.call @shift(%a, %out) stage "second" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}

// POOL: stage "second" (@shift): the FPRAM constant pool is full: 2 slots hold 2 constants, no room for 2.0

// -----

// A module without a chain, and one with two.

builtin.module {
  tile.kernel @copy grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
}

// CHECK: plena-link-kernels: the module must hold exactly one tile.chain (the program), got 0

// -----

builtin.module {
  tile.kernel @copy grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @one args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    tile.call @copy(%x, %y) stage "a" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
  tile.chain @two args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    tile.call @copy(%x, %y) stage "a" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}

// CHECK: plena-link-kernels: the module must hold exactly one tile.chain (the program), got 2 (@one, @two)
