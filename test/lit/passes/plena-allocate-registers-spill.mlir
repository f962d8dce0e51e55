// RUN: plena-opt %s --split-input-file -p plena-allocate-registers -t plena-asm | filecheck %s

// Under pressure (gp_registers = 5: gp1..gp4), values read inside a loop but defined before it
// are stored to IntRAM BEFORE the loop (by default the top 256 words, from 768) and only
// reloaded inside;
// the loop counter and the carried accumulator keep their registers for the whole loop.
// Constants are recomputed where they are read instead of spilled.

// CHECK:      S_LD_INT [[X0:gp[0-9]+]], gp0, 256
// CHECK-NEXT: S_ST_INT [[X0]], gp0, [[SLOT0:768]]  ; spill
// CHECK:      S_ST_INT {{gp[0-9]+}}, gp0, [[SLOT1:[0-9]+]]  ; spill
// CHECK:      C_LOOP_START [[C:gp[0-9]+]], 8
// CHECK-NOT:      S_ST_INT
// CHECK:          S_LD_INT {{gp[0-9]+}}, gp0, [[SLOT0]]  ; reload
// CHECK-NOT:      S_ST_INT
// CHECK:          S_LD_INT {{gp[0-9]+}}, gp0, [[SLOT1]]  ; reload
// CHECK-NOT:      S_ST_INT
// CHECK:      C_LOOP_END [[C]]
// CHECK-NEXT: S_ST_INT {{gp[0-9]+}}, gp0, 0

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_registers = 5}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  %x0 = plena.s_ld_int %zero, 256 : (!plena.gp<gp0>) -> !plena.gp
  %x1 = plena.s_ld_int %zero, 257 : (!plena.gp<gp0>) -> !plena.gp
  %x2 = plena.s_ld_int %zero, 258 : (!plena.gp<gp0>) -> !plena.gp
  %x3 = plena.s_ld_int %zero, 259 : (!plena.gp<gp0>) -> !plena.gp
  %init = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
  %acc = plena.loop %i : !plena.gp = 8 iter_args(%a = %init) -> (!plena.gp) {
    %s0 = plena.s_add_int %a, %x0 : (!plena.gp, !plena.gp) -> !plena.gp
    %s1 = plena.s_add_int %s0, %x1 : (!plena.gp, !plena.gp) -> !plena.gp
    %s2 = plena.s_add_int %s1, %x2 : (!plena.gp, !plena.gp) -> !plena.gp
    %s3 = plena.s_add_int %s2, %x3 : (!plena.gp, !plena.gp) -> !plena.gp
    plena.yield %s3 : !plena.gp
  }
  plena.s_st_int %acc, %zero, 0 : !plena.gp, !plena.gp<gp0>
}

// -----

// FP values spill to the FPRAM window given by the options.
// RUN: plena-opt %s --split-input-file -p 'plena-allocate-registers{fpram-spill-base=4096 fpram-spill-slots=8}' -t plena-asm | filecheck %s --check-prefix=FP

// FP:     S_ST_FP {{f[1-7]}}, gp0, {{(409[6-9]|410[0-3])}}  ; spill
// FP:     C_LOOP_START
// FP-NOT:     S_ST_FP
// FP:         S_LD_FP {{f[1-7]}}, gp0, {{(409[6-9]|410[0-3])}}  ; reload
// FP-NOT:     S_ST_FP
// FP:     C_LOOP_END

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {fp_registers = 4}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  %f0 = plena.s_ld_fp %zero, 0 : (!plena.gp<gp0>) -> !plena.fp
  %f1 = plena.s_ld_fp %zero, 1 : (!plena.gp<gp0>) -> !plena.fp
  %f2 = plena.s_ld_fp %zero, 2 : (!plena.gp<gp0>) -> !plena.fp
  %f3 = plena.s_ld_fp %zero, 3 : (!plena.gp<gp0>) -> !plena.fp
  %r = plena.loop %i : !plena.gp = 4 iter_args(%a = %f0) -> (!plena.fp) {
    %m0 = plena.s_mul_fp %a, %f1 : (!plena.fp, !plena.fp) -> !plena.fp
    %m1 = plena.s_add_fp %m0, %f2 : (!plena.fp, !plena.fp) -> !plena.fp
    %m2 = plena.s_add_fp %m1, %f3 : (!plena.fp, !plena.fp) -> !plena.fp
    plena.yield %m2 : !plena.fp
  }
  plena.s_st_fp %r, %zero, 8 : !plena.fp, !plena.gp<gp0>
  plena.s_st_fp %f1, %zero, 9 : !plena.fp, !plena.gp<gp0>
}
