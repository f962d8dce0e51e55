"""The PLENA target description: one frozen `Target` read by every part of the tool chain.

Geometry, register files, immediate widths, memory sizes, HBM element formats, latencies,
the opcode table and the feature flags that distinguish ISA revisions all live here.  Nothing
downstream (dialect verifiers, assembler, simulator, cost model) keeps a constant of its own.

Presets (`PRESETS`, docs/target.md): `plena-tvm` (default; the published TVM tool chain's
`[BEHAVIOR]` configuration, MLEN 64 / HLEN 16 / BLEN 2) and the published geometries of the
same ISA: `plena-tvm-mlen1024` (1024 / 128 / 128, the SingleStreamBlock reports),
`plena-tvm-mlen512` (512 / 128 / 4), `plena-tvm-mlen256` (256 / 64 / 64) and `plena-tvm-blen4`
(64 / 16 / 4).  A target is obtained with `get_target(name_or_toml, **overrides)`: a preset
name, or a path to a PLENA `plena_settings.toml` (`read_settings`: its `[BEHAVIOR]` table, the
TVM emulator's, or its `[TRANSACTIONAL]` table, the mainline emulator's; `FILE.toml:TABLE`
picks one).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from plena_mlir.isa.opcodes import TVM_OPCODES


class TargetError(ValueError):
    """An inconsistent or unreadable target description."""


@dataclass(frozen=True)
class MxFormat:
    """An HBM element format: MX blocks of `block` elements sharing one power-of-two scale.

    `elem_exp`/`elem_man` describe the signed minifloat element (E4M3 for MXFP8), `scale_exp`
    the unsigned exponent-only scale (E8M0).  `block == 0` means a plain (unscaled) format.
    """

    elem_exp: int = 4
    elem_man: int = 3
    scale_exp: int = 8
    block: int = 8

    @property
    def elem_bits(self) -> int:
        return 1 + self.elem_exp + self.elem_man

    @property
    def is_mxfp8(self) -> bool:
        return (self.elem_exp, self.elem_man, self.scale_exp, self.block) == (4, 3, 8, 8)


MXFP8 = MxFormat()

#: On-chip memories are addressed by element through 32-bit registers.
ADDRESSABLE_ELEMENTS = 1 << 32
#: The simulator keeps HBM in host memory; no published configuration exceeds 128 GiB.
MAX_HBM_BYTES = 1 << 40

#: Latency table keys, as named in `plena_settings.toml` `[*.LATENCY]`.
LATENCY_KEYS = (
    "SYSTOLIC_PROCESSING_OVERHEAD",
    "VECTOR_ADD_CYCLES",
    "VECTOR_MUL_CYCLES",
    "VECTOR_EXP_CYCLES",
    "VECTOR_RECI_CYCLES",
    "VECTOR_MAX_CYCLES",
    "VECTOR_SUM_CYCLES",
    "SCALAR_FP_BASIC_CYCLES",
    "SCALAR_FP_EXP_CYCLES",
    "SCALAR_FP_SQRT_CYCLES",
    "SCALAR_FP_RECI_CYCLES",
    "SCALAR_INT_BASIC_CYCLES",
)

#: `[BEHAVIOR]` latencies with DC_EN = 1 (`dc_lib_en` column).
_TVM_LATENCIES = {
    "SYSTOLIC_PROCESSING_OVERHEAD": 0,
    "VECTOR_ADD_CYCLES": 1,
    "VECTOR_MUL_CYCLES": 1,
    "VECTOR_EXP_CYCLES": 1,
    "VECTOR_RECI_CYCLES": 2,
    "VECTOR_MAX_CYCLES": 4,
    "VECTOR_SUM_CYCLES": 8,
    "SCALAR_FP_BASIC_CYCLES": 1,
    "SCALAR_FP_EXP_CYCLES": 1,
    "SCALAR_FP_SQRT_CYCLES": 1,
    "SCALAR_FP_RECI_CYCLES": 1,
    "SCALAR_INT_BASIC_CYCLES": 1,
}


@dataclass(frozen=True)
class Target:
    """Everything the compiler and simulator know about one PLENA machine.

    Sizes are in the emulator's units: `mram_rows` and `vram_rows` count MLEN-/VLEN-element
    rows (MATRIX_SRAM_SIZE / VECTOR_SRAM_SIZE), `fpram_entries` and `intram_entries` count
    scalar slots, `hbm_bytes` is bytes.
    """

    name: str = "plena-tvm"
    source: str = field(default="", compare=False, repr=False)
    """Where the target was read from: a settings file's path ("" for a preset: its name)."""
    # geometry
    mlen: int = 64
    vlen: int = 64
    blen: int = 2
    hlen: int = 16
    # register files and instruction word
    gp_registers: int = 32
    fp_registers: int = 8
    addr_registers: int = 8
    opcode_bits: int = 6
    operand_bits: int = 5
    imm_bits: int = 21
    imm2_bits: int = 16
    # memories
    hbm_bytes: int = 1 << 30
    hbm_width_bits: int = 1024
    mram_rows: int = 32768
    vram_rows: int = 131072
    fpram_entries: int = 65536
    intram_entries: int = 1024
    # DMA rows per instruction
    hbm_m_prefetch_rows: int = 64
    hbm_v_prefetch_rows: int = 16
    hbm_v_writeback_rows: int = 16
    # numeric formats
    hbm_m_weight_format: MxFormat = MXFP8
    hbm_m_kv_format: MxFormat = MXFP8
    hbm_v_act_format: MxFormat = MXFP8
    hbm_v_kv_format: MxFormat = MXFP8
    fp_format: str = "fp16"  # FP registers and FPRAM: "fp16" (TVM) or "bf16" (MAIN)
    # control
    max_loop_instructions: int = 10**10
    dc_en: bool = True
    latencies: Mapping[str, int] = field(default_factory=lambda: MappingProxyType(_TVM_LATENCIES))
    # feature flags of the ISA revision
    btmm_lane_paired: bool = True
    mm_column_granularity: str = "element"  # "element" (TVM) or "row" (MAIN)
    bmm_scale: float = 1.0
    opcodes: Mapping[str, int] = field(default_factory=lambda: TVM_OPCODES)
    # HBM DMA timing approximation (docs/simulator.md, "Cycle model")
    dma_startup_cycles: int = 16
    dma_bytes_per_cycle: int = 128
    dma_read_latency: int = 20
    dma_write_cycles_per_line: int = 4

    def __post_init__(self) -> None:
        for name in ("mlen", "vlen", "blen", "hlen", "gp_registers", "fp_registers", "hbm_bytes",
                     "mram_rows", "vram_rows", "fpram_entries", "intram_entries",
                     "hbm_m_prefetch_rows", "hbm_v_prefetch_rows", "hbm_v_writeback_rows"):
            if getattr(self, name) <= 0:
                raise TargetError(f"target '{self.name}': {name} must be positive")
        for name, elements in (("VRAM", self.vram_rows * self.vlen),
                               ("MRAM", self.mram_rows * self.mlen),
                               ("FPRAM", self.fpram_entries), ("IntRAM", self.intram_entries)):
            if elements > ADDRESSABLE_ELEMENTS:
                raise TargetError(
                    f"target '{self.name}': {name} of {elements} elements is more than the "
                    f"{ADDRESSABLE_ELEMENTS} the ISA's 32-bit addresses reach"
                )
        if self.hbm_bytes > MAX_HBM_BYTES:
            raise TargetError(
                f"target '{self.name}': HBM of {self.hbm_bytes} bytes is more than the "
                f"{MAX_HBM_BYTES} (1 TiB) a simulated target may have"
            )
        if self.vlen != self.mlen:
            raise TargetError(
                f"target '{self.name}': VLEN ({self.vlen}) must equal MLEN ({self.mlen}); "
                "the matrix unit reads MLEN-long VRAM rows"
            )
        if self.mlen % self.blen:
            raise TargetError(
                f"target '{self.name}': MLEN ({self.mlen}) must be a multiple of BLEN ({self.blen})"
            )
        if self.mlen % self.hlen:
            raise TargetError(
                f"target '{self.name}': MLEN ({self.mlen}) must be a multiple of HLEN ({self.hlen})"
            )
        if self.vlen // self.hlen > 32:
            raise TargetError(f"target '{self.name}': VLEN/HLEN must be at most 32 (V_MASK bits)")
        if self.hbm_m_prefetch_rows % self.mlen:
            raise TargetError(
                f"target '{self.name}': HBM_M_Prefetch_Amount ({self.hbm_m_prefetch_rows}) "
                f"must be a multiple of MLEN ({self.mlen})"
            )
        if self.mram_rows % self.mlen:
            raise TargetError(f"target '{self.name}': MRAM rows must be a multiple of MLEN")
        if self.hbm_bytes % 64:
            raise TargetError(f"target '{self.name}': HBM size must be a multiple of 64 bytes")
        limit = 1 << self.operand_bits
        for name in ("gp_registers", "fp_registers", "addr_registers"):
            if getattr(self, name) > limit:
                raise TargetError(
                    f"target '{self.name}': {name}={getattr(self, name)} does not fit a "
                    f"{self.operand_bits}-bit register field"
                )
        if self.fp_format not in ("fp16", "bf16"):
            raise TargetError(f"target '{self.name}': fp_format must be 'fp16' or 'bf16'")
        missing = [k for k in LATENCY_KEYS if k not in self.latencies]
        if missing:
            raise TargetError(f"target '{self.name}': latency table lacks {', '.join(missing)}")
        object.__setattr__(self, "latencies", MappingProxyType(dict(self.latencies)))
        object.__setattr__(self, "opcodes", MappingProxyType(dict(self.opcodes)))

    # derived quantities -------------------------------------------------------------------
    @property
    def spec(self) -> str:
        """What `get_target` resolves to this target, overrides aside: a preset's name or the
        settings file's path."""
        return self.source or self.name

    @property
    def lanes(self) -> int:
        """Heads packed side by side in one MLEN-wide row (L = MLEN / HLEN)."""
        return self.mlen // self.hlen

    @property
    def peak_macs_per_cycle(self) -> int:
        """M*M: the batched matrix unit's rate, the fastest the machine multiplies."""
        return self.mlen * self.mlen

    @property
    def mram_tiles(self) -> int:
        return self.mram_rows // self.mlen

    @property
    def tile_elements(self) -> int:
        return self.mlen * self.mlen

    @property
    def imm_max(self) -> int:
        """Largest value of the wide (21-bit) immediate field."""
        return (1 << self.imm_bits) - 1

    @property
    def imm2_max(self) -> int:
        """Largest value of the short (16-bit) immediate field."""
        return (1 << self.imm2_bits) - 1

    def latency(self, key: str) -> int:
        return self.latencies[key]

    def with_overrides(self, **overrides: Any) -> Target:
        """A copy with some fields replaced, re-validated (e.g. `gp_registers=16`).

        Fields tied to MLEN follow an MLEN override unless given too: VLEN (which must equal
        MLEN) and the H_PREFETCH_M row count when it is one tile, so `mlen=128` alone is a
        consistent target.
        """
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TargetError(f"unknown target field(s): {', '.join(unknown)}")
        if "mlen" in overrides:
            overrides.setdefault("vlen", overrides["mlen"])
            if self.hbm_m_prefetch_rows == self.mlen:
                overrides.setdefault("hbm_m_prefetch_rows", overrides["mlen"])
        return dataclasses.replace(self, **overrides)


PLENA_TVM = Target()

#: The published geometries of the TVM ISA, each with the memory sizes and DMA row amounts of
#: the settings file it was published with (docs/target.md, "Presets").
PLENA_TVM_MLEN1024 = PLENA_TVM.with_overrides(
    name="plena-tvm-mlen1024", mlen=1024, blen=128, hlen=128, hbm_m_prefetch_rows=1024,
    hbm_v_prefetch_rows=256, hbm_v_writeback_rows=256,
)
PLENA_TVM_MLEN512 = PLENA_TVM.with_overrides(
    name="plena-tvm-mlen512", mlen=512, blen=4, hlen=128, hbm_width_bits=512,
    mram_rows=4096, vram_rows=16384, hbm_m_prefetch_rows=512, hbm_v_prefetch_rows=128,
    hbm_v_writeback_rows=128,
)
PLENA_TVM_MLEN256 = PLENA_TVM.with_overrides(
    name="plena-tvm-mlen256", mlen=256, blen=64, hlen=64, hbm_width_bits=2048,
    mram_rows=4096, vram_rows=4194304, hbm_m_prefetch_rows=256, hbm_v_prefetch_rows=64,
    hbm_v_writeback_rows=64,
)
PLENA_TVM_BLEN4 = PLENA_TVM.with_overrides(
    name="plena-tvm-blen4", blen=4, hbm_width_bits=512, mram_rows=4096, vram_rows=4194304,
    hbm_v_prefetch_rows=4, hbm_v_writeback_rows=4,
)

PRESETS: Mapping[str, Target] = MappingProxyType(
    {
        t.name: t
        for t in (PLENA_TVM, PLENA_TVM_MLEN1024, PLENA_TVM_MLEN512, PLENA_TVM_MLEN256,
                  PLENA_TVM_BLEN4)
    }
)

DEFAULT_TARGET = PLENA_TVM


def get_target(spec: str | Path | None = None, **overrides: Any) -> Target:
    """Resolve a preset name or a `plena_settings.toml` path (`FILE.toml:TABLE` for one table
    of it), then apply field overrides."""
    if spec is None or spec == "":
        target = DEFAULT_TARGET
    elif str(spec) in PRESETS:
        target = PRESETS[str(spec)]
    elif _settings_path(str(spec))[0].endswith(".toml") or Path(spec).is_file():
        target = read_settings(str(spec)).target
    else:
        raise TargetError(
            f"unknown target '{spec}': expected one of {', '.join(PRESETS)} or a .toml file"
        )
    return target.with_overrides(**overrides) if overrides else target


# --------------------------------------------------------------------------------------------
# plena_settings.toml
# --------------------------------------------------------------------------------------------

_CONFIG_FIELDS = {
    "MLEN": "mlen",
    "VLEN": "vlen",
    "BLEN": "blen",
    "HLEN": "hlen",
    "HBM_SIZE": "hbm_bytes",
    "HBM_WIDTH": "hbm_width_bits",
    "MATRIX_SRAM_SIZE": "mram_rows",
    "VECTOR_SRAM_SIZE": "vram_rows",
    "HBM_M_Prefetch_Amount": "hbm_m_prefetch_rows",
    "HBM_V_Prefetch_Amount": "hbm_v_prefetch_rows",
    "HBM_V_Writeback_Amount": "hbm_v_writeback_rows",
    "MAX_LOOP_INSTRUCTIONS": "max_loop_instructions",
}

_PRECISION_FIELDS = {
    "HBM_M_WEIGHT_TYPE": "hbm_m_weight_format",
    "HBM_M_KV_TYPE": "hbm_m_kv_format",
    "HBM_V_ACT_TYPE": "hbm_v_act_format",
    "HBM_V_KV_TYPE": "hbm_v_kv_format",
}


#: The tables of a settings file a target may be read from, in the order one is chosen when
#: the file names none: the TVM emulator's, then the mainline emulator's.
SETTINGS_TABLES = ("BEHAVIOR", "TRANSACTIONAL")

#: Keys of a table's CONFIG the emulators read but a Target has no field for (BA is MLEN/HLEN
#: on the TVM ISA), and the latency keys no instruction of the ISA uses.
_NOT_USED = {
    "CONFIG.BROADCAST_AMOUNT": "heads per batched op: MLEN / HLEN on this ISA",
    "LATENCY.VECTOR_LONGEST_OPERATE_CYCLES": "no instruction costs it",
    "LATENCY.VECTOR_BASIC_CYCLES": "no instruction costs it",
    "LATENCY.VECTOR_PREFIX_SCAN_CYCLES": "no instruction costs it",
    "LATENCY.VECTOR_SHIFT_CYCLES": "no instruction costs it",
    "LATENCY.SCALAR_FP_LONGEST_OPERATE_CYCLES": "no instruction costs it",
    "PRECISION.MATRIX_SRAM_TYPE": "MRAM holds f32 products, VRAM bf16 (fixed by the ISA)",
    "PRECISION.VECTOR_SRAM_TYPE": "MRAM holds f32 products, VRAM bf16 (fixed by the ISA)",
    "PRECISION.HBM_V_INT_TYPE": "no instruction moves integers from HBM",
    "PRECISION.SCALAR_FP": "the FP registers' format is the ISA's (fp16 on plena-tvm)",
}


@dataclass(frozen=True)
class Settings:
    """A settings file read as a target: which table, which keys set which field, and which
    keys were read but have no effect (with the reason)."""

    target: Target
    path: Path
    table: str
    used: Mapping[str, Any]
    """`CONFIG.MLEN` -> 64, `LATENCY.VECTOR_ADD_CYCLES` -> 1 (the `dc_lib_*` column DC_EN picks),
    `PRECISION.HBM_M_WEIGHT_TYPE` -> "MXFP8"."""
    ignored: Mapping[str, str]
    """Keys of the table no target field takes, with the reason."""

    def describe(self) -> str:
        """One line: the file, the table and the keys used and ignored."""
        used = ", ".join(f"{key.split('.', 1)[1]}={value}" for key, value in self.used.items())
        text = f"{self.path} [{self.table}]: used {used}"
        if self.ignored:
            text += f"; ignored {', '.join(k.split('.', 1)[1] for k in self.ignored)}"
        return text


def settings_note(spec: str | Path | None) -> str | None:
    """For a target read from a settings file, `Settings.describe()` (what the tools print on
    stderr so a user sees which keys took effect); None for a preset."""
    if spec is None or str(spec) in PRESETS:
        return None
    return read_settings(spec).describe()


def _settings_path(spec: str) -> tuple[str, str | None]:
    """`FILE.toml:TABLE` -> (FILE.toml, TABLE); `FILE.toml` -> (FILE.toml, None)."""
    path, sep, table = spec.rpartition(":")
    if sep and table in SETTINGS_TABLES:
        return path, table
    return spec, None


def read_settings(spec: str | Path, base: Target = PLENA_TVM) -> Settings:
    """Read a PLENA `plena_settings.toml` as a target: the table `FILE.toml:TABLE` names, else
    `[BEHAVIOR]` when the file has it (the TVM emulator's), else `[TRANSACTIONAL]` (the
    mainline emulator's; both have the same keys).  Fields the file does not describe
    (register counts, FPRAM size, opcode table, feature flags) come from `base`.  Missing keys
    and malformed values are TargetErrors naming the key."""
    text, table = _settings_path(str(spec))
    path = Path(text)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise TargetError(f"cannot read target file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise TargetError(f"{path}: not a UTF-8 text file") from None
    if table is None:
        table = next((name for name in SETTINGS_TABLES if name in doc), SETTINGS_TABLES[0])
    section = doc.get(table)
    if not isinstance(section, dict):
        raise TargetError(f"{path}: no [{table}] table")
    reader = _TableReader(f"{path} [{table}]", section)
    values = reader.read()
    values |= {"name": path.stem if table == SETTINGS_TABLES[0] else f"{path.stem}-{table}",
               "source": f"{path}:{table}"}
    target = base.with_overrides(**values)
    return Settings(target, path, table, reader.used, reader.ignored())


class _TableReader:
    """Reads one table of a settings file into target field values, noting each key used."""

    def __init__(self, where: str, section: dict):
        self.where, self.section = where, section
        self.used: dict[str, Any] = {}

    def need(self, group: str, key: str) -> Any:
        table = self.section.get(group)
        if not isinstance(table, dict) or key not in table:
            raise TargetError(f"{self.where}: missing {group}.{key}")
        return table[key]

    def read(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, attr in _CONFIG_FIELDS.items():
            entry = self.need("CONFIG", key)
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, int) or isinstance(value, bool):
                raise TargetError(f"{self.where}: CONFIG.{key}.value must be an integer")
            values[attr] = self.used[f"CONFIG.{key}"] = value
        dc = self.need("CONFIG", "DC_EN")
        values["dc_en"] = bool(dc.get("value") if isinstance(dc, dict) else None)
        self.used["CONFIG.DC_EN"] = int(values["dc_en"])
        column = "dc_lib_en" if values["dc_en"] else "dc_lib_dis"
        for key, attr in _PRECISION_FIELDS.items():
            where = f"{self.where} PRECISION.{key}"
            values[attr] = _parse_hbm_format(self.need("PRECISION", key), where)
            self.used[f"PRECISION.{key}"] = "MXFP8"
        latencies: dict[str, int] = {}
        for key in LATENCY_KEYS:
            entry = self.need("LATENCY", key)
            if not isinstance(entry, dict) or not isinstance(entry.get(column), int):
                raise TargetError(f"{self.where}: LATENCY.{key}.{column} must be an integer")
            latencies[key] = self.used[f"LATENCY.{key}"] = entry[column]
        values["latencies"] = latencies
        return values

    def ignored(self) -> dict[str, str]:
        """Every key of the table's CONFIG, PRECISION and LATENCY that set no field."""
        unused = {}
        for group in ("CONFIG", "PRECISION", "LATENCY"):
            table = self.section.get(group)
            for key in table if isinstance(table, dict) else ():
                name = f"{group}.{key}"
                if name not in self.used:
                    unused[name] = _NOT_USED.get(name, "not a setting of this target")
        for group in self.section:
            if group not in ("CONFIG", "PRECISION", "LATENCY"):
                unused[f"{group}.*"] = "not a setting of this target"
        return unused


def _parse_hbm_format(entry: Any, where: str) -> MxFormat:
    if not isinstance(entry, dict) or entry.get("format") not in ("Mx",):
        raise TargetError(f'{where}: only MX HBM formats are supported (format = "Mx")')
    elem, scale = entry.get("ELEM", {}), entry.get("SCALE", {})
    try:
        fmt = MxFormat(
            elem_exp=int(elem["exponent"]),
            elem_man=int(elem["mantissa"]),
            scale_exp=int(scale["exponent"]),
            block=int(entry["block"]),
        )
    except (KeyError, TypeError, ValueError):
        raise TargetError(f"{where}: incomplete MX format description") from None
    if scale.get("sign", False) or scale.get("mantissa", 0) != 0:
        raise TargetError(f"{where}: the MX scale must be unsigned and exponent-only (E8M0)")
    if not fmt.is_mxfp8:
        raise TargetError(f"{where}: only MXFP8 (E4M3 elements, E8M0 scale, block 8) is supported")
    return fmt
