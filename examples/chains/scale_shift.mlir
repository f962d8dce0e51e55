// A chain of two kernels in one module: `plena-run examples/chains/scale_shift.mlir
// --scalar s=0.5` links it (plena-link-kernels), runs it and checks `out`, every element,
// against the chain interpreter; `--stages` checks the intermediate h too.
//
//   h   = scale(x, s)           x * s, then * 2.0 (a constant of @scale)
//   out = shift(h) + 1.0        written through a view: out is 32x128, @shift sees 64x64
//
// x is read before any call writes it, so plena-run gives it random values; out starts as
// zeros; h is an intermediate the linker places in HBM; the f32 argument s needs --scalar.

builtin.module {
  tile.kernel @scale grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>, %s : f32) {
    %two = arith.constant 2.000000e+00 : f32
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.mul_scalar %t, %t, %s : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
    tile.mul_scalar %t, %t, %two : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.kernel @shift grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>) {
    %one = arith.constant 1.000000e+00 : f32
    %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
    tile.add_scalar %t, %t, %one : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
    tile.copy %t to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
  }
  tile.chain @scale_shift args(%x : !tile.tensor<64x64xf32>, %out : !tile.tensor<32x128xf32>, %s : f32) {
    %h = tile.hbm_tensor "h" : !tile.tensor<64x64xf32>
    tile.call @scale(%x, %h, %s) stage "scale" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>, f32) -> ()
    %out_view = tile.view %out : !tile.tensor<32x128xf32> to !tile.tensor<64x64xf32>
    tile.call @shift(%h, %out_view) stage "shift" : (!tile.tensor<64x64xf32>, !tile.tensor<64x64xf32>) -> ()
  }
}
