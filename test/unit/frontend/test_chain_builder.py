"""`plena_mlir.frontend.chain_builder`: chains of library kernels, and the chain ops they are made
of."""

import re
from io import StringIO
from pathlib import Path

import pytest
from plena_mlir.dialects import get_all_dialects
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr, target_of
from plena_mlir.dialects.tile import (
    CHAIN_OPS,
    CallOp,
    ChainOp,
    HbmTensorOp,
    KernelOp,
    TensorType,
    ViewOp,
)
from xdsl.context import Context
from xdsl.dialects.arith import Arith, ConstantOp
from xdsl.dialects.builtin import Builtin, IntegerAttr, ModuleOp, bf16, f32, i64
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from plena_mlir.frontend.chain_builder import ChainBuilder, ChainScalar, ChainTensor
from plena_mlir.kernels import layernorm, linear, modulate, rmsnorm
from plena_mlir.target import DEFAULT_TARGET

DOC = Path(__file__).resolve().parents[3] / "docs" / "dialects" / "tile.md"


def _print(module: ModuleOp) -> str:
    out = StringIO()
    Printer(stream=out).print_op(module)
    return out.getvalue()


def _parse(text: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Arith, Scf):
        ctx.load_dialect(dialect)
    for name, dialect in get_all_dialects().items():
        ctx.register_dialect(name, dialect)
    module = Parser(ctx, text).parse_module()
    module.verify()
    return module


def _kernels(module: ModuleOp) -> list[str]:
    return [op.sym_name.data for op in module.ops if isinstance(op, KernelOp)]


def _block() -> ChainBuilder:
    """layernorm -> modulate -> linear -> view -> rmsnorm per head, on 128 x 128."""
    cb = ChainBuilder("block")
    x, out = cb.tensor("x", (128, 128)), cb.tensor("out", (1, 128, 8, 16))
    gamma, beta = cb.tensor("gamma", (128,)), cb.tensor("beta", (128,))
    scale, shift = cb.tensor("scale", (128,)), cb.tensor("shift", (128,))
    w, bias, norm_w = cb.tensor("w", (128, 128)), cb.tensor("bias", (128,)), cb.tensor("nw", (16,))
    h, m = cb.intermediate("h", (128, 128)), cb.intermediate("m", (128, 128))
    ln = layernorm.build(rows=128, hidden=128)
    cb.call(ln, stage="layernorm", x=x, gamma=gamma, beta=beta, y=h, eps=1e-6)
    cb.call(modulate.build(), stage="modulate", x=h, scale=scale, shift=shift, y=m)
    cb.call(linear.build(), stage="proj", a=m, b=w, bias=bias, c=h)
    norm = rmsnorm.build(rows=128, hidden=128, head_dim=16)
    heads = cb.view(h, (128, 8, 16))
    cb.call(norm, stage="norm", x=heads, w=norm_w, y=cb.view(out, (128, 8, 16)), eps=1e-6)
    return cb


# ---------------------------------------------------------------------------------------------
# the module
# ---------------------------------------------------------------------------------------------


def test_a_chain_of_library_kernels_verifies_and_round_trips():
    module = _block().module
    assert _kernels(module) == ["layernorm", "modulate", "linear", "rmsnorm"]
    chain = module.ops.last
    assert isinstance(chain, ChainOp)
    assert chain.names == ["x", "out", "gamma", "beta", "scale", "shift", "w", "bias", "nw"]
    assert [call.stage_name for call in chain.calls] == ["layernorm", "modulate", "proj", "norm"]
    assert [call.callee_name for call in chain.calls] == [
        "layernorm",
        "modulate",
        "linear",
        "rmsnorm",
    ]
    assert chain.calls[2].kernel is module.ops.first.next_op.next_op
    assert [op.tensor for op in chain.intermediates] == ["h", "m"]
    assert chain.argument("w").type == TensorType((128, 128), f32)
    text = _print(module)
    assert _print(_parse(text)) == text


def test_the_module_carries_the_target():
    assert _block().module.attributes[TARGET_ATTR_NAME] == TargetAttr("plena-tvm")
    assert target_of(ChainBuilder("c").chain).name == "plena-tvm"
    small = TargetAttr("plena-tvm", {"gp_registers": IntegerAttr(8, i64)})
    assert target_of(ChainBuilder("c", target=small).chain).gp_registers == 8


def test_intermediates_views_and_float_bindings_in_the_chain_body():
    chain = _block().module.ops.last
    body = [re.sub(r" : .*", "", line.strip()) for line in str(chain).splitlines()[1:-1]]
    assert body == [
        '%h = tile.hbm_tensor "h"',
        '%m = tile.hbm_tensor "m"',
        "%eps = arith.constant 1.000000e-06",
        'tile.call @layernorm(%x, %gamma, %beta, %h, %eps) stage "layernorm"',
        'tile.call @modulate(%h, %scale, %shift, %m) stage "modulate"',
        'tile.call @linear(%m, %w, %bias, %h) stage "proj"',
        "%h_view = tile.view %h",
        "%out_view = tile.view %out",
        'tile.call @rmsnorm(%h_view, %nw, %out_view, %eps) stage "norm"',
    ]
    constants = [op for op in chain.body.block.ops if isinstance(op, ConstantOp)]
    assert len(constants) == 1 and constants[0].result.type == f32  # 1e-6 bound twice, made once


def test_handles_name_their_tensor_and_shape():
    cb = ChainBuilder("c")
    x = cb.tensor("x", (128, 128))
    h = cb.intermediate("h", (64,), dtype="bf16")
    v = cb.view(x, (1, 128, 8, 16))
    s = cb.scalar("s")
    assert (x.name, x.shape) == ("x", (128, 128))
    assert isinstance(h.value.owner, HbmTensorOp) and h.value.type == TensorType((64,), bf16)
    assert (v.name, v.shape) == ("x", (1, 128, 8, 16)) and isinstance(v.value.owner, ViewOp)
    assert isinstance(s, ChainScalar) and s.value.type == f32
    assert isinstance(v, ChainTensor)
    assert cb.chain.names == ["x", "s"]


# ---------------------------------------------------------------------------------------------
# kernels: shared when equal, renamed when different
# ---------------------------------------------------------------------------------------------


def test_the_same_kernel_built_twice_is_one_kernel():
    cb = ChainBuilder("c")
    a, w, b = cb.tensor("a", (128, 128)), cb.tensor("w", (128, 128)), cb.tensor("b", (128,))
    y, z = cb.tensor("y", (128, 128)), cb.tensor("z", (128, 128))
    cb.call(linear.build(), stage="first", a=a, b=w, bias=b, c=y)
    cb.call(linear.build(), stage="second", a=y, b=w, bias=b, c=z)
    module = cb.module
    assert _kernels(module) == ["linear"]
    assert [call.callee_name for call in module.ops.last.calls] == ["linear", "linear"]


def test_a_different_kernel_with_a_taken_name_is_renamed():
    cb = ChainBuilder("c")
    a, w, b = cb.tensor("a", (128, 128)), cb.tensor("w", (128, 128)), cb.tensor("b", (128,))
    w2, y = cb.tensor("w2", (64, 128)), cb.tensor("y", (128, 128))
    y2 = cb.tensor("y2", (128, 64))
    cb.call(linear.build(), stage="biased", a=a, b=w, bias=b, c=y)
    cb.call(linear.build(bias=False), stage="plain", a=a, b=w, c=y)
    cb.call(linear.build(n=64), stage="narrow", a=a, b=w2, bias=cb.tensor("b2", (64,)), c=y2)
    cb.call(linear.build(bias=False), stage="plain_again", a=y, b=w, c=y)
    module = cb.module
    assert _kernels(module) == ["linear", "linear_1", "linear_2"]
    assert [call.callee_name for call in module.ops.last.calls] == [
        "linear",
        "linear_1",
        "linear_2",
        "linear_1",
    ]
    arg_names = [[a.data for a in k.arg_names.data] for k in list(module.ops)[:3]]
    assert arg_names == [["a", "b", "bias", "c"], ["a", "b", "c"], ["a", "b", "bias", "c"]]


def test_a_kernel_named_like_the_chain_is_renamed():
    cb = ChainBuilder("linear")
    a, w, y = cb.tensor("a", (128, 128)), cb.tensor("w", (128, 128)), cb.tensor("y", (128, 128))
    cb.call(linear.build(bias=False), stage="s", a=a, b=w, c=y)
    assert _kernels(cb.module) == ["linear_1"]


def test_the_callers_module_is_left_alone():
    kernel_module = linear.build(bias=False)
    before = _print(kernel_module)
    cb = ChainBuilder("c")
    a, w, y = cb.tensor("a", (128, 128)), cb.tensor("w", (128, 128)), cb.tensor("y", (128, 128))
    cb.call(kernel_module, stage="s", a=a, b=w, c=y)
    assert _print(kernel_module) == before


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def linear_chain():
    cb = ChainBuilder("c")
    handles = {
        "a": cb.tensor("a", (128, 128)),
        "b": cb.tensor("b", (128, 128)),
        "bias": cb.tensor("bias", (128,)),
        "c": cb.tensor("c", (128, 128)),
        "narrow": cb.tensor("narrow", (128, 64)),
        "s": cb.scalar("s"),
    }
    return cb, handles


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"c": None}, "stage 'lin': argument c not bound (arguments of @linear: a, b, bias, c)"),
        ({"zz": "a"}, "stage 'lin': no kernel argument zz (arguments of @linear: a, b, bias, c)"),
        (
            {"c": "narrow"},
            "stage 'lin': argument 'c' is !tile.tensor<128x128xf32>, got 'narrow' of type "
            "!tile.tensor<128x64xf32>",
        ),
        (
            {"bias": "s"},
            "stage 'lin': argument 'bias' is !tile.tensor<128xf32>, got 's' of type f32",
        ),
        ({"bias": 1.0}, "stage 'lin': argument 'bias' is !tile.tensor<128xf32>, got the float 1.0"),
        ({"bias": True}, "stage 'lin': argument 'bias' must be a chain tensor, an f32 chain"),
    ],
)
def test_bad_bindings_name_the_stage_and_argument(linear_chain, change, message):
    cb, handles = linear_chain
    bindings = {name: handles[name] for name in ("a", "b", "bias", "c")}
    for name, bound in change.items():
        if bound is None:
            del bindings[name]
        else:
            bindings[name] = handles.get(bound, bound) if isinstance(bound, str) else bound
    with pytest.raises(ValueError, match=re.escape(message)):
        cb.call(linear.build(), stage="lin", **bindings)
    assert cb.chain.calls == [] and _kernels(cb.module) == []


def test_a_float_binds_only_an_f32_argument_and_a_tensor_only_a_tensor(linear_chain):
    cb, h = linear_chain
    ln = layernorm.build(rows=128, hidden=128)
    with pytest.raises(ValueError, match=re.escape("argument 'eps' is f32, got 'c' of type")):
        cb.call(ln, stage="ln", x=h["a"], gamma=h["bias"], beta=h["bias"], y=h["c"], eps=h["c"])
    cb.call(ln, stage="ln", x=h["a"], gamma=h["bias"], beta=h["bias"], y=h["c"], eps=h["s"])
    assert cb.chain.calls[0].args[4] is h["s"].value


def test_a_handle_of_another_chain_is_rejected(linear_chain):
    cb, h = linear_chain
    foreign = ChainBuilder("other").tensor("a", (128, 128))
    with pytest.raises(ValueError, match="stage 'lin', argument 'a': 'a' belongs to another chain"):
        cb.call(linear.build(), stage="lin", a=foreign, b=h["b"], bias=h["bias"], c=h["c"])


def test_stage_names_are_unique_identifiers(linear_chain):
    cb, h = linear_chain
    bindings = {name: h[name] for name in ("a", "b", "bias", "c")}
    cb.call(linear.build(), stage="lin", **bindings)
    with pytest.raises(ValueError, match="stage 'lin': the stage name is used twice"):
        cb.call(linear.build(), stage="lin", **bindings)
    with pytest.raises(ValueError, match="'two words' is not a valid stage name"):
        cb.call(linear.build(), stage="two words", **bindings)


def test_names_are_unique_identifiers():
    cb = ChainBuilder("c")
    cb.tensor("x", (4,))
    with pytest.raises(ValueError, match="chain c: the name 'x' is taken"):
        cb.intermediate("x", (4,))
    with pytest.raises(ValueError, match="chain c: the name 'x' is taken"):
        cb.scalar("x")
    with pytest.raises(ValueError, match="chain c: '1st' is not a valid name"):
        cb.tensor("1st", (4,))


def test_a_view_keeps_element_count():
    cb = ChainBuilder("c")
    x = cb.tensor("x", (128, 128))
    with pytest.raises(ValueError, match=r"a view relabels the same bytes.*s_split, s_concat"):
        cb.view(x, (128, 64))
    assert not list(cb.chain.body.block.ops)


def test_the_callee_is_a_module_with_one_kernel():
    cb = ChainBuilder("c")
    with pytest.raises(ValueError, match="must be a module holding one tile.kernel, got an empty"):
        cb.call(ModuleOp([]), stage="s")
    with pytest.raises(ValueError, match="one tile.kernel, got tile.kernel, .*, tile.chain$"):
        cb.call(_block().module, stage="s")


def test_a_kernel_for_another_target_is_rejected_the_same_target_accepted():
    kernel_module = linear.build(bias=False)
    kernel_module.attributes[TARGET_ATTR_NAME] = TargetAttr("plena-tvm", {})
    cb = ChainBuilder("c", target=TargetAttr("plena-tvm", {"gp_registers": IntegerAttr(8, i64)}))
    a, w, y = cb.tensor("a", (128, 128)), cb.tensor("w", (128, 128)), cb.tensor("y", (128, 128))
    with pytest.raises(ValueError, match="stage 's': the kernel is built for"):
        cb.call(kernel_module, stage="s", a=a, b=w, c=y)
    default_gp = IntegerAttr(DEFAULT_TARGET.gp_registers, i64)
    same = ChainBuilder("c", target=TargetAttr("plena-tvm", {"gp_registers": default_gp}))
    a, w, y = (same.tensor(name, (128, 128)) for name in ("a", "w", "y"))
    same.call(kernel_module, stage="s", a=a, b=w, c=y)  # the same target, spelled otherwise
    assert _kernels(same.module) == ["linear"]


# ---------------------------------------------------------------------------------------------
# the ops without the builder
# ---------------------------------------------------------------------------------------------


def test_a_call_checks_its_callee_once_in_a_module():
    chain = ChainOp("c", [("x", TensorType((64,), f32))])
    chain.body.block.add_op(CallOp("missing", "s", [chain.arguments[0]]))
    chain.verify()  # detached: nothing to look the callee up in
    with pytest.raises(VerifyException, match="there is no tile.kernel @missing"):
        ModuleOp([chain]).verify()


def test_the_doc_and_the_lit_round_trip_cover_every_chain_op():
    doc = DOC.read_text()
    chain_mlir = (DOC.parents[2] / "test" / "lit" / "dialects" / "tile" / "chain.mlir").read_text()
    for op in CHAIN_OPS:
        assert f"### `{op.name}`" in doc, f"docs/dialects/tile.md does not describe {op.name}"
        assert f"{op.name} " in chain_mlir, f"test/lit/dialects/tile/chain.mlir lacks {op.name}"


def test_the_doc_chain_example_parses_and_verifies():
    blocks = re.findall(r"```mlir\n(.*?)```", DOC.read_text(), re.DOTALL)
    chains = [b for b in blocks if "tile.chain @" in b and b.lstrip().startswith("builtin.module")]
    assert chains, "docs/dialects/tile.md has no complete chain example"
    for block in chains:
        assert isinstance(_parse(block).ops.last, ChainOp)
