; Bad assembly is a one-line diagnostic naming the file and line, with exit status 1.

; RUN: not plena-opt %S/Inputs/unnested-loops.asm 2>&1 | filecheck %s --check-prefix=UNNESTED
; UNNESTED: unnested-loops.asm:4: C_LOOP_END gp1 does not close the innermost open loop (C_LOOP_START gp2 at {{.*}}unnested-loops.asm:3); hardware loops must nest

; RUN: not plena-opt %S/Inputs/unclosed-loop.asm 2>&1 | filecheck %s --check-prefix=UNCLOSED
; UNCLOSED: unclosed-loop.asm:2: C_LOOP_START gp5 is never closed by a C_LOOP_END gp5

; RUN: not plena-opt %S/Inputs/unopened-loop.asm 2>&1 | filecheck %s --check-prefix=UNOPENED
; UNOPENED: unopened-loop.asm:2: C_LOOP_END gp1 closes no open loop

; RUN: not plena-opt %S/Inputs/bad-register.asm 2>&1 | filecheck %s --check-prefix=REGISTER
; REGISTER: bad-register.asm:3: V_RED_SUM operand 1 (acc): f9 does not exist (the target has f0..f7)

; RUN: not plena-opt %S/Inputs/missing-operand.asm 2>&1 | filecheck %s --check-prefix=OPERANDS
; OPERANDS: missing-operand.asm:2: S_ADDI_INT takes 3 operands (dst, src, imm), got 1

; RUN: not plena-opt %S/Inputs/bad-register.asm --plena-target plena-nonesuch 2>&1 | filecheck %s --check-prefix=TARGET
; TARGET: #plena.target: unknown target 'plena-nonesuch': expected one of plena-tvm, {{.*}} or a .toml file
