"""The HBM model and its DMA transfers (plena-isa-tvm.md A4).

Two storage formats:

* "mxfp8" (the hardware): `target.hbm_bytes` raw bytes.  DMA rows are MXFP8: element bytes at
  the element address, one E8M0 scale byte per 8 elements in a separate scale region.
* "fp32" (our extension for exact compiler checks): one float32 slot per *element address*,
  so a program's address arithmetic is exactly that of MXFP8 mode (an MXFP8 byte address is
  an element index), but values are stored unquantised and there is no scale traffic.

Both are zero-filled `np.zeros` arrays (allocated lazily by the OS).  Host-side accesses
(`load_image`, `write_tensor`, `read_tensor`, `dump`) are not DMA: they cost no cycles and are
not counted in `bytes_read` / `bytes_written`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from plena_mlir.numerics.formats import mx_decode, mx_encode
from plena_mlir.numerics.hbm_format import MX_BLOCK, HbmFormat
from plena_mlir.sim.errors import MachineFault
from plena_mlir.target import MxFormat, Target

LINE_BYTES = 64  # the HBM access granule


class _Regular(NamedTuple):
    """Rows at elem0 + r * stride, their scale bytes at scale0 + r * step (both 0 in fp32
    mode), all inside HBM and aligned: see `Hbm._regular`."""

    elem0: int
    stride: int
    scale0: int
    step: int
_U32_MASK = np.uint64(0xFFFFFFFF)
_U64_MOD = 1 << 64


class Hbm:
    """HBM contents, DMA row transfers with the emulator's address rules, and byte counters.

    `bytes_read` / `bytes_written` count DMA traffic: 64 per 64-byte line access in MXFP8 mode
    (a scale line's read-modify-write counts as one read and one write, like the emulator),
    4 per element in fp32 mode.
    """

    def __init__(self, target: Target, hbm_format: HbmFormat = "mxfp8"):
        if hbm_format not in ("mxfp8", "fp32"):
            raise ValueError(f"unknown HBM format '{hbm_format}' (expected 'mxfp8' or 'fp32')")
        self.target = target
        self.format = hbm_format
        self.size = target.hbm_bytes
        self.mem = np.zeros(self.size, dtype=np.uint8 if hbm_format == "mxfp8" else np.float32)
        self.bytes_read = 0
        self.bytes_written = 0
        self._extent = 0  # end of the highest address loaded or written (for `dump`)
        self._lines_cache: dict[tuple[int, int, int, int], int] = {}  # `transfer_cost`

    @property
    def is_mxfp8(self) -> bool:
        return self.format == "mxfp8"

    # ----------------------------------------------------------------------------------------
    # host side: images and tensors
    # ----------------------------------------------------------------------------------------

    def load_image(self, data: bytes) -> None:
        """Copy an image to address 0 (MXFP8: raw bytes; fp32: LE float32, element i at i)."""
        if self.is_mxfp8:
            values = np.frombuffer(data, dtype=np.uint8)
            unit = "bytes"
        else:
            if len(data) % 4:
                raise MachineFault(
                    f"fp32 HBM image of {len(data)} bytes is not a whole number of float32 values"
                )
            values = np.frombuffer(data, dtype="<f4")
            unit = "float32 values"
        if values.size > self.size:
            raise MachineFault(
                f"HBM image of {values.size} {unit} is larger than the HBM ({self.size} {unit})"
            )
        self.mem[: values.size] = values
        self._extent = max(self._extent, values.size)

    def footprint(self, n_elements: int) -> int:
        """Address units a tensor of `n_elements` occupies with `write_tensor`.

        MXFP8: n element bytes then ceil(n/8) scale bytes; fp32: n slots.  Unpadded: callers
        align tensor bases themselves (DMA element addresses must be 64-aligned).
        """
        if self.is_mxfp8:
            return n_elements + -(-n_elements // MX_BLOCK)
        return n_elements

    def write_tensor(self, addr: int, array: np.ndarray) -> None:
        """Place a tensor as the published image writer does (plena-isa-tvm.md A4.8).

        The tensor is flattened.  MXFP8: its element bytes (writer rounding, blocks of 8 along
        the flat order, a ragged last block zero-padded) at addr .. addr+n, its scale bytes at
        addr+n .. (so a program sets SCALE = n).  fp32: the float32 values at addr .. addr+n.
        """
        flat = np.asarray(array, dtype=np.float32).ravel()
        n = flat.size
        self._check_host_range(addr, self.footprint(n), "write_tensor")
        if self.is_mxfp8:
            padded = np.zeros(-(-n // MX_BLOCK) * MX_BLOCK, dtype=np.float32)
            padded[:n] = flat
            codes, scales = mx_encode(padded, "writer")
            self.mem[addr : addr + n] = codes[:n]
            self.mem[addr + n : addr + n + scales.size] = scales
        else:
            self.mem[addr : addr + n] = flat
        self._extent = max(self._extent, addr + self.footprint(n))

    def read_tensor(self, addr: int, shape: tuple[int, ...]) -> np.ndarray:
        """The float32 tensor of `shape` stored at `addr` in the `write_tensor` layout, decoded."""
        n = int(np.prod(shape, dtype=np.int64))
        self._check_host_range(addr, self.footprint(n), "read_tensor")
        if not self.is_mxfp8:
            return self.mem[addr : addr + n].reshape(shape).copy()
        blocks = -(-n // MX_BLOCK)
        codes = np.zeros(blocks * MX_BLOCK, dtype=np.uint8)
        codes[:n] = self.mem[addr : addr + n]
        scales = self.mem[addr + n : addr + n + blocks]
        return mx_decode(codes, scales)[:n].reshape(shape)

    def dump(self) -> bytes:
        """HBM from address 0 to the end of everything loaded or written (fp32: LE float32)."""
        data = self.mem[: self._extent]
        return data.tobytes() if self.is_mxfp8 else data.astype("<f4").tobytes()

    def _check_host_range(self, addr: int, length: int, what: str) -> None:
        if addr < 0 or addr + length > self.size:
            raise MachineFault(
                f"{what}: addresses {addr:#x}..{addr + length:#x} are outside the HBM "
                f"({self.size:#x} address units)"
            )

    # ----------------------------------------------------------------------------------------
    # DMA
    # ----------------------------------------------------------------------------------------

    def read_rows(
        self,
        base: int,
        offset: int,
        stride: int,
        scale_reg: int,
        rows: int,
        row_len: int,
        fmt: MxFormat,
    ) -> tuple[np.ndarray, int]:
        """H_PREFETCH_M/V's transfer: `rows` rows of `row_len` elements, as float32, and cycles.

        For r < rows (plena-isa-tvm.md A4.2; r*stride is a u32 product, the sums are u64):
            elem(r)  = base + offset + (r*stride mod 2^32)   must be 64-aligned
            scale(r) = base + scale_reg + offset//8 + trunc(f32(r) * (f32(stride) / 8))
            row r    = E4M3(HBM[elem(r) .. +row_len]) * E8M0(HBM[scale(r) .. +row_len/8])
        Any 64-byte line touched at or past the end of HBM is a fault.  The caller passes
        stride = STRIDE if the rstride literal is 1, else row_len.
        Cycles: dma_startup_cycles + ceil(lines * 64 / dma_bytes_per_cycle), lines = element
        lines + scale lines touched, counted per row (shared scale lines are read again).
        fp32 mode: same element addresses and checks, values read as stored, 4 bytes per element.
        """
        regular = self._regular(base, offset, stride, scale_reg, rows, row_len, fmt)
        if regular is not None:
            codes = self._strided(regular.elem0, rows, row_len, regular.stride)
            if self.is_mxfp8:
                scales = self._strided(regular.scale0, rows, row_len // MX_BLOCK, regular.step)
                values = mx_decode(codes, scales)
            else:
                values = codes.copy()
            scale_lines = self._regular_scale_lines(regular, rows, row_len)
        else:
            elem_addr, scale_addr = self._locate(base, offset, stride, scale_reg, rows, row_len,
                                                 fmt)
            scale_lines = 0
            if self.is_mxfp8:
                codes = self.mem[elem_addr[:, None] + np.arange(row_len)]
                scales = self.mem[scale_addr[:, None] + np.arange(row_len // MX_BLOCK)]
                values = mx_decode(codes, scales)
                scale_lines = int(self._scale_lines(scale_addr, row_len).sum())
            else:
                values = self.mem[elem_addr[:, None] + np.arange(row_len)]
        cycles, read, _ = self._read_cost(rows, row_len, scale_lines)
        self.bytes_read += read
        return values, cycles

    def write_rows(
        self,
        base: int,
        offset: int,
        stride: int,
        scale_reg: int,
        values: np.ndarray,
        fmt: MxFormat,
    ) -> int:
        """H_STORE_V's transfer of `values` (rows, row_len); returns its cycles.

        Addresses and faults as in `read_rows`; all are checked before anything is written.
        MXFP8: each row is encoded with the emulator's "tvm" rounding, then, row after row,
        its element bytes are written as whole lines and its scale bytes patched into the
        lines they touch (read-modify-write), so where rows overlap the later row wins.
        Cycles: sum over rows of scale lines * dma_read_latency + element lines *
        dma_write_cycles_per_line (no start-up term).  fp32 mode: the values are stored as
        they are, row after row; element lines are counted in 4-byte elements.
        """
        values = np.asarray(values, dtype=np.float32)
        rows, row_len = values.shape
        data, scales = mx_encode(values, "tvm") if self.is_mxfp8 else (values, None)
        regular = self._regular(base, offset, stride, scale_reg, rows, row_len, fmt)
        if regular is not None and self._disjoint(regular, rows, row_len):
            self._strided(regular.elem0, rows, row_len, regular.stride)[...] = data
            end = regular.elem0 + (rows - 1) * regular.stride + row_len
            if scales is not None:
                scale_len = row_len // MX_BLOCK
                self._strided(regular.scale0, rows, scale_len, regular.step)[...] = scales
                end = max(end, regular.scale0 + (rows - 1) * regular.step + scale_len)
            scale_lines = self._regular_scale_lines(regular, rows, row_len)
        else:
            elem_addr, scale_addr = self._locate(base, offset, stride, scale_reg, rows, row_len,
                                                 fmt)
            self._store_rows(elem_addr, data, scale_addr, scales)
            end = int(elem_addr.max()) + row_len
            scale_lines = 0
            if scales is not None:
                scale_lines = int(self._scale_lines(scale_addr, row_len).sum())
                end = max(end, int(scale_addr.max()) + scales.shape[1])
        cycles, read, written = self._write_cost(rows, row_len, scale_lines)
        self.bytes_read += read
        self.bytes_written += written
        self._extent = max(self._extent, end)
        return cycles

    def transfer_cost(
        self,
        store: bool,
        base: int,
        offset: int,
        stride: int,
        scale_reg: int,
        rows: int,
        row_len: int,
        fmt: MxFormat,
    ) -> tuple[int, int, int]:
        """(cycles, bytes read, bytes written) of the `read_rows` (or, with `store`, the
        `write_rows`) of `rows` rows of `row_len` elements, with the same checks and faults,
        without moving data or counting the bytes (timing-only runs).  The cost depends on
        the addresses only through the scale lines each row touches, which regular rows
        (`_regular`) give without NumPy."""
        regular = self._regular(base, offset, stride, scale_reg, rows, row_len, fmt)
        if regular is not None:
            scale_lines = self._regular_scale_lines(regular, rows, row_len)
        else:
            _, scale_addr = self._locate(base, offset, stride, scale_reg, rows, row_len, fmt)
            scale_lines = 0
            if scale_addr is not None:
                scale_lines = int(self._scale_lines(scale_addr, row_len).sum())
        if store:
            return self._write_cost(rows, row_len, scale_lines)
        return self._read_cost(rows, row_len, scale_lines)

    def _regular(
        self,
        base: int,
        offset: int,
        stride: int,
        scale_reg: int,
        rows: int,
        row_len: int,
        fmt: MxFormat,
    ) -> _Regular | None:
        """The common case of a transfer's addresses, or None: no address wraps, the f32
        scale step is exact (so scale(r) = scale(0) + r * stride/8), every row aligned and
        inside HBM -- so nothing faults and `_locate` would give these progressions."""
        elem0 = base + offset
        last = (rows - 1) * stride
        if not (
            rows >= 1
            and row_len % LINE_BYTES == 0
            and last < 1 << 32
            and elem0 % LINE_BYTES == 0
            and (rows == 1 or stride % LINE_BYTES == 0)
            and elem0 + last <= self.size - row_len
        ):
            return None
        if not self.is_mxfp8:
            return _Regular(elem0, stride, 0, 0)
        scale0, step = base + scale_reg + offset // MX_BLOCK, stride // MX_BLOCK
        if (
            fmt.is_mxfp8
            and stride % MX_BLOCK == 0
            and last < 1 << 24  # f32(r) * f32(stride / 8) is exact
            and scale0 + (rows - 1) * step <= self.size - row_len // MX_BLOCK
        ):
            return _Regular(elem0, stride, scale0, step)
        return None

    def _regular_scale_lines(self, regular: _Regular, rows: int, row_len: int) -> int:
        """The scale lines regular rows touch: they depend only on scale(0) mod 64 and the
        step mod 64 (cached)."""
        if not self.is_mxfp8:
            return 0
        key = (regular.scale0 % LINE_BYTES, regular.step % LINE_BYTES, rows, row_len)
        lines = self._lines_cache.get(key)
        if lines is None:
            first = key[0] + np.arange(rows) * key[1]
            lines = self._lines_cache[key] = int(self._scale_lines(first, row_len).sum())
        return lines

    def _strided(self, first: int, rows: int, length: int, step: int) -> np.ndarray:
        """The HBM view of `rows` rows of `length` units, `step` apart, from `first` (the
        caller has checked that they are inside HBM)."""
        unit = self.mem.itemsize
        return as_strided(self.mem[first:], (rows, length), (step * unit, unit), writeable=True)

    def _disjoint(self, regular: _Regular, rows: int, row_len: int) -> bool:
        """Whether writing every row's element bytes, then every row's scale bytes, is what
        writing them row after row does: one row, or no byte written twice."""
        if rows == 1:
            return True
        if regular.stride < row_len:
            return False
        if not self.is_mxfp8:
            return True
        scale_len = row_len // MX_BLOCK
        if regular.step < scale_len:
            return False
        elem_end = regular.elem0 + (rows - 1) * regular.stride + row_len
        scale_end = regular.scale0 + (rows - 1) * regular.step + scale_len
        return scale_end <= regular.elem0 or elem_end <= regular.scale0

    def _read_cost(self, rows: int, row_len: int, scale_lines: int) -> tuple[int, int, int]:
        """(cycles, bytes read, 0) of a prefetch touching `scale_lines` scale lines."""
        t = self.target
        if self.is_mxfp8:
            traffic = (rows * (row_len // LINE_BYTES) + scale_lines) * LINE_BYTES
        else:
            traffic = rows * row_len * 4
        return t.dma_startup_cycles + -(-traffic // t.dma_bytes_per_cycle), traffic, 0

    def _write_cost(self, rows: int, row_len: int, scale_lines: int) -> tuple[int, int, int]:
        """(cycles, bytes read, bytes written) of a store touching `scale_lines` scale lines
        (each a read-modify-write)."""
        t = self.target
        if not self.is_mxfp8:
            elem_lines = rows * row_len * 4 // LINE_BYTES
            return elem_lines * t.dma_write_cycles_per_line, 0, rows * row_len * 4
        elem_lines = rows * (row_len // LINE_BYTES)
        cycles = scale_lines * t.dma_read_latency + elem_lines * t.dma_write_cycles_per_line
        return cycles, scale_lines * LINE_BYTES, (elem_lines + scale_lines) * LINE_BYTES

    def _store_rows(
        self,
        elem_addr: np.ndarray,
        data: np.ndarray,
        scale_addr: np.ndarray | None,
        scales: np.ndarray | None,
    ) -> None:
        """Write each row's data (then its scales) in row order; vectorised when no two
        written spans overlap, since the order only matters where they do."""
        spans = [(elem_addr, data)] + ([] if scale_addr is None else [(scale_addr, scales)])
        starts = np.concatenate([addr for addr, _ in spans])
        ends = np.concatenate([addr + block.shape[1] for addr, block in spans])
        order = np.argsort(starts, kind="stable")
        if np.all(starts[order][1:] >= ends[order][:-1]):
            for addr, block in spans:
                self.mem[addr[:, None] + np.arange(block.shape[1])] = block
            return
        for r in range(len(elem_addr)):
            for addr, block in spans:
                self.mem[addr[r] : addr[r] + block.shape[1]] = block[r]

    def transfer_cycles_bound(self, rows: int, row_len: int, store: bool) -> int:
        """The most cycles one `read_rows` (or, with `store`, `write_rows`) of `rows` rows of
        `row_len` elements can return: every row's scale bytes touching the most lines."""
        t = self.target
        if not self.is_mxfp8:
            traffic = rows * row_len * 4
            if store:
                return traffic // LINE_BYTES * t.dma_write_cycles_per_line
            return t.dma_startup_cycles + -(-traffic // t.dma_bytes_per_cycle)
        elem_lines = row_len // LINE_BYTES
        scale_lines = (row_len // MX_BLOCK - 1) // LINE_BYTES + 2
        if store:
            per_row = scale_lines * t.dma_read_latency + elem_lines * t.dma_write_cycles_per_line
            return rows * per_row
        traffic = rows * (elem_lines + scale_lines) * LINE_BYTES
        return t.dma_startup_cycles + -(-traffic // t.dma_bytes_per_cycle)

    # ----------------------------------------------------------------------------------------
    # address rules
    # ----------------------------------------------------------------------------------------

    def _locate(
        self,
        base: int,
        offset: int,
        stride: int,
        scale_reg: int,
        rows: int,
        row_len: int,
        fmt: MxFormat,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The checked element and scale (None in fp32 mode) addresses of every row, int64."""
        elem_addr, scale_addr = self._row_addresses(base, offset, stride, scale_reg, rows, row_len)
        self._check_rows(elem_addr, scale_addr, row_len, fmt)
        # all addresses are now below the HBM size, so int64 holds them
        return elem_addr.astype(np.int64), (
            None if scale_addr is None else scale_addr.astype(np.int64)
        )

    def _row_addresses(
        self, base: int, offset: int, stride: int, scale_reg: int, rows: int, row_len: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Element (and, in MXFP8 mode, scale) address of every row as uint64 (A4.2)."""
        if rows < 1:
            raise ValueError(f"a DMA transfer needs at least one row, not {rows}")
        if row_len % LINE_BYTES:
            raise MachineFault(
                f"a DMA row of {row_len} elements is not a whole number of 64-byte lines"
            )
        r = np.arange(rows, dtype=np.uint64)
        row_step = (r * np.uint64(stride)) & _U32_MASK  # r*S is a u32 product (A4.2)
        elem_addr = np.uint64((base + offset) % _U64_MOD) + row_step  # u64, wraps mod 2^64
        if not self.is_mxfp8:
            return elem_addr, None
        step = np.float32(stride) / np.float32(MX_BLOCK)  # f32, as in the emulator
        scale_step = (np.arange(rows, dtype=np.float32) * step).astype(np.uint64)
        scale_base = np.uint64((base + scale_reg + offset // MX_BLOCK) % _U64_MOD)
        return elem_addr, scale_base + scale_step

    def _check_rows(
        self, elem_addr: np.ndarray, scale_addr: np.ndarray | None, row_len: int, fmt: MxFormat
    ) -> None:
        """Fault on the first row (and its first problem) the emulator would abort on."""
        if self.is_mxfp8 and not fmt.is_mxfp8:
            raise MachineFault("only MXFP8 HBM element formats are supported")
        misaligned = elem_addr % np.uint64(LINE_BYTES) != 0
        elem_past = self._past_end(elem_addr, row_len)
        bad = misaligned | elem_past
        scale_len = row_len // MX_BLOCK
        if scale_addr is not None:
            scale_past = self._past_end(scale_addr, scale_len)
            bad |= scale_past
        if not bad.any():
            return
        r = int(np.argmax(bad))
        addr = int(elem_addr[r])
        if misaligned[r]:
            raise MachineFault(f"HBM row {r}: element address {addr:#x} is not 64-byte aligned")
        if elem_past[r]:
            span, what = (addr, row_len), "element"
        else:
            span, what = (int(scale_addr[r]), scale_len), "scale"
        raise MachineFault(
            f"HBM row {r}: {what} bytes {span[0]:#x}..{span[0] + span[1] - 1:#x} touch a line at "
            f"or past the end of HBM ({self.size:#x})"
        )

    def _past_end(self, addr: np.ndarray, length: int) -> np.ndarray:
        """Whether addr .. addr+length-1 touches a 64-byte line at or past the end (the size
        is a multiple of 64, so that is whether the span's last byte is past the end)."""
        if length > self.size:
            return np.ones(addr.shape, dtype=bool)
        return addr > np.uint64(self.size - length)

    @staticmethod
    def _scale_lines(scale_addr: np.ndarray, row_len: int) -> np.ndarray:
        """64-byte lines each row's scale span touches (1 or 2 for 8 scale bytes)."""
        last = scale_addr + (row_len // MX_BLOCK - 1)
        return last // LINE_BYTES - scale_addr // LINE_BYTES + 1
