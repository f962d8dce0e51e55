// RUN: plena-opt %s --split-input-file --verify-diagnostics -p plena-optimize-scalar | filecheck %s

// MAX_LOOP_INSTRUCTIONS = 100.  The inner loop's iteration is 3 instructions, but one
// iteration of the outer loop runs C_LOOP_START + 33 * (2 + C_LOOP_END) = 100 instructions,
// plus its own C_LOOP_END: 101.
// CHECK: plena-optimize-scalar: plena.loop #1 (counter %outer, count 2): one iteration can execute 101 instructions (100 in its body, nested loops included, + C_LOOP_END) but the target's MAX_LOOP_INSTRUCTIONS is 100, so the machine would abort; give one iteration less work. (#a.b is the b-th loop in the body of the a-th top-level loop.)

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {max_loop_instructions = 100}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  plena.loop %outer : !plena.gp = 2 {
    plena.loop %inner : !plena.gp = 33 {
      plena.v_add_vv %zero, %zero, %zero, rmask 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.gp<gp0>
      plena.v_exp_v %zero, %zero, rmask 0 : !plena.gp<gp0>, !plena.gp<gp0>
    }
  }
}

// -----

// One less inner iteration: 1 + 32 * 3 + 1 = 98 fits.
// CHECK-LABEL: builtin.module attributes {plena.target = #plena.target<"plena-tvm", {max_loop_instructions = 100 : i64}>} {
// CHECK:         plena.loop %inner : !plena.gp = 32 {

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {max_loop_instructions = 100}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  plena.loop %outer : !plena.gp = 2 {
    plena.loop %inner : !plena.gp = 32 {
      plena.v_add_vv %zero, %zero, %zero, rmask 0 : !plena.gp<gp0>, !plena.gp<gp0>, !plena.gp<gp0>
      plena.v_exp_v %zero, %zero, rmask 0 : !plena.gp<gp0>, !plena.gp<gp0>
    }
  }
}

// -----

// MAX_LOOP_INSTRUCTIONS = 10.  The first nested loop of the second top-level loop has 10
// instructions of address arithmetic that cannot leave it (they read its counter) + the store.
// CHECK: plena-optimize-scalar: plena.loop #2.1 (counter %j, count 2): one iteration can execute 11 instructions (10 in its body

builtin.module attributes {plena.target = #plena.target<"plena-tvm", {max_loop_instructions = 10}>} {
  %zero = plena.get_register : !plena.gp<gp0>
  plena.loop %i : !plena.gp = 8 {
    plena.v_exp_v %zero, %zero, rmask 0 : !plena.gp<gp0>, !plena.gp<gp0>
  }
  plena.loop %i : !plena.gp = 2 {
    plena.loop %j : !plena.gp = 2 {
      %a1 = plena.s_slli_int %j, 1 : (!plena.gp) -> !plena.gp
      %a2 = plena.s_slli_int %a1, 1 : (!plena.gp) -> !plena.gp
      %a3 = plena.s_slli_int %a2, 1 : (!plena.gp) -> !plena.gp
      %a4 = plena.s_slli_int %a3, 1 : (!plena.gp) -> !plena.gp
      %a5 = plena.s_slli_int %a4, 1 : (!plena.gp) -> !plena.gp
      %a6 = plena.s_slli_int %a5, 1 : (!plena.gp) -> !plena.gp
      %a7 = plena.s_slli_int %a6, 1 : (!plena.gp) -> !plena.gp
      %a8 = plena.s_slli_int %a7, 1 : (!plena.gp) -> !plena.gp
      %a9 = plena.s_slli_int %a8, 1 : (!plena.gp) -> !plena.gp
      plena.s_st_int %a9, %zero, 0 : !plena.gp, !plena.gp<gp0>
    }
  }
}
