// RUN: plena-opt %s --split-input-file -p plena-optimize-scalar | filecheck %s
// RUN: plena-opt %s --split-input-file -p 'plena-optimize-scalar{unroll-max-iterations=0}' | filecheck %s --check-prefix=NOUNROLL

// Constant folding: u32 wrap, shift amounts & 31, DIV/REM by zero (0 / the dividend),
// S_LUI_INT; the results are legalised again.
// CHECK-LABEL: builtin.module {
// CHECK-NEXT:    %zero = plena.get_register : !plena.gp<gp0>
//                 (2^32 - 1) + 2 = 1, and (2^32 - 1)^2 = 1 (mod 2^32): one shared constant
// CHECK-NEXT:    %wrap = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %wrap, %zero, 0
//                 0 - 2 = 0xFFFFFFFE = (0xFFFFF << 12) + 0xFFE
// CHECK-NEXT:    %under = plena.s_lui_int 1048575 : !plena.gp
// CHECK-NEXT:    %under_1 = plena.s_addi_int %under, 4094 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %under_1, %zero, 1
// CHECK-NEXT:    plena.s_st_int %wrap, %zero, 2
//                 2 << (33 & 31) = 4
// CHECK-NEXT:    %shl = plena.s_addi_int %zero, 4 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %shl, %zero, 3
//                 x / 0 = 0 is gp0 itself; 2 % 0 = 2
// CHECK-NEXT:    plena.s_st_int %zero, %zero, 4
// CHECK-NEXT:    %rem0 = plena.s_addi_int %zero, 2 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %rem0, %zero, 5
//                 (16 << 12) + 7 = 65543 does not fit 16 bits
// CHECK-NEXT:    %sum = plena.s_lui_int 16 : !plena.gp
// CHECK-NEXT:    %sum_1 = plena.s_addi_int %sum, 7 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %sum_1, %zero, 6
// CHECK-NEXT:  }
%zero = plena.get_register : !plena.gp<gp0>
%max = plena.li 4294967295 : !plena.gp
%two = plena.li 2 : !plena.gp
%wrap = plena.s_add_int %max, %two : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %wrap, %zero, 0 : !plena.gp, !plena.gp<gp0>
%under = plena.s_sub_int %zero, %two : (!plena.gp<gp0>, !plena.gp) -> !plena.gp
plena.s_st_int %under, %zero, 1 : !plena.gp, !plena.gp<gp0>
%big = plena.s_mul_int %max, %max : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %big, %zero, 2 : !plena.gp, !plena.gp<gp0>
%shl = plena.s_slli_int %two, 33 : (!plena.gp) -> !plena.gp
plena.s_st_int %shl, %zero, 3 : !plena.gp, !plena.gp<gp0>
%div0 = plena.s_div_int %max, %zero : (!plena.gp, !plena.gp<gp0>) -> !plena.gp
plena.s_st_int %div0, %zero, 4 : !plena.gp, !plena.gp<gp0>
%rem0 = plena.s_rem_int %two, %zero : (!plena.gp, !plena.gp<gp0>) -> !plena.gp
plena.s_st_int %rem0, %zero, 5 : !plena.gp, !plena.gp<gp0>
%lui = plena.s_lui_int 16 : !plena.gp
%sum = plena.s_addi_int %lui, 7 : (!plena.gp) -> !plena.gp
plena.s_st_int %sum, %zero, 6 : !plena.gp, !plena.gp<gp0>

// -----

// Algebraic simplification around an unknown %x: x + 0, 1 * x, x << 32 are x; x * 0 and
// x - x are 0; x * 8 and x / 8 are shifts; (100 + x) + 50 is one S_ADDI_INT.
// CHECK-LABEL: builtin.module {
// CHECK-NEXT:    %zero = plena.get_register : !plena.gp<gp0>
// CHECK-NEXT:    %x = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %x, %zero, 1 : !plena.gp, !plena.gp<gp0>
// CHECK-NEXT:    plena.s_st_int %zero, %zero, 2 : !plena.gp<gp0>, !plena.gp<gp0>
// CHECK-NEXT:    %mul8 = plena.s_slli_int %x, 3 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %mul8, %zero, 3
// CHECK-NEXT:    %div8 = plena.s_srli_int %x, 3 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %div8, %zero, 4
// CHECK-NEXT:    %add150 = plena.s_addi_int %x, 150 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %add150, %zero, 5
// CHECK-NEXT:    plena.s_st_int %zero, %zero, 6 : !plena.gp<gp0>, !plena.gp<gp0>
// CHECK-NEXT:  }
%zero = plena.get_register : !plena.gp<gp0>
%x = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
%c0 = plena.li 0 : !plena.gp
%c1 = plena.li 1 : !plena.gp
%c8 = plena.li 8 : !plena.gp
%c100 = plena.li 100 : !plena.gp
%add0 = plena.s_add_int %x, %c0 : (!plena.gp, !plena.gp) -> !plena.gp
%mul1 = plena.s_mul_int %c1, %add0 : (!plena.gp, !plena.gp) -> !plena.gp
%shl0 = plena.s_slli_int %mul1, 32 : (!plena.gp) -> !plena.gp
plena.s_st_int %shl0, %zero, 1 : !plena.gp, !plena.gp<gp0>
%mul0 = plena.s_mul_int %x, %c0 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %mul0, %zero, 2 : !plena.gp, !plena.gp<gp0>
%mul8 = plena.s_mul_int %x, %c8 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %mul8, %zero, 3 : !plena.gp, !plena.gp<gp0>
%div8 = plena.s_div_int %x, %c8 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %div8, %zero, 4 : !plena.gp, !plena.gp<gp0>
%add100 = plena.s_add_int %c100, %x : (!plena.gp, !plena.gp) -> !plena.gp
%add150 = plena.s_addi_int %add100, 50 : (!plena.gp) -> !plena.gp
plena.s_st_int %add150, %zero, 5 : !plena.gp, !plena.gp<gp0>
%self = plena.s_sub_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %self, %zero, 6 : !plena.gp, !plena.gp<gp0>

// -----

// CSE: identical pure computations in one block (%b is %a) and from an enclosing block (%c
// in the loop is %a; %e is %d); the second INTRAM load stays because stores intervene.
// CHECK-LABEL: builtin.module {
// CHECK:         %a = plena.s_slli_int %x, 6 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %a, %zero, 1
// CHECK-NEXT:    plena.s_st_int %a, %zero, 2
// CHECK-NEXT:    %y = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %y, %zero, 3
// CHECK-NEXT:    plena.loop %i : !plena.gp = 8 {
// CHECK-NEXT:      %d = plena.s_add_int %a, %i : (!plena.gp, !plena.gp) -> !plena.gp
// CHECK-NEXT:      plena.s_st_int %d, %d, 0 : !plena.gp, !plena.gp
// CHECK-NEXT:    }
%zero = plena.get_register : !plena.gp<gp0>
%x = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
%a = plena.s_slli_int %x, 6 : (!plena.gp) -> !plena.gp
%b = plena.s_slli_int %x, 6 : (!plena.gp) -> !plena.gp
plena.s_st_int %a, %zero, 1 : !plena.gp, !plena.gp<gp0>
plena.s_st_int %b, %zero, 2 : !plena.gp, !plena.gp<gp0>
%y = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
plena.s_st_int %y, %zero, 3 : !plena.gp, !plena.gp<gp0>
plena.loop %i : !plena.gp = 8 {
  %c = plena.s_slli_int %x, 6 : (!plena.gp) -> !plena.gp
  %d = plena.s_add_int %c, %i : (!plena.gp, !plena.gp) -> !plena.gp
  %e = plena.s_add_int %c, %i : (!plena.gp, !plena.gp) -> !plena.gp
  plena.s_st_int %d, %e, 0 : !plena.gp, !plena.gp
}

// -----

// LICM: base * 4096 leaves both loops, scaled + row leaves the inner loop only (row is
// carried by the outer loop); what reads the inner counter or INTRAM stays.
// CHECK-LABEL: builtin.module {
// CHECK:         %scaled = plena.s_slli_int %base, 12 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    %r = plena.loop %i : !plena.gp = 8 iter_args(%row = %init) -> (!plena.gp) {
// CHECK-NEXT:      %rowaddr = plena.s_add_int %scaled, %row : (!plena.gp, !plena.gp) -> !plena.gp
// CHECK-NEXT:      plena.loop %j : !plena.gp = 16 {
// CHECK-NEXT:        %addr = plena.s_add_int %rowaddr, %j : (!plena.gp, !plena.gp) -> !plena.gp
// CHECK-NEXT:        %v = plena.s_ld_int %base, 1 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:        plena.s_st_int %v, %addr, 0 : !plena.gp, !plena.gp
// CHECK-NEXT:      }
// CHECK-NEXT:      %next = plena.s_addi_int %row, 64 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:      plena.yield %next : !plena.gp
// CHECK-NEXT:    }
%zero = plena.get_register : !plena.gp<gp0>
%base = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
%init = plena.li 0 : !plena.gp
%r = plena.loop %i : !plena.gp = 8 iter_args(%row = %init) -> (!plena.gp) {
  plena.loop %j : !plena.gp = 16 {
    %stride = plena.li 4096 : !plena.gp
    %scaled = plena.s_mul_int %base, %stride : (!plena.gp, !plena.gp) -> !plena.gp
    %rowaddr = plena.s_add_int %scaled, %row : (!plena.gp, !plena.gp) -> !plena.gp
    %addr = plena.s_add_int %rowaddr, %j : (!plena.gp, !plena.gp) -> !plena.gp
    %v = plena.s_ld_int %base, 1 : (!plena.gp) -> !plena.gp
    plena.s_st_int %v, %addr, 0 : !plena.gp, !plena.gp
  }
  %next = plena.s_addi_int %row, 64 : (!plena.gp) -> !plena.gp
  plena.yield %next : !plena.gp
}
plena.s_st_int %r, %zero, 2 : !plena.gp, !plena.gp<gp0>

// -----

// Immediate legalisation at the boundaries: 0 read by an instruction is gp0, 65535 is one
// S_ADDI_INT (here folded into the store's immediate), 65536 = 16 << 12 one S_LUI_INT,
// 65537 and 2^32 - 1 S_LUI_INT + S_ADDI_INT.  A zero initial value of a loop needs a
// register of its own: S_ADDI_INT gp0, 0.
// CHECK-LABEL: builtin.module {
// CHECK-NEXT:    %zero = plena.get_register : !plena.gp<gp0>
// CHECK-NEXT:    %c0 = plena.s_addi_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    %c65536 = plena.s_lui_int 16 : !plena.gp
// CHECK-NEXT:    %c65537 = plena.s_addi_int %c65536, 1 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    %cmax = plena.s_lui_int 1048575 : !plena.gp
// CHECK-NEXT:    %cmax_1 = plena.s_addi_int %cmax, 4095 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %zero, %zero, 65535 : !plena.gp<gp0>, !plena.gp<gp0>
// CHECK-NEXT:    plena.s_st_int %c65536, %c65537, 0 : !plena.gp, !plena.gp
// CHECK-NEXT:    plena.c_set_stride_reg %cmax_1 : !plena.gp
// CHECK-NEXT:    %r = plena.loop %i : !plena.gp = 8 iter_args(%acc = %c0) -> (!plena.gp) {
// CHECK-NOT:   plena.li
%zero = plena.get_register : !plena.gp<gp0>
%c0 = plena.li 0 : !plena.gp
%c65535 = plena.li 65535 : !plena.gp
%c65536 = plena.li 65536 : !plena.gp
%c65537 = plena.li 65537 : !plena.gp
%cmax = plena.li 4294967295 : !plena.gp
plena.s_st_int %c0, %c65535, 0 : !plena.gp, !plena.gp
plena.s_st_int %c65536, %c65537, 0 : !plena.gp, !plena.gp
plena.c_set_stride_reg %cmax : !plena.gp
%r = plena.loop %i : !plena.gp = 8 iter_args(%acc = %c0) -> (!plena.gp) {
  %n = plena.s_add_int %acc, %i : (!plena.gp, !plena.gp) -> !plena.gp
  plena.yield %n : !plena.gp
}
plena.s_st_int %r, %zero, 0 : !plena.gp, !plena.gp<gp0>

// -----

// Redundant state writes.  Removed: the repeated V_MASK write; the STRIDE write in the loop
// (STRIDE is 1 before the loop and the only write inside writes 1 too); V_MASK = 0 after the
// loop (every iteration ends with that write).  Kept: the V_MASK writes inside the loop (the
// body writes both %m and 0, so V_MASK is unknown at its top); STRIDE = 1 after STRIDE = %s.
// CHECK-LABEL: builtin.module {
// CHECK:         %one = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
// CHECK:         plena.c_set_v_mask_reg %m : !plena.gp
// CHECK-NEXT:    plena.c_set_stride_reg %one : !plena.gp
// CHECK-NEXT:    plena.loop %i : !plena.gp = 4 {
// CHECK-NEXT:      plena.c_set_v_mask_reg %m : !plena.gp
// CHECK-NEXT:      plena.v_add_vv %v, %v, %v, rmask 1
// CHECK-NEXT:      plena.c_set_v_mask_reg %zero : !plena.gp<gp0>
// CHECK-NEXT:      plena.v_add_vv %v, %v, %v, rmask 0
// CHECK-NEXT:    }
// CHECK-NEXT:    plena.c_set_stride_reg %s : !plena.gp
// CHECK-NEXT:    plena.c_set_stride_reg %one : !plena.gp
// CHECK-NEXT:  }
%zero = plena.get_register : !plena.gp<gp0>
%m = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
%s = plena.s_ld_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
%one = plena.li 1 : !plena.gp
%v = plena.s_ld_int %zero, 2 : (!plena.gp<gp0>) -> !plena.gp
plena.c_set_v_mask_reg %m : !plena.gp
plena.c_set_v_mask_reg %m : !plena.gp
plena.c_set_stride_reg %one : !plena.gp
plena.loop %i : !plena.gp = 4 {
  %again = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
  plena.c_set_stride_reg %again : !plena.gp
  plena.c_set_v_mask_reg %m : !plena.gp
  plena.v_add_vv %v, %v, %v, rmask 1 : !plena.gp, !plena.gp, !plena.gp
  plena.c_set_v_mask_reg %zero : !plena.gp<gp0>
  plena.v_add_vv %v, %v, %v, rmask 0 : !plena.gp, !plena.gp, !plena.gp
}
plena.c_set_stride_reg %s : !plena.gp
plena.c_set_stride_reg %one : !plena.gp
plena.c_set_v_mask_reg %zero : !plena.gp<gp0>

// -----

// Unrolling: 3 iterations of a 1-instruction body become 3 copies reading the counter as 3,
// 2, 1 and chaining the carried value; acc * 1 then folds away.  The 5-iteration loop stays
// (unroll-max-iterations = 4); with unroll-max-iterations = 0 nothing is unrolled.
// CHECK-LABEL: builtin.module {
// CHECK:         %x = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    %[[THREE:.*]] = plena.s_addi_int %zero, 3 : (!plena.gp<gp0>) -> !plena.gp
// CHECK-NEXT:    %[[TIMES3:.*]] = plena.s_mul_int %x, %[[THREE]] : (!plena.gp, !plena.gp) -> !plena.gp
// CHECK-NEXT:    %[[TIMES6:.*]] = plena.s_slli_int %[[TIMES3]], 1 : (!plena.gp) -> !plena.gp
// CHECK-NEXT:    plena.s_st_int %[[TIMES6]], %zero, 1
// CHECK-NEXT:    plena.loop %j : !plena.gp = 5 {
// NOUNROLL:      plena.loop %i : !plena.gp = 3 iter_args(%acc = %x) -> (!plena.gp) {
// NOUNROLL-NEXT:   %n = plena.s_mul_int %acc, %i : (!plena.gp, !plena.gp) -> !plena.gp
%zero = plena.get_register : !plena.gp<gp0>
%x = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
%r = plena.loop %i : !plena.gp = 3 iter_args(%acc = %x) -> (!plena.gp) {
  %n = plena.s_mul_int %acc, %i : (!plena.gp, !plena.gp) -> !plena.gp
  plena.yield %n : !plena.gp
}
plena.s_st_int %r, %zero, 1 : !plena.gp, !plena.gp<gp0>
plena.loop %j : !plena.gp = 5 {
  plena.s_st_int %j, %j, 0 : !plena.gp, !plena.gp
}
