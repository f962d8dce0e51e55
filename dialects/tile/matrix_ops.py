"""`tile.gemm`: a matrix product with per-operand dimension roles.

    tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, vram>, ...   // C = A·Bᵀ
    tile.gemm %c[m, n] += %a[m, k] * %b[k, n] : ...                                    // C += A·B

Each operand names the role of each of its dimensions: M (rows of the result), K (the
contracted dimension), N (columns of the result).  The roles say which operand is
transposed; which instruction computes it (M_MM, M_TMM, M_BTMM+lane-sum, ...) is chosen later
by `plena-select-gemm`, which reports the role combinations no instruction supports, records
its choice as the attribute `plena.gemm` and, for the forms that write partial products out
first, adds a VRAM scratch buffer operand:

    tile.gemm %c[m, n] = %a[m, k] * %b[n, k] scratch %s {plena.gemm = {...}} : ..., ...
"""

from __future__ import annotations

from plena_mlir.dialects.tile.base import BufferEffects, TileOp
from plena_mlir.dialects.tile.types import BufferType, MemorySpace
from xdsl.dialects.builtin import StringAttr, UnitAttr
from xdsl.ir import Attribute, SSAValue
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

#: The roles each operand must have (in some order).
ROLES_OF_OPERAND = {"a": "mk", "b": "kn", "c": "mn"}


def gemm_properties(roles: str, accumulate: bool) -> dict[str, Attribute]:
    """The role and accumulate properties of a gemm op (tile.gemm, lane.gemm) from its roles
    in einsum notation ("mk,nk->mn" is C = A·Bᵀ)."""
    inputs, c_roles = roles.split("->")
    a_roles, b_roles = inputs.split(",")
    properties: dict[str, Attribute] = {
        "c_roles": StringAttr(c_roles),
        "a_roles": StringAttr(a_roles),
        "b_roles": StringAttr(b_roles),
    }
    if accumulate:
        properties["accumulate"] = UnitAttr()
    return properties


@irdl_op_definition
class GemmOp(TileOp):
    """C = A·B, or with `accumulate` C = C + A·B, where per the roles

        c[m, n] (+)= sum over k of a[m, k] * b[k, n]

    A is a VRAM buffer, B an MRAM buffer (the matrix unit reads its B operand from MRAM), C a
    VRAM buffer distinct from A and B.  `scratch` (optional, added by plena-select-gemm) is a
    VRAM buffer the chosen instruction form writes partial products to; its contents after
    the op are undefined.
    """

    name = "tile.gemm"

    c = operand_def(BufferType)
    a = operand_def(BufferType)
    b = operand_def(BufferType)
    scratch = opt_operand_def(BufferType)
    c_roles = prop_def(StringAttr)
    a_roles = prop_def(StringAttr)
    b_roles = prop_def(StringAttr)
    accumulate = opt_prop_def(UnitAttr)

    traits = traits_def(BufferEffects())

    @property
    def WRITTEN(self) -> tuple[str, ...]:  # noqa: N802 (the TileOp interface)
        return ("c",) if self.scratch is None else ("c", "scratch")

    def __init__(
        self,
        c: SSAValue,
        a: SSAValue,
        b: SSAValue,
        roles: str = "mk,kn->mn",
        accumulate: bool = False,
        scratch: SSAValue | None = None,
    ):
        """`roles` in einsum notation: "mk,nk->mn" is C = A·Bᵀ."""
        super().__init__(
            operands=[c, a, b, [] if scratch is None else [scratch]],
            properties=gemm_properties(roles, accumulate),
        )

    @property
    def READ(self) -> tuple[str, ...]:
        return ("c", "a", "b") if self.accumulate is not None else ("a", "b")

    @property
    def einsum(self) -> str:
        """The product in `numpy.einsum` notation, e.g. "mk,nk->mn"."""
        return f"{self.a_roles.data},{self.b_roles.data}->{self.c_roles.data}"

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, parser: Parser) -> GemmOp:
        c, a, b, roles, accumulate = parse_gemm_product(parser)
        operands = [c, a, b]
        if parser.parse_optional_keyword("scratch") is not None:
            operands.append(parser.parse_unresolved_operand())
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
        if len(types) != len(operands):
            parser.raise_error(
                f"tile.gemm takes {len(operands)} types (c, a, b"
                f"{', scratch' if len(operands) == 4 else ''}), got {len(types)}"
            )
        resolved = [parser.resolve_operand(v, t) for v, t in zip(operands, types, strict=True)]
        op = cls(
            *resolved[:3],
            roles=roles,
            accumulate=accumulate,
            scratch=resolved[3] if len(resolved) == 4 else None,
        )
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_gemm_product(printer, self)
        if self.scratch is not None:
            printer.print_string(" scratch ")
            printer.print_operand(self.scratch)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_list((v.type for v in self.operands), printer.print_attribute)

    # verification ---------------------------------------------------------------------------
    def verify_(self) -> None:
        spaces = {"a": MemorySpace.VRAM, "b": MemorySpace.MRAM, "c": MemorySpace.VRAM}
        sizes: dict[str, dict[str, int]] = {}
        for operand, space in spaces.items():
            typ = self.check_space(operand, getattr(self, operand), space)
            roles = getattr(self, f"{operand}_roles").data
            sizes[operand] = self._check_roles(operand, typ, roles)
        if self.c in (self.a, self.b):
            raise self.fail("c must be a buffer distinct from a and b")
        if self.scratch is not None:
            self.check_space("scratch", self.scratch, MemorySpace.VRAM)
            if self.scratch in (self.a, self.b, self.c):
                raise self.fail("scratch must be a buffer distinct from a, b and c")
        for role, first, second in (("k", "a", "b"), ("m", "a", "c"), ("n", "b", "c")):
            if sizes[first][role] != sizes[second][role]:
                raise self.fail(
                    f"{role.upper()} of {first} ({sizes[first][role]}) does not match "
                    f"{role.upper()} of {second} ({sizes[second][role]})"
                )

    def _check_roles(self, operand: str, typ: BufferType, roles: str) -> dict[str, int]:
        """Role -> size of `operand`; an error for unknown, repeated or missing roles."""
        shown = f"[{', '.join(roles)}]"
        for role in roles:
            if role not in "mkn":
                raise self.fail(f"unknown role '{role}' in {operand} {shown}: roles are m, k, n")
            if roles.count(role) > 1:
                raise self.fail(f"role '{role}' is used twice in {operand} {shown}")
        expected = ROLES_OF_OPERAND[operand]
        if len(roles) != typ.rank or set(roles) != set(expected):
            raise self.fail(
                f"{operand} ({typ}) must have one role per dimension, {expected[0]} and "
                f"{expected[1]}, got {shown}"
            )
        return dict(zip(roles, typ.get_shape(), strict=True))


def parse_operand_with_roles(parser: Parser):
    """`%v[r0, r1]` with single-letter roles."""
    operand = parser.parse_unresolved_operand()

    def parse_role() -> str:
        pos = parser.pos
        role = parser.parse_identifier("a dimension role: m, k or n")
        if len(role) != 1:
            parser.raise_error(f"'{role}' is not a dimension role: m, k or n", pos, parser.pos)
        return role

    roles = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, parse_role)
    return operand, "".join(roles)


def parse_gemm_product(parser: Parser):
    """`%c[m, n] (+)= %a[m, k] * %b[n, k]`, the product syntax of tile.gemm and lane.gemm:
    the three unresolved operands, the roles as "mk,nk->mn", and whether it is `+=`."""
    c, c_roles = parse_operand_with_roles(parser)
    accumulate = parser.parse_optional_punctuation("+") is not None
    parser.parse_punctuation("=")
    a, a_roles = parse_operand_with_roles(parser)
    parser.parse_punctuation("*")
    b, b_roles = parse_operand_with_roles(parser)
    return c, a, b, f"{a_roles},{b_roles}->{c_roles}", accumulate


def print_gemm_product(printer: Printer, op) -> None:
    """Print what `parse_gemm_product` reads, from an op with c, a, b, their roles and
    `accumulate`."""
    for i, (value, roles) in enumerate(
        ((op.c, op.c_roles), (op.a, op.a_roles), (op.b, op.b_roles))
    ):
        if i:
            printer.print_string(" * " if i == 2 else (" += " if op.accumulate else " = "))
        printer.print_operand(value)
        printer.print_string(f"[{', '.join(roles.data)}]")
