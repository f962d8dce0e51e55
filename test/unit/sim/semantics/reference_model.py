"""An independent NumPy model of the plena-tvm machine, written from the spec for the tests.

It executes `Instruction` lists (or `None` for a word the decoder does not know) and keeps the
whole machine state, so a test can run one program on it and on the simulator and compare
every register, memory and accumulator.  Sources: plena-isa-tvm.md A2 (state), A3 (semantics,
aborts, cycles), A4 (DMA), A6 (quirks); plena-isa.md 3, 4, 5.4, 5.5, 6.

Matrix products and lane sums are computed in float64 and rounded once to f32: the tests feed
them data whose f32 sums are exact (so any summation order gives the same f32), which makes
the exact comparison with the simulator valid.

Cycles follow the A3.8 table; DMA time is not modelled here (`cycles` is None after a run
with an H_* instruction; test_hbm_dma checks the documented DMA approximation explicitly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from plena_mlir.isa.instruction import Instruction
from plena_mlir.target import Target

from .ref_numerics import bf16, f32_exp, fp16, mx_decode, mx_encode

U32 = 0xFFFFFFFF
F32 = np.float32


class RefAbort(Exception):
    """The reference machine aborted (the emulator panics) at `pc`."""

    def __init__(self, pc: int, reason: str):
        super().__init__(f"pc {pc}: {reason}")
        self.pc = pc
        self.reason = reason


class _Fault(Exception):
    """An abort condition inside one instruction; the run loop adds the pc."""


@dataclass
class LoopFrame:
    start_pc: int
    reg: int
    count: int = 0


def _rust_max(a: F32, b: F32) -> F32:
    """Rust f32::max: a NaN operand is ignored."""
    if np.isnan(a):
        return F32(b)
    if np.isnan(b):
        return F32(a)
    return F32(max(a, b))


def _f32_sum(values: np.ndarray) -> F32:
    return F32(np.sum(values.astype(np.float64)))


class RefHbm:
    """Sparse HBM of `size` units in 64-unit lines: bytes (mxfp8) or f32 slots (fp32 mode)."""

    def __init__(self, size: int, hbm_format: str):
        self.size = size
        self.mxfp8 = hbm_format == "mxfp8"
        self.dtype = np.uint8 if self.mxfp8 else F32
        self.lines: dict[int, np.ndarray] = {}
        #: one past the highest unit loaded or written
        self.extent = 0

    def _check(self, addr: int, n: int) -> None:
        last_line = (addr + n - 1) // 64
        if (last_line + 1) * 64 > self.size:
            raise _Fault(f"HBM line {last_line * 64:#x} is at or beyond HBM_SIZE {self.size:#x}")

    def _line(self, index: int) -> np.ndarray:
        if index not in self.lines:
            self.lines[index] = np.zeros(64, dtype=self.dtype)
        return self.lines[index]

    def read(self, addr: int, n: int) -> np.ndarray:
        self._check(addr, n)
        out = np.zeros(n, dtype=self.dtype)
        for i in range(n):
            line = self.lines.get((addr + i) // 64)
            if line is not None:
                out[i] = line[(addr + i) % 64]
        return out

    def write(self, addr: int, values: np.ndarray) -> None:
        self._check(addr, len(values))
        for i, v in enumerate(values):
            self._line((addr + i) // 64)[(addr + i) % 64] = v
        self.extent = max(self.extent, addr + len(values))

    def load_image(self, data: bytes) -> None:
        self.write(0, np.frombuffer(data, dtype=np.uint8 if self.mxfp8 else "<f4"))

    def dump(self) -> bytes:
        """Units 0 .. extent as bytes (f32 little-endian in fp32 mode)."""
        values = self.read(0, self.extent) if self.extent else np.zeros(0, self.dtype)
        return values.astype(np.uint8 if self.mxfp8 else "<f4").tobytes()


class RefMachine:
    """The machine state of plena-isa-tvm.md A2 and an interpreter for the 57 instructions."""

    def __init__(self, target: Target, hbm_format: str = "mxfp8"):
        t = self.t = target
        self.M, self.V, self.B, self.H, self.L = t.mlen, t.vlen, t.blen, t.hlen, t.lanes
        self.gp = [0] * t.gp_registers
        self.fp = np.zeros(t.fp_registers, dtype=F32)
        self.areg = [0] * t.addr_registers
        self.scale, self.stride, self.vmask = 0, 1, 0
        self.vram = np.zeros((t.vram_rows, t.vlen), dtype=F32)
        self.mram = np.zeros((t.mram_tiles, t.mlen, t.mlen), dtype=F32)
        self.fpram = np.zeros(t.fpram_entries, dtype=F32)
        self.intram = np.zeros(t.intram_entries, dtype=np.uint32)
        self.m_accum = np.zeros((self.B, self.B), dtype=F32)
        self.v_accum = np.zeros(self.B, dtype=F32)
        self.hm_accum = np.zeros((self.L, self.M, self.M), dtype=F32)
        self.hv_accum = np.zeros((self.L, self.M), dtype=F32)
        self.hbm = RefHbm(t.hbm_bytes, hbm_format)
        self.loops: list[LoopFrame] = []
        #: cycles of the last run (None when it contained DMA), dispatch counts, executed ops
        self.cycles: int | None = 0
        self.instructions = 0
        self.per_opcode: dict[str, int] = {}

    # ---------------------------------------------------------------------------- preload
    def load_vram(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=F32)
        self.vram[: len(rows)] = bf16(rows)

    def load_fpram(self, values) -> None:
        values = fp16(values)
        self.fpram[: len(values)] = values

    def load_intram(self, values) -> None:
        values = np.asarray(values, dtype=np.uint32)
        self.intram[: len(values)] = values

    # ------------------------------------------------------------------------- run loop
    def run(self, program: list[Instruction | None]) -> None:
        """Execute from pc 0 until pc passes the end; RefAbort on any abort condition.

        Each run starts with no open loop; frames still open at the end are dropped.
        """
        self.cycles, self.instructions, self.per_opcode = 0, 0, {}
        self.loops = []
        pc = 0
        while pc < len(program):
            instr = program[pc]
            for frame in self.loops:
                frame.count += 1
                if frame.count > self.t.max_loop_instructions:
                    raise RefAbort(pc, "loop iteration exceeds MAX_LOOP_INSTRUCTIONS")
            if instr is None:
                raise RefAbort(pc, "invalid opcode")
            self.instructions += 1
            self.per_opcode[instr.mnemonic] = self.per_opcode.get(instr.mnemonic, 0) + 1
            try:
                handler = getattr(self, "_" + instr.mnemonic.lower())
                cost, jump = handler(pc, *instr.operands)
            except _Fault as fault:
                raise RefAbort(pc, str(fault)) from None
            if cost is None:
                self.cycles = None
            elif self.cycles is not None:
                self.cycles += cost
            pc = pc + 1 if jump is None else jump

    # ------------------------------------------------------------------------ accessors
    def _fpr(self, index: int) -> int:
        if index >= self.t.fp_registers:
            raise _Fault(f"f{index} does not exist")
        return index

    def _row(self, addr: int) -> int:
        """VRAM row of element address addr (aligned, in range) or abort."""
        if addr % self.V or addr // self.V >= self.t.vram_rows:
            raise _Fault(f"bad VRAM address {addr}")
        return addr // self.V

    def _tile(self, addr: int) -> tuple[int, int]:
        """(tile index, in-tile offset) of MRAM address addr; the tile must exist."""
        tile, offset = divmod(addr, self.M * self.M)
        if tile >= self.t.mram_tiles:
            raise _Fault(f"MRAM tile {tile} does not exist")
        return tile, offset

    def _aligned_tile(self, addr: int) -> np.ndarray:
        tile, offset = self._tile(addr)
        if offset:
            raise _Fault(f"MRAM address {addr} is not tile-aligned")
        return self.mram[tile].astype(np.float64)

    def _rows(self, addr: int, count: int) -> np.ndarray:
        """`count` consecutive VRAM rows from addr (step M), as float64."""
        rows = [self._row((addr + i * self.M) & U32) for i in range(count)]
        return self.vram[rows].astype(np.float64)

    def _lat(self, key: str) -> int:
        return self.t.latency(key)

    # --------------------------------------------------------------------------- matrix
    def _column_block(self, addr: int) -> tuple[np.ndarray, int]:
        tile, o = self._tile(addr)
        if o >= self.M or o % self.B:
            raise _Fault(f"column offset {o} must be < M and a multiple of B")
        return self.mram[tile].astype(np.float64), o

    def _m_mm(self, pc, _unused, mram, vram):
        tile, o = self._column_block(self.gp[mram])
        a = self._rows(self.gp[vram], self.B)
        self.m_accum = F32(self.m_accum + a @ tile[:, o : o + self.B])
        return self._lat("SYSTOLIC_PROCESSING_OVERHEAD") + self.M, None

    _m_tmm_a = _m_mm  # A6.2 #1: executes exactly as M_MM

    def _m_tmm(self, pc, _unused, vram, mram):
        tile, o = self._tile(self.gp[mram])
        r = o // self.M
        if o % self.M or r % self.B:
            raise _Fault(f"M_TMM offset {o} must be r*M with r a multiple of B")
        a = self._rows(self.gp[vram], self.B)
        tile64 = self.mram[tile].astype(np.float64)
        self.m_accum = F32(self.m_accum + a @ tile64[r : r + self.B, :].T)
        return self._lat("SYSTOLIC_PROCESSING_OVERHEAD") + self.M, None

    def _m_mv(self, pc, _unused, mram, vram):
        tile, o = self._column_block(self.gp[mram])
        x = self._rows(self.gp[vram], 1)[0]
        self.v_accum = F32(self.v_accum + x @ tile[:, o : o + self.B])
        return self.M, None

    def _m_tmv(self, pc, _unused, mram, vram):
        tile = self._aligned_tile(self.gp[mram])
        x = self._rows(self.gp[vram], 1)[0]
        self.v_accum = F32(self.v_accum + x @ tile[: self.B, :].T)
        return self.M, None

    def _lanes(self, rows: np.ndarray) -> np.ndarray:
        """(n, M) -> (L, n, H): lane l holds columns l*H .. l*H+H-1."""
        return rows.reshape(len(rows), self.L, self.H).transpose(1, 0, 2)

    def _m_btmm(self, pc, _unused, mram, vram):
        k = self._lanes(self._aligned_tile(self.gp[mram]))  # (L, M keys, H)
        q = self._lanes(self._rows(self.gp[vram], self.M))  # (L, M, H)
        self.hm_accum = F32(self.hm_accum + self.t.bmm_scale * q @ k.transpose(0, 2, 1))
        return self._lat("SYSTOLIC_PROCESSING_OVERHEAD") + self.M, None

    def _m_bmm(self, pc, _unused, mram, vram):
        mat = self._aligned_tile(self.gp[mram]).reshape(self.L, self.H, self.M)
        x = self._lanes(self._rows(self.gp[vram], self.M))  # (L, M, H)
        self.hm_accum = F32(self.hm_accum + self.t.bmm_scale * x @ mat)
        return self._lat("SYSTOLIC_PROCESSING_OVERHEAD") + self.M, None

    def _m_btmv(self, pc, offset, mram, vram):
        k = self._lanes(self._aligned_tile((self.gp[mram] + self.gp[offset]) & U32))
        q = self._lanes(self._rows(self.gp[vram], 1))  # (L, 1, H)
        product = (q @ k.transpose(0, 2, 1))[:, 0, :]
        self.hv_accum = F32(self.hv_accum + self.t.bmm_scale * product)
        return self._lat("SYSTOLIC_PROCESSING_OVERHEAD") + 1, None

    def _m_bmv(self, pc, offset, mram, vram):
        raise _Fault("M_BMV always aborts on plena-tvm (A3.1)")

    def _write_columns(self, row_addr: int, column: int, values: np.ndarray) -> None:
        row = self._row(row_addr)
        new = self.vram[row].copy()
        new[column : column + self.B] = values
        self.vram[row] = bf16(new)

    def _m_mm_wo(self, pc, dst, stride_reg, imm):
        d = (self.gp[dst] + imm) & U32
        s = 1 if stride_reg == 0 else self.gp[stride_reg]
        base, column = d - d % self.M, d % self.M
        if column % self.B:
            raise _Fault(f"M_MM_WO column {column} is not a multiple of B")
        for i in range(self.B):
            self._write_columns((base + i * self.M * s) & U32, column, self.m_accum[i])
        self.m_accum[:] = 0
        return 1, None

    def _m_mv_wo(self, pc, dst, imm):
        d = (self.gp[dst] + (imm >> 5)) & U32  # A1.3: the decoder reads imm2 = imm / 32
        column = d % self.M
        if column % self.B:
            raise _Fault(f"M_MV_WO column {column} is not a multiple of B")
        self._write_columns(d - column, column, self.v_accum)
        self.v_accum[:] = 0
        return 1, None

    def _m_bmm_wo(self, pc, dst, imm):
        d = (self.gp[dst] + (imm >> 5)) & U32
        if d % self.M:
            raise _Fault(f"M_BMM_WO address {d} is not a multiple of M")
        for lane in range(self.L):
            for i in range(self.M):
                row = self._row((d + (lane * self.M + i) * self.M) & U32)
                self.vram[row] = bf16(self.hm_accum[lane, i])
        self.hm_accum[:] = 0
        return 1, None

    def _m_bmv_wo(self, pc, dst, imm):
        d = (self.gp[dst] + (imm >> 5)) & U32
        if d % self.M:
            raise _Fault(f"M_BMV_WO address {d} is not a multiple of M")
        for lane in range(self.L):
            self.vram[self._row((d + lane * self.M) & U32)] = bf16(self.hv_accum[lane])
        self.hv_accum[:] = 0
        return 1, None

    # --------------------------------------------------------------------------- vector
    def _masked(self, result: np.ndarray, src: np.ndarray, rmask: int) -> np.ndarray:
        """A3.3: rmask 0 = whole row; else heads with a clear V_MASK bit get the rs1 lanes."""
        if rmask == 0:
            return result
        out = src.copy()
        for h in range(self.V // self.H):
            if self.vmask >> h & 1:
                out[h * self.H : (h + 1) * self.H] = result[h * self.H : (h + 1) * self.H]
        return out

    def _elementwise(self, dst, src, rmask, fn: Callable[[np.ndarray], np.ndarray], cost):
        a = self.vram[self._row(self.gp[src])].copy()
        with np.errstate(all="ignore"):
            result = fn(a).astype(F32)
        out_row = self._row(self.gp[dst])
        self.vram[out_row] = bf16(self._masked(result, a, rmask))
        return self._lat(cost), None

    def _vv(self, dst, lhs, rhs, rmask, op, cost):
        b = self.vram[self._row(self.gp[rhs])].copy()
        return self._elementwise(dst, lhs, rmask, lambda a: op(a, b), cost)

    def _vf(self, dst, src, scalar, rmask, op, cost):
        f = self.fp[self._fpr(scalar)]
        return self._elementwise(dst, src, rmask, lambda a: op(a, f), cost)

    def _v_add_vv(self, pc, d, a, b, m):
        return self._vv(d, a, b, m, np.add, "VECTOR_ADD_CYCLES")

    def _v_sub_vv(self, pc, d, a, b, m):
        return self._vv(d, a, b, m, np.subtract, "VECTOR_ADD_CYCLES")

    def _v_mul_vv(self, pc, d, a, b, m):
        return self._vv(d, a, b, m, np.multiply, "VECTOR_MUL_CYCLES")

    def _v_add_vf(self, pc, d, a, f, m):
        return self._vf(d, a, f, m, np.add, "VECTOR_ADD_CYCLES")

    def _v_sub_vf(self, pc, d, a, f, m, reverse):
        op = (lambda x, s: s - x) if reverse else np.subtract
        return self._vf(d, a, f, m, op, "VECTOR_ADD_CYCLES")

    def _v_mul_vf(self, pc, d, a, f, m):
        return self._vf(d, a, f, m, np.multiply, "VECTOR_MUL_CYCLES")

    def _v_exp_v(self, pc, d, a, m):
        return self._elementwise(d, a, m, f32_exp, "VECTOR_EXP_CYCLES")

    def _v_reci_v(self, pc, d, a, m):
        return self._elementwise(d, a, m, lambda x: F32(1) / x, "VECTOR_RECI_CYCLES")

    def _heads(self, row: np.ndarray, rmask: int) -> list[np.ndarray]:
        if rmask == 0:
            return [row]
        return [
            row[h * self.H : (h + 1) * self.H]
            for h in range(self.V // self.H)
            if self.vmask >> h & 1
        ]

    def _v_red_sum(self, pc, acc, src, rmask):
        if acc == 0:
            return 0, None
        r = self.fp[self._fpr(acc)]
        for part in self._heads(self.vram[self._row(self.gp[src])], rmask):
            r = F32(r + _f32_sum(part))
        self.fp[acc] = fp16(r)
        return self._lat("VECTOR_SUM_CYCLES"), None

    def _v_red_max(self, pc, acc, src, rmask):
        if acc == 0:
            return 0, None
        r = self.fp[self._fpr(acc)]
        for part in self._heads(self.vram[self._row(self.gp[src])], rmask):
            lane_max = F32(np.nan) if np.isnan(part).any() else F32(part.max())
            r = _rust_max(lane_max, r)
        self.fp[acc] = fp16(r)
        return self._lat("VECTOR_MAX_CYCLES"), None

    # ------------------------------------------------------------------------ scalar fp
    def _fp_op(self, dst, sources, fn: Callable[..., F32], cost: str):
        """f[dst] = fp16(fn(f[sources])); rd = f0 is skipped entirely (A3.5: no register
        read, no write, 0 cycles)."""
        if dst == 0:
            return 0, None
        args = [self.fp[self._fpr(i)] for i in sources]
        self._fpr(dst)
        with np.errstate(all="ignore"):
            self.fp[dst] = fp16(fn(*args))
        return self._lat(cost), None

    def _s_add_fp(self, pc, d, a, b):
        return self._fp_op(d, (a, b), np.add, "SCALAR_FP_BASIC_CYCLES")

    def _s_sub_fp(self, pc, d, a, b):
        return self._fp_op(d, (a, b), np.subtract, "SCALAR_FP_BASIC_CYCLES")

    def _s_mul_fp(self, pc, d, a, b):
        return self._fp_op(d, (a, b), np.multiply, "SCALAR_FP_BASIC_CYCLES")

    def _s_max_fp(self, pc, d, a, b):
        return self._fp_op(d, (a, b), _rust_max, "SCALAR_FP_BASIC_CYCLES")

    def _s_exp_fp(self, pc, d, a):
        return self._fp_op(d, (a,), f32_exp, "SCALAR_FP_EXP_CYCLES")

    def _s_reci_fp(self, pc, d, a):
        return self._fp_op(d, (a,), lambda x: F32(1) / x, "SCALAR_FP_RECI_CYCLES")

    def _s_sqrt_fp(self, pc, d, a):
        return self._fp_op(d, (a,), np.sqrt, "SCALAR_FP_SQRT_CYCLES")

    def _fpram_index(self, base, imm, count=1) -> int:
        index = (self.gp[base] + imm) & U32
        if index + count > self.t.fpram_entries:
            raise _Fault(f"FPRAM index {index} (+{count}) out of range")
        return index

    def _s_ld_fp(self, pc, d, base, imm):
        self.fp[self._fpr(d)] = self.fpram[self._fpram_index(base, imm)]
        return 1, None

    def _s_st_fp(self, pc, s, base, imm):
        self.fpram[self._fpram_index(base, imm)] = self.fp[self._fpr(s)]
        return 1, None

    def _s_map_v_fp(self, pc, vram, fpram, imm):
        start = self._fpram_index(fpram, imm, self.V)
        self.vram[self._row(self.gp[vram])] = bf16(self.fpram[start : start + self.V])
        return 2 * self.V, None

    def _s_map_fp_v(self, pc, fpram, vram, imm):
        row = self.vram[self._row(self.gp[vram])]
        start = self._fpram_index(fpram, imm, self.V)
        self.fpram[start : start + self.V] = fp16(row)
        return self.V, None

    # ----------------------------------------------------------------------- scalar int
    def _int_op(self, d, value: int):
        self.gp[d] = value & U32
        return self._lat("SCALAR_INT_BASIC_CYCLES"), None

    def _s_add_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] + self.gp[b])

    def _s_sub_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] - self.gp[b])

    def _s_mul_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] * self.gp[b])

    def _s_addi_int(self, pc, d, a, imm):
        return self._int_op(d, self.gp[a] + imm)

    def _s_lui_int(self, pc, d, imm):
        return self._int_op(d, imm << 12)

    def _s_sll_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] << (self.gp[b] & 31))

    def _s_slli_int(self, pc, d, a, imm):
        return self._int_op(d, self.gp[a] << (imm & 31))

    def _s_srl_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] >> (self.gp[b] & 31))

    def _s_srli_int(self, pc, d, a, imm):
        return self._int_op(d, self.gp[a] >> (imm & 31))

    def _s_div_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] // self.gp[b] if self.gp[b] else 0)

    def _s_rem_int(self, pc, d, a, b):
        return self._int_op(d, self.gp[a] % self.gp[b] if self.gp[b] else self.gp[a])

    def _intram_index(self, base, imm) -> int:
        index = (self.gp[base] + imm) & U32
        if index >= self.t.intram_entries:
            raise _Fault(f"INTRAM index {index} out of range")
        return index

    def _s_ld_int(self, pc, d, base, imm):
        return self._int_op(d, int(self.intram[self._intram_index(base, imm)]))

    def _s_st_int(self, pc, s, base, imm):
        self.intram[self._intram_index(base, imm)] = self.gp[s]
        return self._lat("SCALAR_INT_BASIC_CYCLES"), None

    # ------------------------------------------------------------------------------ DMA
    def _areg(self, index: int) -> int:
        if index >= self.t.addr_registers:
            raise _Fault(f"a{index} does not exist")
        return self.areg[index]

    def _dma_addresses(self, offset_reg, areg, rstride, rows, row_len):
        """A4.2: (element address, scale address) of each row."""
        base, off = self._areg(areg), self.gp[offset_reg]
        stride = self.stride if rstride == 1 else row_len
        out = []
        for r in range(rows):
            elem = base + off + ((r * stride) & U32)
            if elem % 64:
                raise _Fault(f"HBM element address {elem:#x} is not 64-byte aligned")
            scale = base + self.scale + off // 8 + int(F32(r) * (F32(stride) / F32(8)))
            out.append((elem, scale))
        return out

    def _dma_read(self, offset_reg, areg, rstride, rows, row_len) -> np.ndarray:
        values = np.zeros((rows, row_len), dtype=F32)
        for r, (elem, scale) in enumerate(
            self._dma_addresses(offset_reg, areg, rstride, rows, row_len)
        ):
            if self.hbm.mxfp8:
                values[r] = mx_decode(
                    self.hbm.read(elem, row_len), self.hbm.read(scale, row_len // 8)
                )
            else:
                values[r] = self.hbm.read(elem, row_len)
        return values

    def _h_prefetch_m(self, pc, sram, offset, areg, rstride, precision):
        dst = self.gp[sram]
        tile_elems = self.M * self.M
        if dst % tile_elems:
            raise _Fault(f"H_PREFETCH_M destination {dst} is not tile-aligned")
        rows = self.t.hbm_m_prefetch_rows
        values = self._dma_read(offset, areg, rstride, rows, self.M)
        for r in range(rows):
            tile = dst // tile_elems + r // self.M
            if tile >= self.t.mram_tiles:
                raise _Fault(f"MRAM tile {tile} does not exist")
            self.mram[tile, r % self.M] = values[r]
        return None, None

    def _h_prefetch_v(self, pc, sram, offset, areg, rstride, precision):
        first = self._row(self.gp[sram])
        rows = self.t.hbm_v_prefetch_rows
        values = self._dma_read(offset, areg, rstride, rows, self.V)
        for r in range(rows):
            if first + r < self.t.vram_rows:  # A4.4: rows past the end are dropped
                self.vram[first + r] = bf16(values[r])
        return None, None

    def _h_store_v(self, pc, sram, offset, areg, rstride, precision):
        src = self.gp[sram]
        rows = self.t.hbm_v_writeback_rows
        addresses = self._dma_addresses(offset, areg, rstride, rows, self.V)
        for r, (elem, scale) in enumerate(addresses):
            row = self.vram[self._row((src + r * self.V) & U32)]
            if self.hbm.mxfp8:
                elem_bytes, scale_bytes = mx_encode(row, "tvm")
                self.hbm.write(elem, elem_bytes)
                self.hbm.write(scale, scale_bytes)
            else:
                self.hbm.write(elem, row)
        return None, None

    # -------------------------------------------------------------------------- control
    def _c_set_addr_reg(self, pc, a, hi, lo):
        self._areg(a)
        self.areg[a] = self.gp[hi] << 32 | self.gp[lo]
        return 1, None

    def _c_set_scale_reg(self, pc, src):
        self.scale = self.gp[src]
        return 1, None

    def _c_set_stride_reg(self, pc, src):
        self.stride = self.gp[src]
        return 1, None

    def _c_set_v_mask_reg(self, pc, src):
        self.vmask = self.gp[src]
        return 1, None

    def _c_loop_start(self, pc, reg, count):
        if count == 0:
            raise _Fault("C_LOOP_START with 0 iterations")
        self.gp[reg] = count
        self.loops.append(LoopFrame(pc, reg))
        return 1, None

    def _c_loop_end(self, pc, reg):
        matching = [i for i, f in enumerate(self.loops) if f.reg == reg]
        if not matching:
            raise _Fault(f"C_LOOP_END gp{reg} without an open loop on gp{reg}")
        frame = self.loops[matching[-1]]
        if self.gp[reg] > 1:
            self.gp[reg] -= 1
            frame.count = 0
            return 1, frame.start_pc + 1
        self.gp[reg] = 0
        del self.loops[matching[-1]]
        return 1, None

    def _c_break(self, pc):
        if not self.loops:
            raise _Fault("C_BREAK with no open loop")
        self.gp[self.loops.pop().reg] = 0
        return 1, None
