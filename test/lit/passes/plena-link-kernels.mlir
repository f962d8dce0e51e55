// RUN: plena-opt %s -p plena-link-kernels | filecheck %s
// RUN: plena-opt %s -p plena-link-kernels -t plena-asm | filecheck %s --check-prefix=ASM
// RUN: plena-opt %s -p 'plena-link-kernels{reuse-intermediates=false}' | filecheck %s --check-prefix=OWN

// A chain of four calls of two kernels.  HBM: the chain's tensor arguments back to back from
// byte 0 (a 64x64 tensor is 4096 element bytes + 512 scale bytes MX-packed: x at 0, out at
// 4608), the intermediates above them by liveness in calls: a lives over calls 0-1, b over
// 1-2, c over 2-3, so c takes a's bytes (9216); with reuse-intermediates=false c has its own.
// The view %cv of c (32x128 as 64x64, the same bytes) has c's address: "third" writes it and
// "fourth" reads it at 9216.  "first" writes a at 9216 and "second" reads it there (producer
// output = consumer input).  FPRAM: one constant pool for the whole chain: 3.0 (bound by the
// chain to @scale's %s: slot 0, where "first" loads %s), @scale's 0.5 (slot 1) and @shift's
// 2.0 (slot 2, shared by "second" and "third"); the chain's f32 argument %alpha gets entry 32,
// right after the 32 pool slots, and "fourth" loads its %s there.

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
  tile.chain @block args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<64x64xf32>, %alpha : f32) {
    %a = tile.hbm_tensor "a" : !tile.tensor<64x64xf32>
    %b = tile.hbm_tensor "b" : !tile.tensor<64x64xf32>
    %c = tile.hbm_tensor "c" : !tile.tensor<32x128xf32>
    %three = arith.constant 3.000000e+00 : f32
    tile.call @scale(%x, %a, %three) stage "first" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>, f32) -> ()
    tile.call @shift(%a, %b) stage "second" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
    %cv = tile.view %c : !tile.tensor<32x128xf32> to !tile.tensor<64x64xf32>
    tile.call @shift(%b, %cv) stage "third" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
    tile.call @scale(%cv, %out, %alpha) stage "fourth" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>, f32) -> ()
  }
}

// CHECK:      builtin.module attributes {plena.kernel = {name = "block",
// CHECK-SAME: hbm_addresses = {x = 0 : i64, out = 4608 : i64},
// CHECK-SAME: fpram_arguments = {alpha = 32 : i64},
// CHECK-SAME: intermediates = {a = 9216 : i64, b = 13824 : i64, c = 9216 : i64},
// CHECK-SAME: stages = [{name = "first", kernel = "scale", first = 0 : i64, end = [[E1:[0-9]+]] : i64},
// CHECK-SAME: {name = "second", kernel = "shift", first = [[E1]] : i64, end = [[E2:[0-9]+]] : i64},
// CHECK-SAME: {name = "third", kernel = "shift", first = [[E2]] : i64, end = [[E3:[0-9]+]] : i64},
// CHECK-SAME: {name = "fourth", kernel = "scale", first = [[E3]] : i64, end = {{[0-9]+}} : i64}]},
// CHECK-SAME: plena.fpram_pool = {slots = 32 : i64, constants = [3.000000e+00 : f32, 5.000000e-01 : f32, 2.000000e+00 : f32]}}
// CHECK-NOT:  tile.
// CHECK:      plena.comment "stage first (@scale): instructions 0 .. [[E1]]"
// CHECK-NOT:  tile.

// OWN: intermediates = {a = 9216 : i64, b = 13824 : i64, c = 18432 : i64}

// ASM-LABEL: ; stage first (@scale)
// ASM:       C_SET_ADDR_REG a0, gp0, gp0
// ASM-NEXT:  H_PREFETCH_V
// ASM:       S_LD_FP [[S:f[0-9]+]], gp0, 0
// ASM:       V_MUL_VF {{.*}}, [[S]], 0
// ASM:       S_LD_FP [[HALF:f[0-9]+]], gp0, 1
// ASM:       V_MUL_VF {{.*}}, [[HALF]], 0
// ASM:       S_ADDI_INT [[A:gp[0-9]+]], gp0, 9216
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[A]]
// ASM-NEXT:  H_STORE_V
// ASM-LABEL: ; stage second (@shift)
// ASM:       S_ADDI_INT [[A2:gp[0-9]+]], gp0, 9216
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[A2]]
// ASM-NEXT:  H_PREFETCH_V
// ASM:       S_LD_FP {{f[0-9]+}}, gp0, 2
// ASM:       S_ADDI_INT [[B:gp[0-9]+]], gp0, 13824
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[B]]
// ASM-NEXT:  H_STORE_V
// ASM-LABEL: ; stage third (@shift)
// ASM:       S_ADDI_INT [[B2:gp[0-9]+]], gp0, 13824
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[B2]]
// ASM-NEXT:  H_PREFETCH_V
// ASM:       S_LD_FP {{f[0-9]+}}, gp0, 2
// ASM:       S_ADDI_INT [[C:gp[0-9]+]], gp0, 9216
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[C]]
// ASM-NEXT:  H_STORE_V
// ASM-LABEL: ; stage fourth (@scale)
// ASM:       S_ADDI_INT [[C2:gp[0-9]+]], gp0, 9216
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[C2]]
// ASM-NEXT:  H_PREFETCH_V
// ASM:       S_LD_FP [[ALPHA:f[0-9]+]], gp0, 32
// ASM:       V_MUL_VF {{.*}}, [[ALPHA]], 0
// ASM:       S_LD_FP {{f[0-9]+}}, gp0, 1
// ASM:       S_ADDI_INT [[OUT:gp[0-9]+]], gp0, 4608
// ASM-NEXT:  C_SET_ADDR_REG a0, gp0, [[OUT]]
// ASM-NEXT:  H_STORE_V
