"""The PLENA simulator: executes machine code with the plena-tvm emulator's numerics and timing."""
