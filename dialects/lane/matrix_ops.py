"""The matrix unit: head-batched `lane.btmm` / `lane.btmv` (multi-lane) and the per-lane
`lane.gemm` (one head's M_MM / M_MV).

    lane.btmm %s = %q * %k : !lane.buffer<4x64x64xbf16, vram, row_stack>,
                             !lane.buffer<4x64x16xbf16, vram, col_pack>,
                             !lane.buffer<4x64x16xbf16, mram, col_pack>
    lane.gemm %o[m, n] += %p[m, k] * %v[k, n] lane %l : ...

M = MLEN, H = HLEN, L = M/H.  In BTMM each lane contracts its own H columns of the packed
row, and the write-out (M_BMM_WO / M_BMV_WO) stores lane l's result as a head-major slab:
that is why a BTMM result is row_stack and its operands col_pack.
"""

from __future__ import annotations

from abc import ABC
from typing import ClassVar

from plena_mlir.dialects.lane.base import LaneEffects, LaneOp, PerLaneOp
from plena_mlir.dialects.lane.layouts import LaneLayout
from plena_mlir.dialects.lane.traits import MultiLane, PerLane
from plena_mlir.dialects.lane.types import LaneBufferType
from plena_mlir.dialects.plena.attrs import target_of

# The `%v[m, k]` operand syntax of tile.gemm.
from plena_mlir.dialects.tile.matrix_ops import (
    ROLES_OF_OPERAND,
    gemm_properties,
    parse_gemm_product,
    print_gemm_product,
)
from plena_mlir.dialects.tile.types import MemorySpace, format_shape
from xdsl.dialects.builtin import IndexType, StringAttr, UnitAttr
from xdsl.ir import SSAValue
from xdsl.irdl import (
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer

_VRAM, _MRAM = MemorySpace.VRAM, MemorySpace.MRAM


def _check_mram(op: LaneOp, role: str, value: SSAValue) -> LaneBufferType:
    typ = op.check_buffer(role, value)
    if typ.space is not _MRAM:
        raise op.fail(
            f"the B operand {role} must be in mram, got {typ.space} ({typ}): the matrix unit "
            "reads its B operand from MRAM, which only HBM (H_PREFETCH_M) can fill"
        )
    return typ


# ---------------------------------------------------------------------------------------------
# head-batched: lane.btmm, lane.btmv
# ---------------------------------------------------------------------------------------------


class BatchedOp(LaneOp, ABC):
    """dst = q · kᵀ for every lane at once; `ROWS` query rows per lane (None: MLEN)."""

    ROWS: ClassVar[int | None]
    WRITE_OUT: ClassVar[str]

    dst = operand_def(LaneBufferType)
    q = operand_def(LaneBufferType)
    k = operand_def(LaneBufferType)

    traits = traits_def(MultiLane(), LaneEffects())

    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("q", "k")

    def __init__(self, dst: SSAValue, q: SSAValue, k: SSAValue):
        super().__init__(operands=[dst, q, k])

    @classmethod
    def parse(cls, parser: Parser):
        dst = parser.parse_unresolved_operand()
        parser.parse_punctuation("=")
        q = parser.parse_unresolved_operand()
        parser.parse_punctuation("*")
        k = parser.parse_unresolved_operand()
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        pos = parser.pos
        types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
        if len(types) != 3:
            parser.raise_error(f"{cls.name} takes 3 types (dst, q, k), got {len(types)}", pos)
        op = cls(*(parser.resolve_operand(v, t) for v, t in zip((dst, q, k), types, strict=True)))
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.dst)
        printer.print_string(" = ")
        printer.print_operand(self.q)
        printer.print_string(" * ")
        printer.print_operand(self.k)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_list((self.dst.type, self.q.type, self.k.type), printer.print_attribute)

    def verify_(self) -> None:
        target = target_of(self)
        m, h = target.mlen, target.hlen
        rows = m if self.ROWS is None else self.ROWS
        dst = self.check_buffer("dst", self.dst, (_VRAM,))
        if dst.layout is not LaneLayout.ROW_STACK:
            raise self.fail(
                f"the result must be row_stack, got {dst.layout} ({dst}): {self.WRITE_OUT} "
                "writes lane l's rows as one head-major slab"
            )
        self.check_buffer("q", self.q, (_VRAM,), (LaneLayout.COL_PACK,))
        k = _check_mram(self, "k", self.k)
        if k.layout is not LaneLayout.COL_PACK:
            raise self.fail(f"k must be col_pack (lane l in columns l*H ..), got {k.layout}")
        for role, value, shape in (
            ("q", self.q, (rows, h)),
            ("k", self.k, (m, h)),
            ("dst", self.dst, (rows, m)),
        ):
            lane_shape = value.type.lane_shape
            if lane_shape != shape:
                raise self.fail(
                    f"a lane of {role} must be {format_shape(shape)} (MLEN = {m}, HLEN = {h}), "
                    f"got {format_shape(lane_shape)}"
                )


@irdl_op_definition
class BtmmOp(BatchedOp):
    """Q·Kᵀ of every head at once (M_BTMM, then the write-out M_BMM_WO):

        for l < L, q < M, j < M:
            dst[l, q, j] = bf16(sum over d < H of q[l, q, d] * k[l, j, d])

    q is col_pack VRAM (L x M x H), k col_pack MRAM (L x M x H, one tile), dst row_stack VRAM
    (L x M x M, lane l at dst + l*M*M).
    """

    name = "lane.btmm"
    ROWS: ClassVar[int | None] = None
    WRITE_OUT: ClassVar[str] = "M_BMM_WO"


@irdl_op_definition
class BtmvOp(BatchedOp):
    """q·Kᵀ of every head for one query row (M_BTMV, then the write-out M_BMV_WO):

        for l < L, j < M:  dst[l, 0, j] = bf16(sum over d < H of q[l, 0, d] * k[l, j, d])

    q is col_pack VRAM (L x 1 x H), k col_pack MRAM (L x M x H), dst row_stack VRAM (L x 1 x M,
    lane l in the row at dst + l*M).
    """

    name = "lane.btmv"
    ROWS: ClassVar[int | None] = 1
    WRITE_OUT: ClassVar[str] = "M_BMV_WO"


# ---------------------------------------------------------------------------------------------
# per-lane: lane.gemm
# ---------------------------------------------------------------------------------------------

#: The instructions that compute one head's product (`via`): M_MM / M_TMM / M_TMM_A (Bl x
#: Bl blocks), M_MV / M_TMV (one row), or the batched unit with a lane sum
#: (M_BMM, M_BTMM, M_BTMV: the L lanes' partial products of the head's K, summed by
#: V_ADD_VV).  plena-select-gemm chooses among those plena-tvm computes them with
#: (plena_mlir/gemm/forms.py: not M_TMM_A, which runs as M_MM, nor M_TMV).
GEMM_INSTRUCTIONS = ("M_MM", "M_TMM", "M_TMM_A", "M_MV", "M_TMV", "M_BMM", "M_BTMM", "M_BTMV")


@irdl_op_definition
class GemmOp(PerLaneOp):
    """One head's matrix product, lane l = the `lane` operand:

        c[l] (+)= a[l] · b[l]       c[l][m, n] (+)= sum over k of a[l][m, k] * b[l][k, n]

    with the roles of tile.gemm on the per-lane shapes; a flat operand is the same for every
    lane.  a is VRAM (row_stack, col_pack or flat), b MRAM (col_pack or flat), c a VRAM lane
    buffer distinct from a and b.  `via M_MM` (optional) records the instruction
    plena-select-gemm chose (GEMM_INSTRUCTIONS); `scratch %s` (optional, added with it) is
    a VRAM lane buffer the chosen form writes partial products to, undefined afterwards:

        lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l via M_BMM scratch %s : ...
    """

    name = "lane.gemm"

    c = operand_def(LaneBufferType)
    a = operand_def(LaneBufferType)
    b = operand_def(LaneBufferType)
    lane = operand_def(IndexType)
    scratch = opt_operand_def(LaneBufferType)
    c_roles = prop_def(StringAttr)
    a_roles = prop_def(StringAttr)
    b_roles = prop_def(StringAttr)
    accumulate = opt_prop_def(UnitAttr)
    instruction = opt_prop_def(StringAttr)

    traits = traits_def(PerLane(), LaneEffects())

    def __init__(
        self,
        c: SSAValue,
        a: SSAValue,
        b: SSAValue,
        lane: SSAValue,
        roles: str = "mk,kn->mn",
        accumulate: bool = False,
        instruction: str | None = None,
        scratch: SSAValue | None = None,
    ):
        """`roles` in einsum notation: "mk,nk->mn" is c = a·bᵀ."""
        properties = gemm_properties(roles, accumulate)
        if instruction is not None:
            properties["instruction"] = StringAttr(instruction)
        super().__init__(
            operands=[c, a, b, lane, [] if scratch is None else [scratch]], properties=properties
        )

    @property
    def WRITTEN(self) -> tuple[str, ...]:  # noqa: N802 (the LaneOp interface)
        return ("c",) if self.scratch is None else ("c", "scratch")

    @property
    def READ(self) -> tuple[str, ...]:  # noqa: N802 (the LaneOp interface)
        return ("c", "a", "b") if self.accumulate is not None else ("a", "b")

    @property
    def einsum(self) -> str:
        """The per-lane product in `numpy.einsum` notation, e.g. "mk,nk->mn"."""
        return f"{self.a_roles.data},{self.b_roles.data}->{self.c_roles.data}"

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, parser: Parser) -> GemmOp:
        c, a, b, roles, accumulate = parse_gemm_product(parser)
        parser.parse_keyword("lane", " (a per-lane op names its lane: `lane %l`)")
        lane = parser.resolve_operand(parser.parse_unresolved_operand(), IndexType())
        instruction = None
        if parser.parse_optional_keyword("via"):
            instruction = parser.parse_identifier("an instruction: " + ", ".join(GEMM_INSTRUCTIONS))
        operands = [c, a, b]
        if parser.parse_optional_keyword("scratch"):
            operands.append(parser.parse_unresolved_operand())
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        pos = parser.pos
        types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
        if len(types) != len(operands):
            names = "c, a, b" + (", scratch" if len(operands) == 4 else "")
            parser.raise_error(
                f"lane.gemm takes {len(operands)} types ({names}), got {len(types)}", pos
            )
        resolved = [parser.resolve_operand(v, t) for v, t in zip(operands, types, strict=True)]
        scratch = resolved[3] if len(resolved) == 4 else None
        op = cls(*resolved[:3], lane, roles, accumulate, instruction, scratch)
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_gemm_product(printer, self)
        printer.print_string(" lane ")
        printer.print_operand(self.lane)
        if self.instruction is not None:
            printer.print_string(f" via {self.instruction.data}")
        if self.scratch is not None:
            printer.print_string(" scratch ")
            printer.print_operand(self.scratch)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        types = [self.c.type, self.a.type, self.b.type]
        if self.scratch is not None:
            types.append(self.scratch.type)
        printer.print_list(types, printer.print_attribute)

    # verification ---------------------------------------------------------------------------
    def verify_(self) -> None:
        c = self.check_buffer("c", self.c, (_VRAM,))
        self.check_written_lane("c", c)
        a = self.check_buffer("a", self.a, (_VRAM,))
        b = _check_mram(self, "b", self.b)
        if self.c in (self.a, self.b):
            raise self.fail("c must be a buffer distinct from a and b")
        if self.scratch is not None:
            self.check_buffer("scratch", self.scratch, (_VRAM,))
            if self.scratch in (self.a, self.b, self.c):
                raise self.fail("scratch must be a buffer distinct from a, b and c")
        sizes = {name: self._check_roles(name, typ) for name, typ in (("a", a), ("b", b), ("c", c))}
        for role, first, second in (("k", "a", "b"), ("m", "a", "c"), ("n", "b", "c")):
            if sizes[first][role] != sizes[second][role]:
                raise self.fail(
                    f"{role.upper()} of {first} ({sizes[first][role]}) does not match "
                    f"{role.upper()} of {second} ({sizes[second][role]}) (per-lane shapes)"
                )
        if self.instruction is not None:
            name = self.instruction.data
            if name not in GEMM_INSTRUCTIONS:
                raise self.fail(
                    f"unknown instruction '{name}': expected {', '.join(GEMM_INSTRUCTIONS)}"
                )
            if name in ("M_MV", "M_TMV") and sizes["c"]["m"] != 1:
                raise self.fail(f"{name} computes one row, but M is {sizes['c']['m']}")

    def _check_roles(self, operand: str, typ: LaneBufferType) -> dict[str, int]:
        """Role -> size of one lane of `operand`; an error for unknown, repeated or missing
        roles."""
        roles = getattr(self, f"{operand}_roles").data
        shown = f"[{', '.join(roles)}]"
        expected = ROLES_OF_OPERAND[operand]
        if len(roles) != len(typ.lane_shape) or set(roles) != set(expected):
            raise self.fail(
                f"a lane of {operand} ({format_shape(typ.lane_shape)}) needs one role per "
                f"dimension, {expected[0]} and {expected[1]}, got {shown}"
            )
        return dict(zip(roles, typ.lane_shape, strict=True))
