; the outer loop is never closed
C_LOOP_START gp5, 2
    C_LOOP_START gp6, 2
    C_LOOP_END gp6
