// RUN: PLENA_ROUNDTRIP
// RUN: plena-opt %s --split-input-file --print-op-generic | plena-opt --split-input-file | filecheck %s
// RUN: plena-opt %s --split-input-file --print-op-generic | plena-opt --split-input-file --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every instruction op, on allocated registers.

// CHECK-LABEL:  builtin.module {
// GENERIC-LABEL: "builtin.module"() ({
%g1 = plena.get_register : !plena.gp<gp1>
%g2 = plena.get_register : !plena.gp<gp2>
%g3 = plena.get_register : !plena.gp<gp3>
%f1 = plena.get_register : !plena.fp<f1>
%f2 = plena.get_register : !plena.fp<f2>
%a0 = plena.get_register : !plena.areg<a0>
// CHECK-NEXT:     %g1 = plena.get_register : !plena.gp<gp1>
// CHECK-NEXT:     %g2 = plena.get_register : !plena.gp<gp2>
// CHECK-NEXT:     %g3 = plena.get_register : !plena.gp<gp3>
// CHECK-NEXT:     %f1 = plena.get_register : !plena.fp<f1>
// CHECK-NEXT:     %f2 = plena.get_register : !plena.fp<f2>
// CHECK-NEXT:     %a0 = plena.get_register : !plena.areg<a0>
// GENERIC:        %g1 = "plena.get_register"() : () -> !plena.gp<gp1>
plena.m_mm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_mm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_tmm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_tmm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_tmm_a %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_tmm_a %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_bmm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_bmm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_btmm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_btmm %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_bmm_wo %g1, 0 : !plena.gp<gp1>
// CHECK-NEXT:     plena.m_bmm_wo %g1, 0 : !plena.gp<gp1>
plena.m_mm_wo %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_mm_wo %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_mv %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_mv %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_tmv %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.m_tmv %g1, %g2 : !plena.gp<gp1>, !plena.gp<gp2>
plena.m_bmv %g1, %g2, %g3 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
// CHECK-NEXT:     plena.m_bmv %g1, %g2, %g3 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
plena.m_btmv %g1, %g2, %g3 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
// CHECK-NEXT:     plena.m_btmv %g1, %g2, %g3 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
plena.m_mv_wo %g1, 0 : !plena.gp<gp1>
// CHECK-NEXT:     plena.m_mv_wo %g1, 0 : !plena.gp<gp1>
plena.m_bmv_wo %g1, 0 : !plena.gp<gp1>
// CHECK-NEXT:     plena.m_bmv_wo %g1, 0 : !plena.gp<gp1>
plena.v_add_vv %g1, %g2, %g3, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
// CHECK-NEXT:     plena.v_add_vv %g1, %g2, %g3, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
plena.v_add_vf %g1, %g2, %f1, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>
// CHECK-NEXT:     plena.v_add_vf %g1, %g2, %f1, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>
plena.v_sub_vv %g1, %g2, %g3, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
// CHECK-NEXT:     plena.v_sub_vv %g1, %g2, %g3, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
plena.v_sub_vf %g1, %g2, %f1, rmask 1, reverse 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>
// CHECK-NEXT:     plena.v_sub_vf %g1, %g2, %f1, rmask 1, reverse 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>
plena.v_mul_vv %g1, %g2, %g3, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
// CHECK-NEXT:     plena.v_mul_vv %g1, %g2, %g3, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.gp<gp3>
plena.v_mul_vf %g1, %g2, %f1, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>
// CHECK-NEXT:     plena.v_mul_vf %g1, %g2, %f1, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>
plena.v_exp_v %g1, %g2, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.v_exp_v %g1, %g2, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>
plena.v_reci_v %g1, %g2, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.v_reci_v %g1, %g2, rmask 1 : !plena.gp<gp1>, !plena.gp<gp2>
%v_red_sum = plena.v_red_sum %f1, %g1, rmask 1 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
// CHECK-NEXT:     %v_red_sum = plena.v_red_sum %f1, %g1, rmask 1 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
%v_red_max = plena.v_red_max %f1, %g1, rmask 1 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
// CHECK-NEXT:     %v_red_max = plena.v_red_max %f1, %g1, rmask 1 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
%s_add_fp = plena.s_add_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_add_fp = plena.s_add_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
%s_sub_fp = plena.s_sub_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_sub_fp = plena.s_sub_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
%s_max_fp = plena.s_max_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_max_fp = plena.s_max_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
%s_mul_fp = plena.s_mul_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_mul_fp = plena.s_mul_fp %f1, %f2 : (!plena.fp<f1>, !plena.fp<f2>) -> !plena.fp<f3>
%s_exp_fp = plena.s_exp_fp %f1 : (!plena.fp<f1>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_exp_fp = plena.s_exp_fp %f1 : (!plena.fp<f1>) -> !plena.fp<f3>
%s_reci_fp = plena.s_reci_fp %f1 : (!plena.fp<f1>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_reci_fp = plena.s_reci_fp %f1 : (!plena.fp<f1>) -> !plena.fp<f3>
%s_sqrt_fp = plena.s_sqrt_fp %f1 : (!plena.fp<f1>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_sqrt_fp = plena.s_sqrt_fp %f1 : (!plena.fp<f1>) -> !plena.fp<f3>
%s_ld_fp = plena.s_ld_fp %g1, 8 : (!plena.gp<gp1>) -> !plena.fp<f3>
// CHECK-NEXT:     %s_ld_fp = plena.s_ld_fp %g1, 8 : (!plena.gp<gp1>) -> !plena.fp<f3>
plena.s_st_fp %f1, %g1, 8 : !plena.fp<f1>, !plena.gp<gp1>
// CHECK-NEXT:     plena.s_st_fp %f1, %g1, 8 : !plena.fp<f1>, !plena.gp<gp1>
plena.s_map_v_fp %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.s_map_v_fp %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
plena.s_map_fp_v %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.s_map_fp_v %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
%s_add_int = plena.s_add_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_add_int = plena.s_add_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
%s_addi_int = plena.s_addi_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_addi_int = plena.s_addi_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
%s_sub_int = plena.s_sub_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_sub_int = plena.s_sub_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
%s_mul_int = plena.s_mul_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_mul_int = plena.s_mul_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
%s_lui_int = plena.s_lui_int 8 : !plena.gp<gp4>
// CHECK-NEXT:     %s_lui_int = plena.s_lui_int 8 : !plena.gp<gp4>
%s_ld_int = plena.s_ld_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_ld_int = plena.s_ld_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
plena.s_st_int %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
// CHECK-NEXT:     plena.s_st_int %g1, %g2, 8 : !plena.gp<gp1>, !plena.gp<gp2>
%s_sll_int = plena.s_sll_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_sll_int = plena.s_sll_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
%s_slli_int = plena.s_slli_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_slli_int = plena.s_slli_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
%s_srl_int = plena.s_srl_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_srl_int = plena.s_srl_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
%s_srli_int = plena.s_srli_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_srli_int = plena.s_srli_int %g1, 8 : (!plena.gp<gp1>) -> !plena.gp<gp4>
%s_div_int = plena.s_div_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_div_int = plena.s_div_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
%s_rem_int = plena.s_rem_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
// CHECK-NEXT:     %s_rem_int = plena.s_rem_int %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.gp<gp4>
plena.h_prefetch_m %g1, %g2, %a0, rstride 1, precision 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>
// CHECK-NEXT:     plena.h_prefetch_m %g1, %g2, %a0, rstride 1, precision 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>
plena.h_prefetch_v %g1, %g2, %a0, rstride 1, precision 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>
// CHECK-NEXT:     plena.h_prefetch_v %g1, %g2, %a0, rstride 1, precision 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>
plena.h_store_v %g1, %g2, %a0, rstride 1, precision 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>
// CHECK-NEXT:     plena.h_store_v %g1, %g2, %a0, rstride 1, precision 1 : !plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>
%c_set_addr_reg = plena.c_set_addr_reg %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.areg<a1>
// CHECK-NEXT:     %c_set_addr_reg = plena.c_set_addr_reg %g1, %g2 : (!plena.gp<gp1>, !plena.gp<gp2>) -> !plena.areg<a1>
plena.c_set_scale_reg %g1 : !plena.gp<gp1>
// CHECK-NEXT:     plena.c_set_scale_reg %g1 : !plena.gp<gp1>
plena.c_set_stride_reg %g1 : !plena.gp<gp1>
// CHECK-NEXT:     plena.c_set_stride_reg %g1 : !plena.gp<gp1>
plena.c_set_v_mask_reg %g1 : !plena.gp<gp1>
// CHECK-NEXT:     plena.c_set_v_mask_reg %g1 : !plena.gp<gp1>
plena.c_break
// CHECK-NEXT:     plena.c_break

// GENERIC:      "plena.m_mm"(%g1, %g2) : (!plena.gp<gp1>, !plena.gp<gp2>) -> ()
// GENERIC:      "plena.m_bmm_wo"(%g1) <{imm = 0 : i64}> : (!plena.gp<gp1>) -> ()
// GENERIC:      "plena.v_sub_vf"(%g1, %g2, %f1) <{rmask = 1 : i64, reverse = 1 : i64}> : (!plena.gp<gp1>, !plena.gp<gp2>, !plena.fp<f1>) -> ()
// GENERIC:      %v_red_sum = "plena.v_red_sum"(%f1, %g1) <{rmask = 1 : i64}> : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
// GENERIC:      %s_lui_int = "plena.s_lui_int"() <{imm = 8 : i64}> : () -> !plena.gp<gp4>
// GENERIC:      "plena.h_store_v"(%g1, %g2, %a0) <{rstride = 1 : i64, precision = 1 : i64}> : (!plena.gp<gp1>, !plena.gp<gp2>, !plena.areg<a0>) -> ()
// GENERIC:      "plena.c_break"() : () -> ()

// -----

// Unallocated and virtual registers; a trailing comment attribute.

// CHECK-LABEL:  builtin.module {
%u, %v = "test.op"() : () -> (!plena.gp, !plena.gp<gj_0>)
%w = plena.s_add_int %u, %v : (!plena.gp, !plena.gp<gj_0>) -> !plena.gp
%y = "test.op"() : () -> !plena.fp<fj_3>
%x = plena.s_exp_fp %y : (!plena.fp<fj_3>) -> !plena.fp
%z = plena.c_set_addr_reg %u, %w {comment = "a1 = base"} : (!plena.gp, !plena.gp) -> !plena.areg
plena.h_prefetch_v %w, %u, %z, rstride 0, precision 0 : !plena.gp, !plena.gp, !plena.areg
// CHECK-NEXT:     %u, %v = "test.op"() : () -> (!plena.gp, !plena.gp<gj_0>)
// CHECK-NEXT:     %w = plena.s_add_int %u, %v : (!plena.gp, !plena.gp<gj_0>) -> !plena.gp
// CHECK-NEXT:     %y = "test.op"() : () -> !plena.fp<fj_3>
// CHECK-NEXT:     %x = plena.s_exp_fp %y : (!plena.fp<fj_3>) -> !plena.fp
// CHECK-NEXT:     %z = plena.c_set_addr_reg %u, %w {comment = "a1 = base"} : (!plena.gp, !plena.gp) -> !plena.areg
// CHECK-NEXT:     plena.h_prefetch_v %w, %u, %z, rstride 0, precision 0 : !plena.gp, !plena.gp, !plena.areg
// CHECK-NEXT:   }
// GENERIC:      "plena.c_set_addr_reg"(%u, %w) {comment = "a1 = base"} : (!plena.gp, !plena.gp) -> !plena.areg

// -----

// Hardware loops, with and without loop-carried values; comments.

// CHECK-LABEL:  builtin.module {
%zero = plena.get_register : !plena.gp<gp0>
%acc0 = plena.get_register : !plena.fp<f1>
plena.comment "reduce 8 rows"
%acc = plena.loop %i : !plena.gp<gp5> = 8 iter_args(%a = %acc0) -> (!plena.fp<f1>) {
  %row = plena.s_addi_int %zero, 64 : (!plena.gp<gp0>) -> !plena.gp<gp2>
  %next = plena.v_red_sum %a, %row, rmask 0 : (!plena.fp<f1>, !plena.gp<gp2>) -> !plena.fp<f1>
  plena.loop %j : !plena.gp<gp6> = 2097151 {
    plena.c_set_v_mask_reg %i : !plena.gp<gp5>
  }
  plena.yield %next : !plena.fp<f1>
}
plena.loop %k : !plena.gp = 1 {
}
// CHECK-NEXT:     %zero = plena.get_register : !plena.gp<gp0>
// CHECK-NEXT:     %acc0 = plena.get_register : !plena.fp<f1>
// CHECK-NEXT:     plena.comment "reduce 8 rows"
// CHECK-NEXT:     %acc = plena.loop %i : !plena.gp<gp5> = 8 iter_args(%a = %acc0) -> (!plena.fp<f1>) {
// CHECK-NEXT:       %row = plena.s_addi_int %zero, 64 : (!plena.gp<gp0>) -> !plena.gp<gp2>
// CHECK-NEXT:       %next = plena.v_red_sum %a, %row, rmask 0 : (!plena.fp<f1>, !plena.gp<gp2>) -> !plena.fp<f1>
// CHECK-NEXT:       plena.loop %j : !plena.gp<gp6> = 2097151 {
// CHECK-NEXT:         plena.c_set_v_mask_reg %i : !plena.gp<gp5>
// CHECK-NEXT:       }
// CHECK-NEXT:       plena.yield %next : !plena.fp<f1>
// CHECK-NEXT:     }
// CHECK-NEXT:     plena.loop %k : !plena.gp = 1 {
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// GENERIC:      "plena.comment"() <{text = "reduce 8 rows"}> : () -> ()
// GENERIC:      %acc = "plena.loop"(%acc0) <{count = 8 : i64}> ({
// GENERIC-NEXT: ^bb0(%i: !plena.gp<gp5>, %a: !plena.fp<f1>):
// GENERIC:        "plena.yield"() : () -> ()
// GENERIC:        "plena.yield"(%next) : (!plena.fp<f1>) -> ()
// GENERIC-NEXT: }) : (!plena.fp<f1>) -> !plena.fp<f1>
