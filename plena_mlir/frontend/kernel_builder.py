"""A Python builder for `tile` kernels, so a kernel reads like the math.

    with KernelBuilder("rmsnorm", grid={"row": 2}) as k:
        x, y = k.tensor("x", (128, 1024)), k.tensor("y", (128, 1024))
        eps = k.scalar("eps")                          # an f32 kernel argument
        row0 = k.axis("row") * 64                      # index math emits arith ops
        t = k.alloc((64, 1024), "vram")
        ss = k.alloc((64,), "fpram")
        k.copy(x[row0, 0], t)                          # HBM slice -> VRAM
        sq = k.alloc((64, 1024), "vram")
        k.mul(sq, t, t)
        k.reduce_sum(ss, sq)
        ss *= 1 / 1024                                 # tile.fp_mul with a constant
        ...
        for i in k.range(0, 4):                        # scf.for; the body is built once
            ...
    module = k.module

Handles: `Tensor` (an HBM argument), `Buffer` (an on-chip buffer), `Index` (an index value:
`+ - *` with ints or other indices emit `arith` ops), `Scalar` (an f32 value).  Indexing a
tensor or buffer, `x[r, 0]`, gives a `Ref` (offsets): the sliced side of a copy, or one FPRAM
element for the scalar operands of `*_scalar`, `reduce_*` and `fp_*` ops.  A Python float
where a scalar is expected becomes an `arith.constant`.

In-place operators on buffers pick the op from the operand types: for a VRAM buffer `t`,
`t += u` (u a VRAM buffer) is `tile.add`, `t *= s` (s a scalar, an FPRAM buffer or element) is
`tile.mul_scalar`; for an FPRAM buffer `m`, `m += s` is `tile.fp_add`.  Everything else is a
method of the builder named after its op (`k.exp(dst, src)`, `k.gemm(c, a, b, "mk,nk->mn")`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xdsl.builder import Builder
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    BFloat16Type,
    Float16Type,
    Float32Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    f32,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint

from plena_mlir.dialects.plena import TARGET_ATTR_NAME, target_attr
from plena_mlir.dialects.tile import (
    AddOp,
    AddScalarOp,
    AllocOp,
    BufferType,
    CopyOp,
    ExpOp,
    FillOp,
    FpAddOp,
    FpExpOp,
    FpMaxOp,
    FpMulOp,
    FpReciOp,
    FpSqrtOp,
    FpSubOp,
    GemmOp,
    KernelOp,
    MemorySpace,
    MulOp,
    MulScalarOp,
    OperandListSyntax,
    ReciOp,
    ReduceMaxOp,
    ReduceSumOp,
    RsubScalarOp,
    SubOp,
    SubScalarOp,
    TensorType,
)
from plena_mlir.target import Target

ELEMENT_TYPE_OF_NAME: Mapping[str, Attribute] = {
    "bf16": BFloat16Type(),
    "f16": Float16Type(),
    "f32": Float32Type(),
}


@dataclass(frozen=True)
class Index:
    """An index value; arithmetic with ints and indices emits `arith` ops."""

    kernel: KernelBuilder
    value: SSAValue

    def _binary(self, other: int | Index, op: type[Operation]) -> Index:
        k = self.kernel
        return Index(k, k.emit(op(self.value, k.index_value(other))).results[0])

    def __add__(self, other: int | Index) -> Index:
        return self if isinstance(other, int) and other == 0 else self._binary(other, arith.AddiOp)

    __radd__ = __add__

    def __sub__(self, other: int | Index) -> Index:
        return self if isinstance(other, int) and other == 0 else self._binary(other, arith.SubiOp)

    def __mul__(self, other: int | Index) -> Index:
        return self if isinstance(other, int) and other == 1 else self._binary(other, arith.MuliOp)

    __rmul__ = __mul__


@dataclass(frozen=True)
class Scalar:
    """An f32 value: a kernel argument or a constant."""

    value: SSAValue


@dataclass(frozen=True)
class Ref:
    """A tensor or buffer with offsets: a copy's sliced side, or one FPRAM element."""

    target: Tensor | Buffer
    offsets: tuple[int | Index, ...]


@dataclass(frozen=True)
class Tensor:
    """An HBM tensor argument of the kernel."""

    kernel: KernelBuilder
    value: SSAValue

    def __getitem__(self, offsets: int | Index | tuple[int | Index, ...]) -> Ref:
        return Ref(self, offsets if isinstance(offsets, tuple) else (offsets,))


@dataclass(frozen=True)
class Buffer(Tensor):
    """An on-chip buffer; `+=`, `-=` and `*=` update it in place (see the module docstring)."""

    @property
    def type(self) -> BufferType:
        assert isinstance(self.value.type, BufferType)
        return self.value.type

    def _update(self, other: Any, tile_op: type, scalar_op: type, fp_op: type) -> Buffer:
        k = self.kernel
        if self.type.rank == 1:
            k.emit_list(fp_op, dst=self, lhs=self, rhs=other)
        elif isinstance(other, Buffer) and other.type.rank == 2:
            k.emit_list(tile_op, dst=self, lhs=self, rhs=other)
        else:
            k.emit_list(scalar_op, dst=self, src=self, scalar=other)
        return self

    def __iadd__(self, other: Any) -> Buffer:
        return self._update(other, AddOp, AddScalarOp, FpAddOp)

    def __isub__(self, other: Any) -> Buffer:
        return self._update(other, SubOp, SubScalarOp, FpSubOp)

    def __imul__(self, other: Any) -> Buffer:
        return self._update(other, MulOp, MulScalarOp, FpMulOp)


class KernelBuilder:
    """Builds one `tile.kernel` in a module; use as a context manager (the module is verified
    on exit) or call `finish()`."""

    def __init__(
        self,
        name: str,
        grid: Mapping[str, int] | None = None,
        lane: str | None = None,
        target: Target | str | None = None,
    ):
        """A kernel over `grid` (axis name -> size, in order), `lane` naming the lane axis;
        `target` (a Target, a preset or a settings file) is recorded as the module's
        `plena.target`."""
        self.kernel = KernelOp(name, list((grid or {}).items()), [], lane)
        self.module = ModuleOp([self.kernel])
        if target is not None:
            self.module.attributes[TARGET_ATTR_NAME] = target_attr(target)
        self._block: Block = self.kernel.body.block
        self._builder = Builder(InsertPoint.at_end(self._block))
        self._constants: dict[tuple[str, float], SSAValue] = {}

    def __enter__(self) -> KernelBuilder:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.finish()

    def finish(self) -> ModuleOp:
        """The module, verified."""
        self.module.verify()
        return self.module

    # arguments and values -------------------------------------------------------------------
    def _argument(self, name: str, typ: Attribute) -> SSAValue:
        arg = self._block.insert_arg(typ, len(self._block.args))
        arg.name_hint = name
        names = [*(a.data for a in self.kernel.arg_names.data), name]
        self.kernel.properties["arg_names"] = ArrayAttr(StringAttr(n) for n in names)
        return arg

    def tensor(self, name: str, shape: Sequence[int], dtype: str = "f32") -> Tensor:
        """A new HBM tensor argument."""
        return Tensor(self, self._argument(name, TensorType(shape, ELEMENT_TYPE_OF_NAME[dtype])))

    def scalar(self, name: str) -> Scalar:
        """A new f32 scalar argument (eps, a softmax scale ...)."""
        return Scalar(self._argument(name, f32))

    def axis(self, name: str) -> Index:
        """The index of grid axis `name` in this program instance."""
        names = [a.data for a in self.kernel.grid_names.data]
        return Index(self, self.kernel.grid_indices[names.index(name)])

    def _constant(self, value: float | int, typ: Attribute) -> SSAValue:
        """A constant at the top of the kernel body (so it dominates every use), made once."""
        key = (str(typ), value)
        if key not in self._constants:
            attr = IntegerAttr(value, typ) if isinstance(typ, IndexType) else FloatAttr(value, typ)
            op = arith.ConstantOp(attr)
            self._builder.insert(op, InsertPoint.at_start(self._block))
            self._constants[key] = op.result
        return self._constants[key]

    def index_value(self, value: int | Index) -> SSAValue:
        return value.value if isinstance(value, Index) else self._constant(value, IndexType())

    def alloc(
        self,
        shape: Sequence[int],
        space: str = "vram",
        dtype: str | None = None,
        name: str | None = None,
    ) -> Buffer:
        """A new buffer (`name` is its SSA name hint); the element type defaults to bf16 (f32
        in FPRAM)."""
        default = "f32" if space == MemorySpace.FPRAM.value else "bf16"
        typ = BufferType(shape, ELEMENT_TYPE_OF_NAME[dtype or default], space)
        result = self.emit(AllocOp(typ)).result
        result.name_hint = name
        return Buffer(self, result)

    # emission -------------------------------------------------------------------------------
    def emit(self, op: Operation) -> Any:
        self._builder.insert(op)
        return op

    def emit_list(self, op_type: type[OperandListSyntax], *flags: str, **operands: Any) -> None:
        """An operand-list op from handles by operand name (a Ref is a buffer and its index,
        a float a constant)."""
        values: dict[str, SSAValue | None] = {}
        for name, handle in operands.items():
            if isinstance(handle, Ref):
                if len(handle.offsets) != 1:
                    raise TypeError(
                        f"{op_type.name}: {name} is one FPRAM element, indexed by one offset, "
                        f"got {len(handle.offsets)}"
                    )
                (offset,) = handle.offsets
                values[name] = handle.target.value
                values[f"{name}_index"] = self.index_value(offset)
            elif isinstance(handle, int | float):
                values[name] = self._constant(float(handle), f32)
            else:
                values[name] = handle.value
        self.emit(op_type.create_from(values, flags))

    def range(
        self, start: int | Index, stop: int | Index, step: int = 1, name: str | None = None
    ) -> Iterator[Index]:
        """`for i in k.range(...)`: an scf.for whose body is what the Python loop body builds
        (it runs once); `name` is the induction variable's name hint."""
        body = Block(arg_types=[IndexType()])
        body.args[0].name_hint = name
        body.add_op(scf.YieldOp())
        bounds = (self.index_value(start), self.index_value(stop), self.index_value(step))
        self.emit(scf.ForOp(*bounds, [], body))
        outer = self._builder.insertion_point
        self._builder.insertion_point = InsertPoint.before(body.last_op)
        try:
            yield Index(self, body.args[0])
        finally:
            self._builder.insertion_point = outer

    # ops --------------------------------------------------------------------------------------
    def copy(
        self,
        src: Tensor | Ref,
        dst: Tensor | Ref,
        src_sizes: Sequence[int] = (),
        dst_sizes: Sequence[int] = (),
    ) -> None:
        """tile.copy: a side given as a Ref (`x[r, 0]`) is sliced; the sizes of a sliced side
        are needed when they cannot be derived from the other side."""

        def side(handle: Tensor | Ref) -> tuple[SSAValue, list[SSAValue | int]]:
            if isinstance(handle, Ref):
                offsets = [o if isinstance(o, int) else o.value for o in handle.offsets]
                return handle.target.value, offsets
            return handle.value, []

        (src_value, src_offsets), (dst_value, dst_offsets) = side(src), side(dst)
        self.emit(CopyOp(src_value, dst_value, src_offsets, dst_offsets, src_sizes, dst_sizes))

    def fill(self, dst: Buffer, value: float | Scalar) -> None:
        self.emit_list(FillOp, dst=dst, value=value)

    def gemm(self, c: Buffer, a: Buffer, b: Buffer, roles: str, accumulate: bool = False):
        """c (+)= a·b with roles in einsum notation: "mk,nk->mn" is C = A·Bᵀ."""
        self.emit(GemmOp(c.value, a.value, b.value, roles, accumulate))

    def add(self, dst: Buffer, lhs: Buffer, rhs: Buffer) -> None:
        self.emit_list(AddOp, dst=dst, lhs=lhs, rhs=rhs)

    def sub(self, dst: Buffer, lhs: Buffer, rhs: Buffer) -> None:
        self.emit_list(SubOp, dst=dst, lhs=lhs, rhs=rhs)

    def mul(self, dst: Buffer, lhs: Buffer, rhs: Buffer) -> None:
        self.emit_list(MulOp, dst=dst, lhs=lhs, rhs=rhs)

    def exp(self, dst: Buffer, src: Buffer) -> None:
        self.emit_list(ExpOp, dst=dst, src=src)

    def reci(self, dst: Buffer, src: Buffer) -> None:
        self.emit_list(ReciOp, dst=dst, src=src)

    def add_scalar(self, dst: Buffer, src: Buffer, scalar: Any) -> None:
        self.emit_list(AddScalarOp, dst=dst, src=src, scalar=scalar)

    def sub_scalar(self, dst: Buffer, src: Buffer, scalar: Any) -> None:
        self.emit_list(SubScalarOp, dst=dst, src=src, scalar=scalar)

    def rsub_scalar(self, dst: Buffer, src: Buffer, scalar: Any) -> None:
        """dst = scalar - src"""
        self.emit_list(RsubScalarOp, dst=dst, src=src, scalar=scalar)

    def mul_scalar(self, dst: Buffer, src: Buffer, scalar: Any) -> None:
        self.emit_list(MulScalarOp, dst=dst, src=src, scalar=scalar)

    def reduce_max(self, acc: Buffer | Ref, src: Buffer, accumulate: bool = False) -> None:
        flags = ("accumulate",) if accumulate else ()
        self.emit_list(ReduceMaxOp, *flags, acc=acc, src=src)

    def reduce_sum(self, acc: Buffer | Ref, src: Buffer, accumulate: bool = False) -> None:
        flags = ("accumulate",) if accumulate else ()
        self.emit_list(ReduceSumOp, *flags, acc=acc, src=src)

    def fp_add(self, dst: Buffer | Ref, lhs: Any, rhs: Any) -> None:
        self.emit_list(FpAddOp, dst=dst, lhs=lhs, rhs=rhs)

    def fp_sub(self, dst: Buffer | Ref, lhs: Any, rhs: Any) -> None:
        self.emit_list(FpSubOp, dst=dst, lhs=lhs, rhs=rhs)

    def fp_mul(self, dst: Buffer | Ref, lhs: Any, rhs: Any) -> None:
        self.emit_list(FpMulOp, dst=dst, lhs=lhs, rhs=rhs)

    def fp_max(self, dst: Buffer | Ref, lhs: Any, rhs: Any) -> None:
        self.emit_list(FpMaxOp, dst=dst, lhs=lhs, rhs=rhs)

    def fp_exp(self, dst: Buffer | Ref, src: Any) -> None:
        self.emit_list(FpExpOp, dst=dst, src=src)

    def fp_reci(self, dst: Buffer | Ref, src: Any) -> None:
        self.emit_list(FpReciOp, dst=dst, src=src)

    def fp_sqrt(self, dst: Buffer | Ref, src: Any) -> None:
        self.emit_list(FpSqrtOp, dst=dst, src=src)
