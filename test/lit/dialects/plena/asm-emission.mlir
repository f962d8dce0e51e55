// RUN: plena-opt %s --split-input-file --verify-diagnostics -t plena-asm | filecheck %s

// Straight-line code: every operand form, ignored fields printed as the assembler expects.

// CHECK:      S_ADDI_INT gp1, gp0, 64
// CHECK-NEXT: S_LUI_INT gp2, 16
// CHECK-NEXT: C_SET_ADDR_REG a1, gp0, gp2
// CHECK-NEXT: H_PREFETCH_V gp1, gp0, a1, 1, 0
// CHECK-NEXT: M_MM 0, gp2, gp1
// CHECK-NEXT: M_BTMM gp0, gp2, gp1
// CHECK-NEXT: M_MM_WO gp1, gp0, 0
// CHECK-NEXT: V_SUB_VF gp1, gp1, f1, 1, 1
// CHECK-NEXT: V_RED_MAX f1, gp1, 0
// CHECK-NEXT: S_EXP_FP f2, f1
// CHECK-NEXT: S_ST_FP f2, gp0, 3  ; keep the row max
// CHECK-NEXT: C_BREAK
// CHECK-NEXT: {{//}} -----
%gp0 = plena.get_register : !plena.gp<gp0>
%f1 = plena.get_register : !plena.fp<f1>
%gp1 = plena.s_addi_int %gp0, 64 : (!plena.gp<gp0>) -> !plena.gp<gp1>
%gp2 = plena.s_lui_int 16 : !plena.gp<gp2>
%a1 = plena.c_set_addr_reg %gp0, %gp2 : (!plena.gp<gp0>, !plena.gp<gp2>) -> !plena.areg<a1>
plena.h_prefetch_v %gp1, %gp0, %a1, rstride 1, precision 0 : !plena.gp<gp1>, !plena.gp<gp0>, !plena.areg<a1>
plena.m_mm %gp2, %gp1 : !plena.gp<gp2>, !plena.gp<gp1>
plena.m_btmm %gp2, %gp1 : !plena.gp<gp2>, !plena.gp<gp1>
plena.m_mm_wo %gp1, %gp0, 0 : !plena.gp<gp1>, !plena.gp<gp0>
plena.v_sub_vf %gp1, %gp1, %f1, rmask 1, reverse 1 : !plena.gp<gp1>, !plena.gp<gp1>, !plena.fp<f1>
%max = plena.v_red_max %f1, %gp1, rmask 0 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
%e = plena.s_exp_fp %max : (!plena.fp<f1>) -> !plena.fp<f2>
plena.s_st_fp %e, %gp0, 3 {comment = "keep the row max"} : !plena.fp<f2>, !plena.gp<gp0>
plena.c_break

// -----

// Hardware loops: nested bodies are indented, loop-carried values print nothing.

// CHECK:      ; sum 4 x 2 rows
// CHECK-NEXT: C_LOOP_START gp3, 4
// CHECK-NEXT:     S_ADDI_INT gp1, gp3, 0
// CHECK-NEXT:     C_LOOP_START gp4, 2
// CHECK-NEXT:         V_RED_SUM f1, gp1, 0
// CHECK-NEXT:         S_ADDI_INT gp1, gp1, 64
// CHECK-NEXT:     C_LOOP_END gp4
// CHECK-NEXT: C_LOOP_END gp3
// CHECK-NEXT: S_ST_FP f1, gp0, 0
// CHECK-NEXT: {{//}} -----
%gp0 = plena.get_register : !plena.gp<gp0>
%f1 = plena.get_register : !plena.fp<f1>
plena.comment "sum 4 x 2 rows"
%sum = plena.loop %i : !plena.gp<gp3> = 4 iter_args(%acc = %f1) -> (!plena.fp<f1>) {
  %row0 = plena.s_addi_int %i, 0 : (!plena.gp<gp3>) -> !plena.gp<gp1>
  %acc2, %row2 = plena.loop %j : !plena.gp<gp4> = 2 iter_args(%a = %acc, %row = %row0) -> (!plena.fp<f1>, !plena.gp<gp1>) {
    %a2 = plena.v_red_sum %a, %row, rmask 0 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
    %next = plena.s_addi_int %row, 64 : (!plena.gp<gp1>) -> !plena.gp<gp1>
    plena.yield %a2, %next : !plena.fp<f1>, !plena.gp<gp1>
  }
  plena.yield %acc2 : !plena.fp<f1>
}
plena.s_st_fp %sum, %gp0, 0 : !plena.fp<f1>, !plena.gp<gp0>

// -----

// Emission needs allocated registers: it names the op that has none.

// CHECK-NEXT: cannot emit plena.s_add_int: register operand 'dst' is !plena.gp, not a physical register; allocate registers first
%gp0 = plena.get_register : !plena.gp<gp0>
%x = plena.s_add_int %gp0, %gp0 : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.gp
