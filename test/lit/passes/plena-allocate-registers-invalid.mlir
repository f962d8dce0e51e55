// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-allocate-registers | filecheck %s
// RUN: plena-opt %s --split-input-file --verify-diagnostics -p 'plena-allocate-registers{intram-spill-slots=1}' | filecheck %s --check-prefix=SLOTS
// RUN: plena-opt %s --split-input-file --verify-diagnostics -p 'plena-allocate-registers{intram-spill-base=1000}' | filecheck %s --check-prefix=WINDOW

// Nine HBM base addresses live at once: address registers (a0..a7) cannot be spilled.
// CHECK: plena-allocate-registers: out of plena.areg registers at plena.c_set_addr_reg: 9 values that cannot be spilled must be in registers there (address registers cannot be spilled), but only 8 are allocatable: %b0 (a result of plena.c_set_addr_reg)
// SLOTS: out of plena.areg registers
// WINDOW: the IntRAM spill window [1000, 1256) (intram-spill-base, intram-spill-slots) is not inside the 1024 entries of target 'plena-tvm'

%zero = plena.get_register : !plena.gp<gp0>
%b0 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b1 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b2 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b3 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b4 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b5 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b6 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b7 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%b8 = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
plena.h_prefetch_v %zero, %zero, %b0, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b1, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b2, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b3, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b4, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b5, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b6, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b7, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg
plena.h_prefetch_v %zero, %zero, %b8, rstride 0, precision 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.areg

// -----

// Three values spilled at once need three IntRAM slots; one is too few.
// CHECK: %{{.*}} = plena.s_ld_int %zero, 256 : (!plena.gp<gp0>) -> !plena.gp<gp1>
// SLOTS: plena-allocate-registers: out of IntRAM spill slots: spilling %x{{[0-9]}} (a result of plena.s_ld_int) needs 2 slots at once, but the window [1023, 1024) has 1; give a larger window (intram-spill-base, intram-spill-slots)

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_registers = 3}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  %x0 = plena.s_ld_int %zero, 256 : (!plena.gp<gp0>) -> !plena.gp
  %x1 = plena.s_ld_int %zero, 257 : (!plena.gp<gp0>) -> !plena.gp
  %x2 = plena.s_ld_int %zero, 258 : (!plena.gp<gp0>) -> !plena.gp
  %x3 = plena.s_ld_int %zero, 259 : (!plena.gp<gp0>) -> !plena.gp
  plena.s_st_int %x0, %zero, 0 : !plena.gp, !plena.gp<gp0>
  plena.s_st_int %x1, %zero, 1 : !plena.gp, !plena.gp<gp0>
  plena.s_st_int %x2, %zero, 2 : !plena.gp, !plena.gp<gp0>
  plena.s_st_int %x3, %zero, 3 : !plena.gp, !plena.gp<gp0>
}

// -----

// Loop counters and carried values stay in registers for the whole loop; with two GP
// registers a loop carrying two values cannot be allocated.
// CHECK: plena-allocate-registers: out of plena.gp registers at plena.loop: 3 values that cannot be spilled must be in registers there (1 loop counters, 2 loop-carried values, and 0 operands, results and copies of instructions there), but only 2 are allocatable: %i (a loop counter of plena.loop), %a (a loop-carried value of plena.loop), %b (a loop-carried value of plena.loop)

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {gp_registers = 3}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  %one = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
  %two = plena.s_addi_int %zero, 2 : (!plena.gp<gp0>) -> !plena.gp
  %r:2 = plena.loop %i : !plena.gp = 4 iter_args(%a = %one, %b = %two) -> (!plena.gp, !plena.gp) {
    %n = plena.s_add_int %a, %b : (!plena.gp, !plena.gp) -> !plena.gp
    plena.yield %n, %a : !plena.gp, !plena.gp
  }
}

// -----

// No instruction copies an address register, so one cannot be loop-carried.
// CHECK: plena-allocate-registers: cannot copy %base (a result of plena.c_set_addr_reg): no instruction copies a plena.areg register

%zero = plena.get_register : !plena.gp<gp0>
%base = plena.c_set_addr_reg %zero, %zero : (!plena.gp<gp0>, !plena.gp<gp0>) -> !plena.areg
%r = plena.loop %i : !plena.gp = 2 iter_args(%a = %base) -> (!plena.areg) {
  plena.yield %a : !plena.areg
}

// -----

// An in-place update from an unallocated accumulator into a fixed register.
// CHECK: plena-allocate-registers: plena.v_red_sum updates %acc (a result of plena.s_ld_fp) in place into the fixed register !plena.fp<f3>; allocate both or neither

%zero = plena.get_register : !plena.gp<gp0>
%acc = plena.s_ld_fp %zero, 0 : (!plena.gp<gp0>) -> !plena.fp
%s = plena.v_red_sum %acc, %zero, rmask 0 : (!plena.fp, !plena.gp<gp0>) -> !plena.fp<f3>

// -----

// Registers held by ops of other dialects cannot be allocated around.
// CHECK: plena-allocate-registers: cannot allocate registers around test.op: the program must consist of plena instructions, plena.loop, plena.get_register and plena.comment

%zero = plena.get_register : !plena.gp<gp0>
%x = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
"test.op"(%x) : (!plena.gp) -> ()
