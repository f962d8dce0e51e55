// RUN: plena-opt %s -p plena-allocate-registers | filecheck %s
// RUN: plena-opt %s -p plena-allocate-registers | plena-opt -t plena-asm | filecheck %s --check-prefix=ASM

// A kernel-like program, as convert-lane-to-plena writes it: constants from gp0, a 2-deep loop
// nest over 2 tiles x 4 rows carrying the row addresses and a row-sum accumulator, vector ops.
//   out[r] = a[r] + b;  acc += sum(out[r])
// Every carried value keeps one register through both loops, the V_RED_SUM accumulator is
// updated in place, the two counters differ, and no copy is left.

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_registers = 16}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  %fzero = plena.get_register : !plena.fp<f0>
  %a = plena.s_addi_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
  %hi = plena.s_lui_int 1 : !plena.gp
  %b = plena.s_addi_int %hi, 64 : (!plena.gp) -> !plena.gp
  %out = plena.s_addi_int %zero, 8192 : (!plena.gp<gp0>) -> !plena.gp
  %acc0 = plena.s_add_fp %fzero, %fzero : (!plena.fp<f0>, !plena.fp<f0>) -> !plena.fp
  %tiles:3 = plena.loop %t : !plena.gp = 2 iter_args(%ta = %a, %to = %out, %tacc = %acc0) -> (!plena.gp, !plena.gp, !plena.fp) {
    %rows:3 = plena.loop %r : !plena.gp = 4 iter_args(%x = %ta, %o = %to, %racc = %tacc) -> (!plena.gp, !plena.gp, !plena.fp) {
      plena.v_add_vv %o, %x, %b, rmask 0 : !plena.gp, !plena.gp, !plena.gp
      %sum = plena.v_red_sum %racc, %o, rmask 0 : (!plena.fp, !plena.gp) -> !plena.fp
      %xn = plena.s_addi_int %x, 64 : (!plena.gp) -> !plena.gp
      %on = plena.s_addi_int %o, 64 : (!plena.gp) -> !plena.gp
      plena.yield %xn, %on, %sum : !plena.gp, !plena.gp, !plena.fp
    }
    plena.yield %rows#0, %rows#1, %rows#2 : !plena.gp, !plena.gp, !plena.fp
  }
  plena.s_st_fp %tiles#2, %zero, 0 : !plena.fp, !plena.gp<gp0>
}

// CHECK:      %a = plena.s_addi_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp<[[A:gp[0-9]+]]>
// CHECK-NEXT: %hi = plena.s_lui_int 1 : !plena.gp<[[HI:gp[0-9]+]]>
// CHECK-NEXT: %b = plena.s_addi_int %hi, 64 : (!plena.gp<[[HI]]>) -> !plena.gp<[[B:gp[0-9]+]]>
// CHECK-NEXT: %out = plena.s_addi_int %zero, 8192 : (!plena.gp<gp0>) -> !plena.gp<[[O:gp[0-9]+]]>
// CHECK-NEXT: %acc0 = plena.s_add_fp %fzero, %fzero : (!plena.fp<f0>, !plena.fp<f0>) -> !plena.fp<[[ACC:f[1-7]]]>
// CHECK-NEXT: %tiles, %tiles_1, %tiles_2 = plena.loop %t : !plena.gp<[[T:gp[0-9]+]]> = 2 iter_args(%ta = %a, %to = %out, %tacc = %acc0) -> (!plena.gp<[[A]]>, !plena.gp<[[O]]>, !plena.fp<[[ACC]]>) {
// CHECK-NEXT:   %rows, %rows_1, %rows_2 = plena.loop %r : !plena.gp<[[R:gp[0-9]+]]> = 4 iter_args(%x = %ta, %o = %to, %racc = %tacc) -> (!plena.gp<[[A]]>, !plena.gp<[[O]]>, !plena.fp<[[ACC]]>) {
// CHECK-NEXT:     plena.v_add_vv %o, %x, %b, rmask 0 : !plena.gp<[[O]]>, !plena.gp<[[A]]>, !plena.gp<[[B]]>
// CHECK-NEXT:     %sum = plena.v_red_sum %racc, %o, rmask 0 : (!plena.fp<[[ACC]]>, !plena.gp<[[O]]>) -> !plena.fp<[[ACC]]>
// CHECK-NEXT:     %xn = plena.s_addi_int %x, 64 : (!plena.gp<[[A]]>) -> !plena.gp<[[A]]>
// CHECK-NEXT:     %on = plena.s_addi_int %o, 64 : (!plena.gp<[[O]]>) -> !plena.gp<[[O]]>
// CHECK-NEXT:     plena.yield %xn, %on, %sum : !plena.gp<[[A]]>, !plena.gp<[[O]]>, !plena.fp<[[ACC]]>
// CHECK-NEXT:   }
// CHECK-NEXT:   plena.yield %rows, %rows_1, %rows_2 : !plena.gp<[[A]]>, !plena.gp<[[O]]>, !plena.fp<[[ACC]]>
// CHECK-NEXT: }
// CHECK-NEXT: plena.s_st_fp %tiles_2, %zero, 0 : !plena.fp<[[ACC]]>, !plena.gp<gp0>

// ASM:      S_ADDI_INT gp1, gp0, 0
// ASM-NEXT: S_LUI_INT gp2, 1
// ASM-NEXT: S_ADDI_INT gp2, gp2, 64
// ASM-NEXT: S_ADDI_INT gp3, gp0, 8192
// ASM-NEXT: S_ADD_FP f1, f0, f0
// ASM-NEXT: C_LOOP_START gp4, 2
// ASM-NEXT:     C_LOOP_START gp5, 4
// ASM-NEXT:         V_ADD_VV gp3, gp1, gp2, 0
// ASM-NEXT:         V_RED_SUM f1, gp3, 0
// ASM-NEXT:         S_ADDI_INT gp1, gp1, 64
// ASM-NEXT:         S_ADDI_INT gp3, gp3, 64
// ASM-NEXT:     C_LOOP_END gp5
// ASM-NEXT: C_LOOP_END gp4
// ASM-NEXT: S_ST_FP f1, gp0, 0
