; RUN: plena-opt %s | filecheck %s
; RUN: plena-opt %s | plena-opt -t plena-asm | filecheck %s --check-prefix=ASM
; RUN: plena-opt %s -t plena-bin | filecheck %s --check-prefix=BIN
; RUN: plena-opt %s --plena-target plena-tvm | filecheck %s --check-prefix=TARGET

; Importing assembly: comments (`;` and `//`) and blank lines are skipped, registers become
; typed SSA values, a read of a register not written earlier in the block goes through
; plena.get_register, and C_LOOP_START/C_LOOP_END pairs become plena.loop.

// Set up a row address.
S_ADDI_INT gp1, gp0, 0x40      ; hex immediates are accepted

s_lui_int gp2, 3               ; so are lower-case mnemonics
C_LOOP_START gp3, 4
    V_ADD_VV gp1, gp1, gp2, 0
    S_ADDI_INT gp1, gp1, 64
    V_RED_SUM f1, gp1, 0
    S_EXP_FP f2, f1, 0         ; the trailing literal the TVM compiler prints is dropped
C_LOOP_END gp3
S_ADD_INT gp4, gp3, gp1

; CHECK:      builtin.module {
; CHECK-NEXT:   %0 = plena.get_register : !plena.gp<gp0>
; CHECK-NEXT:   %1 = plena.s_addi_int %0, 64 : (!plena.gp<gp0>) -> !plena.gp<gp1>
; CHECK-NEXT:   %2 = plena.s_lui_int 3 : !plena.gp<gp2>
; CHECK-NEXT:   plena.loop %3 : !plena.gp<gp3> = 4 {
; CHECK-NEXT:     %4 = plena.get_register : !plena.gp<gp1>
; CHECK-NEXT:     %5 = plena.get_register : !plena.gp<gp2>
; CHECK-NEXT:     plena.v_add_vv %4, %4, %5, rmask 0 : !plena.gp<gp1>, !plena.gp<gp1>, !plena.gp<gp2>
; CHECK-NEXT:     %6 = plena.s_addi_int %4, 64 : (!plena.gp<gp1>) -> !plena.gp<gp1>
; CHECK-NEXT:     %7 = plena.get_register : !plena.fp<f1>
; CHECK-NEXT:     %8 = plena.v_red_sum %7, %6, rmask 0 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
; CHECK-NEXT:     %9 = plena.s_exp_fp %8 : (!plena.fp<f1>) -> !plena.fp<f2>
; CHECK-NEXT:   }
; CHECK-NEXT:   %10 = plena.get_register : !plena.gp<gp3>
; CHECK-NEXT:   %11 = plena.get_register : !plena.gp<gp1>
; CHECK-NEXT:   %12 = plena.s_add_int %10, %11 : (!plena.gp<gp3>, !plena.gp<gp1>) -> !plena.gp<gp4>
; CHECK-NEXT: }

; TARGET: builtin.module attributes {plena.target = #plena.target<"plena-tvm">} {

; ASM:      S_ADDI_INT gp1, gp0, 64
; ASM-NEXT: S_LUI_INT gp2, 3
; ASM-NEXT: C_LOOP_START gp3, 4
; ASM-NEXT:     V_ADD_VV gp1, gp1, gp2, 0
; ASM-NEXT:     S_ADDI_INT gp1, gp1, 64
; ASM-NEXT:     V_RED_SUM f1, gp1, 0
; ASM-NEXT:     S_EXP_FP f2, f1
; ASM-NEXT: C_LOOP_END gp3
; ASM-NEXT: S_ADD_INT gp4, gp3, gp1
; ASM-NOT:  {{.}}

; BIN:      0x00400062
; BIN-NEXT: 0x000018A5
; BIN-NEXT: 0x000020EF
; BIN-NEXT: 0x0002084D
; BIN-NEXT: 0x00400862
; BIN-NEXT: 0x00000855
; BIN-NEXT: 0x0000089B
; BIN-NEXT: 0x000000F0
; BIN-NEXT: 0x00011921
; BIN-NOT:  {{.}}
