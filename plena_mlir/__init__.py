"""plena-mlir: a compiler, assembler and simulator for the PLENA accelerator, built on xDSL."""

__version__ = "0.1.0"
