// Plain xdsl-opt sees the plena dialect and targets through the xdsl.universe entry point.

// RUN: xdsl-opt %s | filecheck %s --check-prefix=IR
// RUN: xdsl-opt %s -t plena-asm | filecheck %s --check-prefix=ASM
// RUN: xdsl-opt %s -t plena-bin | filecheck %s --check-prefix=BIN

%gp0 = plena.get_register : !plena.gp<gp0>
%gp2 = plena.s_addi_int %gp0, 2048 : (!plena.gp<gp0>) -> !plena.gp<gp2>
plena.loop %c : !plena.gp<gp13> = 2 {
  plena.c_set_scale_reg %gp2 : !plena.gp<gp2>
}

// IR:      %gp2 = plena.s_addi_int %gp0, 2048 : (!plena.gp<gp0>) -> !plena.gp<gp2>
// IR-NEXT: plena.loop %c : !plena.gp<gp13> = 2 {

// ASM:      S_ADDI_INT gp2, gp0, 2048
// ASM-NEXT: C_LOOP_START gp13, 2
// ASM-NEXT:     C_SET_SCALE_REG gp2
// ASM-NEXT: C_LOOP_END gp13

// BIN:      0x080000A2
// BIN-NEXT: 0x0000136F
// BIN-NEXT: 0x000000AC
// BIN-NEXT: 0x00000370
