"""`ssb`: the SingleStreamBlock of MMDiT / Flux, one transformer block over `tokens` rows of
`hidden` = heads * head_dim features, as a chain of library kernels:

    h    = layernorm(x) * ln_gamma + ln_beta                      layernorm
    hm   = (1 + mod_scale) * h + mod_shift                        modulate
    q, k, v = hm·wqᵀ + bq, hm·wkᵀ + bk, hm·wvᵀ + bv               linear_q, linear_k, linear_v
    mlp  = hm·w_mlpᵀ + b_mlp                  (tokens x mlp)      linear_mlp
    qn, kn = rmsnorm(q) * q_norm, rmsnorm(k) * k_norm  per head   rmsnorm_q, rmsnorm_k
    qr, kr = rope(qn), rope(kn)                                   rope_q, rope_k
    attn = softmax(qr·krᵀ / sqrt(head_dim)) v           per head  attention
    act  = gelu(mlp)                          (tanh form)         gelu
    cat  = [attn | act]                       (tokens x (hidden + mlp))   concat
    proj = cat·w2ᵀ + b2                                           linear2
    out  = x + gate * proj                                        residual_gate

Every arrow between stages is an HBM tensor.  The linear outputs are tokens x hidden; rmsnorm
reads them as [tokens, heads, head_dim] and attention reads rope's outputs and v as
[1, tokens, heads, head_dim]: `tile.view`s of the same bytes (a same-element-count reshape is
byte-identical, MX blocks run along the flattened tensor).  The concatenation is a copy
kernel: MX-packed tensors cannot be concatenated by aliasing.

Every size is the target's: tokens are whole blocks of MLEN rows (attention's q and kv
blocks), heads are HLEN wide (packed into lanes) or whole MLEN-wide rows (one head per
program), the rope rotation is MLEN x 2 MLEN and its tables VLEN wide.  Defaults
(`default_sizes`): two blocks of tokens, two lane groups of heads of HLEN, mlp twice the
hidden width (on plena-tvm 128 tokens, 8 heads of 16, hidden 128, mlp 256).
"""

import dataclasses
from collections.abc import Mapping

import numpy as np

from plena_mlir.chains.spec import Call, ChainPlan, ChainSpec
from plena_mlir.kernels import rope
from plena_mlir.kernels.heads import head_width_problem
from plena_mlir.target import DEFAULT_TARGET, Target

EPS = 1e-6  # layernorm's and the QK-norms' epsilon


def plan(tokens: int, heads: int, head_dim: int, mlp: int, target: Target) -> ChainPlan:
    if width_problem := head_width_problem(head_dim, target):
        raise ValueError(f"ssb: {width_problem}")
    if tokens % target.mlen or tokens <= 0:
        raise ValueError(f"ssb: tokens ({tokens}) must be a positive multiple of {target.mlen}")
    hidden = heads * head_dim
    width = rope.table_width(head_dim, target)
    arguments = {
        "x": (tokens, hidden),
        "ln_gamma": (hidden,),
        "ln_beta": (hidden,),
        "mod_scale": (hidden,),
        "mod_shift": (hidden,),
        **{f"w{p}": (hidden, hidden) for p in "qkv"},
        **{f"b{p}": (hidden,) for p in "qkv"},
        "w_mlp": (mlp, hidden),
        "b_mlp": (mlp,),
        "q_norm": (head_dim,),
        "k_norm": (head_dim,),
        "rope_r": (target.mlen, 2 * target.mlen),
        "rope_cos": (tokens, width),
        "rope_sin": (tokens, width),
        "w2": (hidden, hidden + mlp),
        "b2": (hidden,),
        "gate": (hidden,),
        "out": (tokens, hidden),
    }
    intermediates = {
        "h": (tokens, hidden),
        "hm": (tokens, hidden),
        "q": (tokens, hidden),
        "k": (tokens, hidden),
        "v": (tokens, hidden),
        "mlp": (tokens, mlp),
        "qn": (tokens, heads, head_dim),
        "kn": (tokens, heads, head_dim),
        "qr": (tokens, hidden),
        "kr": (tokens, hidden),
        "attn": (1, tokens, heads, head_dim),
        "act": (tokens, mlp),
        "cat": (tokens, hidden + mlp),
        "proj": (tokens, hidden),
    }
    rows = {"rows": tokens}
    per_head = {"rows": tokens, "heads": heads, "head_dim": head_dim}
    projection = {"m": tokens, "n": hidden, "k": hidden, "bias": True}
    calls = (
        Call("layernorm", "layernorm", {**rows, "hidden": hidden},
             {"x": "x", "gamma": "ln_gamma", "beta": "ln_beta", "y": "h", "eps": EPS}),
        Call("modulate", "modulate", {**per_head, "o_heads": heads},
             {"x": "h", "scale": "mod_scale", "shift": "mod_shift", "y": "hm"}),
        *(Call(f"linear_{p}", "linear", projection,
               {"a": "hm", "b": f"w{p}", "bias": f"b{p}", "c": p}) for p in "qkv"),
        Call("linear_mlp", "linear", {**projection, "n": mlp},
             {"a": "hm", "b": "w_mlp", "bias": "b_mlp", "c": "mlp"}),
        *(Call(f"rmsnorm_{p}", "rmsnorm", {**rows, "hidden": hidden, "head_dim": head_dim},
               {"x": p, "w": f"{p}_norm", "y": f"{p}n", "eps": EPS}) for p in "qk"),
        *(Call(f"rope_{p}", "rope", per_head,
               {"x": f"{p}n", "r": "rope_r", "cos": "rope_cos", "sin": "rope_sin",
                "y": f"{p}r"}) for p in "qk"),
        Call("attention", "flash_attention",
             {"heads": heads, "head_dim": head_dim, "q_blocks": tokens // target.mlen,
              "kv_blocks": tokens // target.mlen},
             {"Q": "qr", "K": "kr", "V": "v", "O": "attn"}),
        Call("gelu", "gelu", {"rows": tokens, "heads": mlp // head_dim, "head_dim": head_dim,
                              "o_heads": mlp // head_dim},
             {"x": "mlp", "y": "act"}),
        Call("concat", "concat", {**rows, "a_dim": hidden, "b_dim": mlp},
             {"a": "attn", "b": "act", "y": "cat"}),
        Call("linear2", "linear", {**projection, "k": hidden + mlp},
             {"a": "cat", "b": "w2", "bias": "b2", "c": "proj"}),
        Call("residual_gate", "residual_gate", {**per_head, "o_heads": heads},
             {"x": "x", "r": "proj", "gate": "gate", "y": "out"}),
    )
    calls = tuple(dataclasses.replace(call, target=target) for call in calls)
    return ChainPlan(arguments, intermediates, calls)


def make_inputs(
    sizes: Mapping[str, int], rng: np.random.Generator, target: Target = DEFAULT_TARGET
) -> dict[str, np.ndarray]:
    """x ~ N(0, 1); gamma, the QK-norm weights ~ N(1, 0.2); betas, biases, the modulation
    and the gate ~ N(0, 0.2..0.5); weights ~ N(0, 1/fan_in) (activations stay of unit size);
    the rope tables for positions 0 .. tokens-1 (`rope.make_inputs`)."""
    chain = plan(**sizes, target=target)
    tokens, head_dim = sizes["tokens"], sizes["head_dim"]
    cos, sin = rope.tables(tokens, head_dim, target)
    inputs = {"rope_r": rope.rotation(target), "rope_cos": cos, "rope_sin": sin}
    for name, shape in chain.arguments.items():
        if name in inputs or name == "out":
            continue
        if name.startswith("w"):
            value = rng.normal(0.0, 1.0 / np.sqrt(shape[1]), shape)
        elif name in ("ln_gamma", "q_norm", "k_norm"):
            value = rng.normal(1.0, 0.2, shape)
        elif name == "x":
            value = rng.normal(0.0, 1.0, shape)
        else:
            value = rng.normal(0.0, 0.2 if name.startswith("b") else 0.5, shape)
        inputs[name] = value.astype(np.float32)
    return inputs


def default_sizes(target: Target) -> dict[str, int]:
    """Two blocks of MLEN tokens, two lane groups of heads of HLEN, mlp twice the hidden
    width (module docstring)."""
    heads = 2 * target.lanes
    return {"tokens": 2 * target.mlen, "heads": heads, "head_dim": target.hlen,
            "mlp": 2 * heads * target.hlen}


SPECS = (
    ChainSpec(
        name="ssb",
        summary="SingleStreamBlock: layernorm, modulate, q/k/v/mlp projections, QK rmsnorm, "
        "rope, flash attention, gelu, concat, output projection, gated residual",
        sizes=default_sizes,
        plan=plan,
        make_inputs=make_inputs,
    ),
)
