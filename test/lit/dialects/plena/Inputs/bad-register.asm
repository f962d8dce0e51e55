S_ADDI_INT gp1, gp0, 1

V_RED_SUM f9, gp1, 0
