"""Run statistics: cycles, dynamic instruction counts, per-class cycles, HBM traffic, MAC use.

The executor only counts dispatches per pc and DMA cycles per pc; `collect` turns those into
`Stats` once, after the run, with the cycle model of `cycles.py`; `sequential` adds up
runs made one after the other (the stages of a linked chain).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from plena_mlir.isa.opcodes import TVM_BY_OPCODE, InstrClass
from plena_mlir.sim.cycles import fixed_cycles, macs
from plena_mlir.sim.machine import RunRecord
from plena_mlir.sim.ops_common import Fields
from plena_mlir.target import Target


@dataclass(frozen=True)
class Stats:
    """What one run cost.

    `cycles` = fixed cycles of every executed instruction + DMA cycles; `per_opcode` maps each
    executed mnemonic to its dynamic count (most frequent first); `per_class_cycles` maps every
    `InstrClass` name to the cycles spent in that class (DMA time under HBM);
    `mac_utilisation` = MACs performed / (cycles * MLEN^2), see `cycles.py`.
    """

    cycles: int
    instructions: int
    per_opcode: dict[str, int]
    per_class_cycles: dict[str, int]
    hbm_bytes_read: int
    hbm_bytes_written: int
    mac_utilisation: float

    def to_json(self) -> dict:
        return asdict(self)


def collect(record: RunRecord, target: Target, bytes_read: int, bytes_written: int) -> Stats:
    """Aggregate a completed run's per-pc counters into `Stats`."""
    per_opcode: dict[str, int] = {}
    per_class = {k.name: 0 for k in InstrClass}
    total_macs = 0
    for pc, count in enumerate(record.counts):
        if not count:
            continue
        f = Fields.of(record.words[pc])
        info = TVM_BY_OPCODE[f.opcode]
        cycles = count * fixed_cycles(info.mnemonic, f, target) + record.dma_cycles[pc]
        per_opcode[info.mnemonic] = per_opcode.get(info.mnemonic, 0) + count
        per_class[info.klass.name] += cycles
        total_macs += count * macs(info.mnemonic, target)
    cycles = sum(per_class.values())
    peak = cycles * target.peak_macs_per_cycle
    return Stats(
        cycles=cycles,
        instructions=record.instructions,
        per_opcode=dict(sorted(per_opcode.items(), key=lambda kv: (-kv[1], kv[0]))),
        per_class_cycles=per_class,
        hbm_bytes_read=bytes_read,
        hbm_bytes_written=bytes_written,
        mac_utilisation=total_macs / peak if peak else 0.0,
    )


def format_summary(stats: Stats, top: int = 8) -> str:
    """A short human-readable report of `stats`."""
    lines = [
        f"cycles           {stats.cycles}",
        f"instructions     {stats.instructions}",
        f"MAC utilisation  {100 * stats.mac_utilisation:.2f} % of MLEN^2 MACs/cycle",
        f"HBM bytes        read {stats.hbm_bytes_read}, written {stats.hbm_bytes_written}",
        "cycles per class",
    ]
    for name, cycles in stats.per_class_cycles.items():
        if cycles:
            share = 100 * cycles / stats.cycles
            lines.append(f"  {name:<12} {cycles:>14}  {share:5.1f} %")
    lines.append(f"top opcodes (of {len(stats.per_opcode)} executed)")
    for mnemonic, count in list(stats.per_opcode.items())[:top]:
        lines.append(f"  {mnemonic:<16} {count:>12}")
    return "\n".join(lines) + "\n"


def sequential(runs: list[Stats]) -> Stats:
    """The statistics of `runs` made one after the other on one machine, as one run
    (MAC utilisation weighted by cycles)."""
    cycles = sum(s.cycles for s in runs)
    per_opcode: dict[str, int] = {}
    per_class: dict[str, int] = {}
    for stats in runs:
        for name, count in stats.per_opcode.items():
            per_opcode[name] = per_opcode.get(name, 0) + count
        for name, count in stats.per_class_cycles.items():
            per_class[name] = per_class.get(name, 0) + count
    return Stats(
        cycles=cycles,
        instructions=sum(s.instructions for s in runs),
        per_opcode=dict(sorted(per_opcode.items(), key=lambda kv: (-kv[1], kv[0]))),
        per_class_cycles=per_class,
        hbm_bytes_read=sum(s.hbm_bytes_read for s in runs),
        hbm_bytes_written=sum(s.hbm_bytes_written for s in runs),
        mac_utilisation=sum(s.mac_utilisation * s.cycles for s in runs) / cycles
        if cycles
        else 0.0,
    )
