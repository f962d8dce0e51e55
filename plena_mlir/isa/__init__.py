"""The PLENA instruction set: opcode table, instruction records, assembly text, machine code."""
