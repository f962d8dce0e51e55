// RUN: plena-opt %s -t plena-bin | filecheck %s

// The words the published TVM assembler produces for these lines (plena-isa-tvm.md A1.3,
// "Encoded examples"), plus C_LOOP_END gp13 = 0x30 | 13 << 6.

// CHECK:      0x080000A2
// CHECK-NEXT: 0x0000136F
// CHECK-NEXT: 0x0020ADA9
// CHECK-NEXT: 0x0401DED0
// CHECK-NEXT: 0x0000D055
// CHECK-NEXT: 0x000FA002
// CHECK-NEXT: 0x000004C6
// CHECK-NEXT: 0x00000370
// CHECK-NOT:  {{.}}

%gp0 = plena.get_register : !plena.gp<gp0>
%gp15 = plena.get_register : !plena.gp<gp15>
%gp19 = plena.get_register : !plena.gp<gp19>
%gp20 = plena.get_register : !plena.gp<gp20>
%gp21 = plena.get_register : !plena.gp<gp21>
%gp22 = plena.get_register : !plena.gp<gp22>
%gp26 = plena.get_register : !plena.gp<gp26>
%gp27 = plena.get_register : !plena.gp<gp27>
%f1 = plena.get_register : !plena.fp<f1>
%a0 = plena.get_register : !plena.areg<a0>
// S_ADDI_INT gp2, gp0, 2048
%gp2 = plena.s_addi_int %gp0, 2048 : (!plena.gp<gp0>) -> !plena.gp<gp2>
// C_LOOP_START gp13, 2
plena.loop %c : !plena.gp<gp13> = 2 {
  // H_PREFETCH_V gp22, gp21, a0, 1, 0
  plena.h_prefetch_v %gp22, %gp21, %a0, rstride 1, precision 0 : !plena.gp<gp22>, !plena.gp<gp21>, !plena.areg<a0>
  // V_SUB_VF gp27, gp27, f1, 0, 1
  plena.v_sub_vf %gp27, %gp27, %f1, rmask 0, reverse 1 : !plena.gp<gp27>, !plena.gp<gp27>, !plena.fp<f1>
  // V_RED_SUM f1, gp26, 0
  %sum = plena.v_red_sum %f1, %gp26, rmask 0 : (!plena.fp<f1>, !plena.gp<gp26>) -> !plena.fp<f1>
  // M_TMM 0, gp20, gp15
  plena.m_tmm %gp20, %gp15 : !plena.gp<gp20>, !plena.gp<gp15>
  // M_MM_WO gp19, gp0, 0
  plena.m_mm_wo %gp19, %gp0, 0 : !plena.gp<gp19>, !plena.gp<gp0>
}
// C_LOOP_END gp13
