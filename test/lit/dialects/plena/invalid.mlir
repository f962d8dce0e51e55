// RUN: plena-opt %s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

%g = plena.get_register : !plena.gp<gp1>
%r = plena.s_addi_int %g, 65536 : (!plena.gp<gp1>) -> !plena.gp<gp2>
// CHECK: S_ADDI_INT operand 3 (imm): immediate 65536 out of range [0, 65535] (16-bit unsigned)

// -----

%g = plena.get_register : !plena.gp<gp1>
%r = plena.s_lui_int 1048576 : !plena.gp<gp2>
// CHECK: S_LUI_INT operand 2 (imm): immediate 1048576 loses bits above bit 19 when shifted left by 12

// -----

%f = plena.get_register : !plena.fp<f1>
%g = plena.get_register : !plena.gp<gp1>
%r = plena.s_add_int %f, %g : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.gp<gp2>
// CHECK: !plena.fp<f1> should be of base attribute plena.gp

// -----

%g = plena.get_register : !plena.gp<gp1>
%r = plena.s_ld_fp %g, 0 : (!plena.gp<gp1>) -> !plena.gp<gp2>
// CHECK: !plena.gp<gp2> should be of base attribute plena.fp

// -----

// A parse error echoes the lines around it, so its CHECK comes first.
// CHECK: {{^ +}}'gp40' is not a plena.gp register: expected gp0..gp31 or gj_N

%g = plena.get_register : !plena.gp<gp40>


// -----

%f = plena.get_register : !plena.fp<f1>
%f9 = plena.get_register : !plena.fp<f9>
%r = plena.s_mul_fp %f, %f9 : (!plena.fp<f1>, !plena.fp<f9>) -> !plena.fp<f2>
// CHECK: S_MUL_FP operand 3 (rhs): f9 does not exist (the target has f0..f7)

// -----

%g = plena.get_register : !plena.gp<gp1>
%a8 = plena.c_set_addr_reg %g, %g : (!plena.gp<gp1>, !plena.gp<gp1>) -> !plena.areg<a8>
// CHECK: C_SET_ADDR_REG operand 1 (dst): a8 does not exist (the target has a0..a7)

// -----

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_registers = 16}>} {
  %g = plena.get_register : !plena.gp<gp1>
  %r = plena.s_addi_int %g, 1 : (!plena.gp<gp1>) -> !plena.gp<gp20>
}
// CHECK: S_ADDI_INT operand 1 (dst): gp20 does not exist (the target has gp0..gp15)

// -----

%g = plena.get_register : !plena.gp<gp1>
plena.v_exp_v %g, %g, rmask 2 : !plena.gp<gp1>, !plena.gp<gp1>
// CHECK: V_EXP_V operand 3 (rmask): literal must be 0 or 1, got 2

// -----

%g = plena.get_register : !plena.gp<gp1>
%a = plena.get_register : !plena.areg<a0>
plena.h_store_v %g, %g, %a, rstride 1, precision 3 : !plena.gp<gp1>, !plena.gp<gp1>, !plena.areg<a0>
// CHECK: H_STORE_V operand 5 (precision): literal must be 0 or 1, got 3

// -----

%g = plena.get_register : !plena.gp<gp1>
plena.m_bmm_wo %g, 64 : !plena.gp<gp1>
// CHECK: M_BMM_WO operand 2 (imm): immediate must be 0: the assembler places it at bit 11 but the machine reads bits 16.., so 64 would execute as 2; add the offset to the register

// -----

%g = plena.get_register : !plena.gp<gp1>
%f = plena.get_register : !plena.fp<f1>
%r = plena.v_red_max %f, %g, rmask 0 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f2>
// CHECK: V_RED_MAX updates its operand in place: the result register f2 must be the operand register f1

// -----

plena.loop %i : !plena.gp<gp1> = 0 {
}
// CHECK: C_LOOP_START operand 2 (count): a hardware loop needs at least 1 iteration

// -----

plena.loop %i : !plena.gp<gp1> = 2097152 {
}
// CHECK: C_LOOP_START operand 2 (count): immediate 2097152 out of range [0, 2097151] (21-bit unsigned)

// -----

plena.loop %i : !plena.fp<f1> = 2 {
}
// CHECK: the first block argument of plena.loop is its counter and must be a !plena.gp register

// -----

plena.loop %i : !plena.gp<gp3> = 2 {
  plena.loop %j : !plena.gp<gp3> = 2 {
  }
}
// CHECK: nested plena.loop reuses the counter gp3 of an enclosing loop

// -----

plena.loop %i : !plena.gp<gp3> = 2 {
  %r = plena.s_addi_int %i, 1 : (!plena.gp<gp3>) -> !plena.gp<gp3>
}
// CHECK: plena.s_addi_int in the body of plena.loop writes the loop counter gp3

// -----

%f = plena.get_register : !plena.fp<f1>
%r = plena.loop %i : !plena.gp<gp3> = 2 iter_args(%a = %f) -> (!plena.fp<f1>) {
  %n = plena.s_add_fp %a, %a : (!plena.fp<f1>, !plena.fp<f1>) -> !plena.fp<f2>
  plena.yield %n : !plena.fp<f2>
}
// CHECK: loop-carried value 0 must have one register type as initial value, block argument, yielded value and result; got !plena.fp<f1>, !plena.fp<f1>, !plena.fp<f2>, !plena.fp<f1>

// -----

%g = plena.get_register : !plena.gp<gp3>
%r = plena.loop %i : !plena.gp<gp3> = 2 iter_args(%a = %g) -> (!plena.gp<gp3>) {
  plena.yield %a : !plena.gp<gp3>
}
// CHECK: a loop-carried value cannot live in the counter register gp3

// -----

%g = plena.get_register : !plena.gp<gp3>
plena.yield %g : !plena.gp<gp3>
// CHECK: 'plena.yield' expects parent op 'plena.loop'

// -----

%g = plena.get_register : !plena.gp
// CHECK: plena.get_register needs a physical register, got !plena.gp

// -----

plena.comment "two\nlines"
// CHECK: a plena.comment must be a single line

// -----

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_regs = 16}>} {
}
// CHECK: #plena.target: unknown target field 'gp_regs'

// -----

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_registers = 64}>} {
}
// CHECK: #plena.target: target 'plena-tvm': gp_registers=64 does not fit a 5-bit register field

// -----

builtin.module attributes {plena.target = #plena.target<"plena-main">} {
}
// CHECK: #plena.target: unknown target 'plena-main': expected one of plena-tvm, {{.*}} or a .toml file

// -----

builtin.module attributes {plena.target = "plena-tvm"} {
  %g = plena.get_register : !plena.gp<gp1>
  plena.c_set_scale_reg %g : !plena.gp<gp1>
}
// CHECK: plena.target must be a #plena.target<...> attribute, got "plena-tvm"
