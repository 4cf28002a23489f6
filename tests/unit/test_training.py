"""One training step as GEMMs: FF, BP and WU of every layer under dense, forward-only and BDWP N:M."""

from __future__ import annotations

import numpy as np
import pytest

from hwsim.errors import InputError
from hwsim.workload import NetworkBuilder, Network
from hwsim.workload.lowering import GemmDims, conv_operands
from hwsim.workload.sparsity import NMSparsity, prune_mask
from hwsim.workload.training import Pass, Scheme, TrainingGemm, training_gemms, weight_update_elements

S28 = NMSparsity(2, 8)


def cnn(**conv2) -> Network:
    """conv1 (K = 27, N = 16) -> conv2 (K = 144, N = 32, stride 2) -> pool -> fc (K = 512, N = 10), batch 4."""
    b = NetworkBuilder("cnn", source="test", inputs={"image": (3, 16, 16)}, batch=4)
    x = b.conv("conv1", "image", 16, 3, padding=1, batchnorm=True, activation="relu")
    x = b.conv("conv2", x, 32, 3, stride=2, padding=1, **conv2)
    x = b.pool("pool", x, "max", 2)
    b.fc("fc", x, 10, bias=True)
    return b.build()


def attention() -> Network:
    """Two heads over 8 tokens of 16 features; ``scores`` reads the raw input as its B operand."""
    b = NetworkBuilder("attn", source="test", inputs={"tokens": (8, 16)}, batch=2)
    q = b.gemm("q", "tokens", 16)
    scores = b.matmul("scores", q, "tokens", heads=2, transpose_b=True)
    v = b.gemm("v", "tokens", 16)
    b.matmul("context", scores, v, heads=2, merge_heads=True)
    return b.build()


def by(gemms, pass_):
    return {g.layer: g for g in gemms if g.pass_ is pass_}


def test_dense_conv_passes_have_the_forward_macs():
    net = cnn()
    gemms = training_gemms(net, Scheme.DENSE, None)
    ff, bp, wu = by(gemms, Pass.FF), by(gemms, Pass.BP), by(gemms, Pass.WU)
    for name in ("conv1", "conv2", "fc"):
        forward = net.stats(name).gemm
        assert ff[name].gemm == forward and ff[name].macs == net.stats(name).macs
        assert bp[name].gemm == GemmDims(forward.m, forward.k, forward.n, forward.repeat)
        assert wu[name].gemm == GemmDims(forward.k, forward.n, forward.m, forward.repeat)
        assert ff[name].macs == bp[name].macs == wu[name].macs
        assert all(g.sparsity is None and g.effective_macs == g.macs for g in (ff[name], bp[name], wu[name]))
    assert ff["conv1"].gemm == GemmDims(m=16 * 16 * 4, n=16, k=27)
    assert sum(g.macs for g in gemms) == 3 * net.macs


def test_bdwp_prunes_ff_along_k_and_bp_along_n_with_the_padding_rule():
    net = cnn()
    gemms = training_gemms(net, "bdwp", "2:8")
    ff, bp, wu = by(gemms, Pass.FF), by(gemms, Pass.BP), by(gemms, Pass.WU)
    assert all(g.sparsity == S28 for g in (*ff.values(), *bp.values()))
    assert all(g.sparsity is None and g.effective_macs == g.macs for g in wu.values())
    m1, m2, m3 = 16 * 16 * 4, 8 * 8 * 4, 4
    # conv1: K = 27 = 3 groups + 3 -> 3*2 + min(2, 3) = 8 kept; N = 16 -> 4 kept.
    assert ff["conv1"].effective_macs == m1 * 16 * 8
    assert bp["conv1"].effective_macs == m1 * 27 * 4
    # conv2: K = 144 -> 36, N = 32 -> 8, exactly a quarter.
    assert ff["conv2"].effective_macs == ff["conv2"].macs // 4 == m2 * 32 * 36
    assert bp["conv2"].effective_macs == bp["conv2"].macs // 4 == m2 * 144 * 8
    # fc: K = 512 -> 128; N = 10 = 1 group + 2 -> 2 + min(2, 2) = 4 kept.
    assert ff["fc"].effective_macs == m3 * 10 * 128
    assert bp["fc"].effective_macs == m3 * 512 * 4


def test_effective_macs_count_the_masked_weights_of_a_real_convolution():
    net = cnn()
    layer = net.layer("conv1")
    rng = np.random.default_rng(0)
    _, w = conv_operands(layer, np.zeros((4, 3, 16, 16)), rng.standard_normal((16, 3, 3, 3)))
    ff, bp = (next(g for g in training_gemms(net, "bdwp", S28) if g.layer == "conv1" and g.pass_ is p)
              for p in (Pass.FF, Pass.BP))
    m = net.stats("conv1").gemm.m
    # FF streams M rows past W (K x N) pruned along K; BP streams M rows past W^T (N x K) pruned along N.
    assert ff.effective_macs == m * prune_mask(w, S28, axis=1).sum()
    assert bp.effective_macs == m * prune_mask(w, S28, axis=2).sum()


def test_forward_scheme_keeps_bp_dense():
    gemms = training_gemms(cnn(), Scheme.FORWARD, S28)
    assert all(g.sparsity == S28 for g in gemms if g.pass_ is Pass.FF)
    assert all(g.sparsity is None for g in gemms if g.pass_ is not Pass.FF)


def test_dense_scheme_ignores_any_sparsity():
    gemms = training_gemms(cnn(sparsity="1:4"), "dense", S28)
    assert all(g.sparsity is None for g in gemms)


def test_layer_sparsity_overrides_and_m_of_m_keeps_a_layer_dense():
    net = cnn(sparsity="1:4")
    b = NetworkBuilder("n", source="t", inputs={"x": (8, 4, 4)})
    b.conv("first", "x", 8, 1, sparsity="4:4")
    b.conv("second", "first", 8, 1)
    dense_first = b.build()
    gemms = training_gemms(net, Scheme.BDWP, S28)
    assert {g.sparsity for g in gemms if g.layer == "conv2" and g.pass_ is not Pass.WU} == {NMSparsity(1, 4)}
    assert {g.sparsity for g in gemms if g.layer == "conv1" and g.pass_ is not Pass.WU} == {S28}
    gemms = training_gemms(dense_first, Scheme.BDWP, S28)
    assert [(g.layer, g.pass_, g.sparsity) for g in gemms] == [
        ("first", Pass.FF, None), ("second", Pass.FF, S28),
        ("second", Pass.BP, S28), ("first", Pass.BP, None),
        ("second", Pass.WU, None), ("first", Pass.WU, None),
    ]


def test_order_ff_forward_then_bp_and_wu_backward():
    gemms = training_gemms(cnn(), Scheme.BDWP, S28)
    assert [(g.pass_.value, g.layer) for g in gemms] == [
        ("ff", "conv1"), ("ff", "conv2"), ("ff", "fc"),
        ("bp", "fc"), ("bp", "conv2"), ("bp", "conv1"),
        ("wu", "fc"), ("wu", "conv2"), ("wu", "conv1"),
    ]
    assert [g.product for g in gemms[::3]] == ["Y = X.W", "dX = dY.W^T", "dW = X^T.dY"]
    assert all(g.kind == {"fc": "fc"}.get(g.layer, "conv2d") for g in gemms)


def test_first_layer_bp_is_listed_but_not_needed():
    gemms = training_gemms(cnn(), Scheme.DENSE, None)
    assert [(g.layer, g.needed) for g in gemms if g.pass_ is Pass.BP] == [
        ("fc", True), ("conv2", True), ("conv1", False),
    ]
    assert all(g.needed for g in gemms if g.pass_ is not Pass.BP)


def test_bp_into_a_learned_table_is_needed():
    """The first compute layer after an embedding must pass its gradient back to the table."""
    b = NetworkBuilder("lm", source="t", inputs={"ids": (6,)})
    e = b.embedding("embed", "ids", 100, 8)
    b.gemm("proj", e, 8)
    (bp,) = [g for g in training_gemms(b.build(), "dense", None) if g.pass_ is Pass.BP]
    assert bp.layer == "proj" and bp.needed


def test_matmul_layers_have_two_dense_bp_gemms_and_no_wu():
    net = attention()
    gemms = training_gemms(net, Scheme.BDWP, S28)
    assert [(g.pass_.value, g.layer, g.product) for g in gemms] == [
        ("ff", "q", "Y = X.W"), ("ff", "scores", "O = A.B"), ("ff", "v", "Y = X.W"), ("ff", "context", "O = A.B"),
        ("bp", "context", "dA = dO.B^T"), ("bp", "context", "dB = A^T.dO"),
        ("bp", "v", "dX = dY.W^T"),
        ("bp", "scores", "dA = dO.B^T"), ("bp", "scores", "dB = A^T.dO"),
        ("bp", "q", "dX = dY.W^T"),
        ("wu", "v", "dW = X^T.dY"), ("wu", "q", "dW = X^T.dY"),
    ]
    s = net.stats("scores").gemm  # per head: (8 x 8) @ (8 x 8), repeat heads x batch
    assert s == GemmDims(m=8, n=8, k=8, repeat=4)
    c = net.stats("context").gemm
    assert c == GemmDims(m=8, n=8, k=8, repeat=4)
    matmul_bp = [g for g in gemms if g.kind == "matmul" and g.pass_ is Pass.BP]
    assert all(g.sparsity is None and g.macs == s.macs for g in matmul_bp)
    assert [g.gemm for g in matmul_bp[:2]] == [GemmDims(c.m, c.k, c.n, 4), GemmDims(c.k, c.n, c.m, 4)]
    # scores' B operand is the raw input: its gradient is not needed; q, v read the input too.
    assert [(g.layer, g.needed) for g in gemms if g.pass_ is Pass.BP] == [
        ("context", True), ("context", True), ("v", False), ("scores", True), ("scores", False), ("q", False),
    ]
    assert all(g.sparsity == S28 for g in gemms if g.kind == "gemm" and g.pass_ is not Pass.WU)


def test_memory_only_layers_have_no_gemms():
    gemms = training_gemms(cnn(), Scheme.DENSE, None)
    assert "pool" not in {g.layer for g in gemms}
    assert len(gemms) == 9


def test_weight_update_elements_are_the_parameters():
    net = cnn()
    expected = (27 * 16 + 2 * 16) + 144 * 32 + (512 * 10 + 10)
    assert weight_update_elements(net) == net.params == expected


def test_training_gemm_is_frozen():
    g = training_gemms(cnn(), "dense", None)[0]
    assert isinstance(g, TrainingGemm)
    with pytest.raises(AttributeError):
        g.needed = False  # type: ignore[misc]


@pytest.mark.parametrize(("scheme", "sparsity", "message"), [
    ("bdwp", None, "field 'sparsity' = None: the 'bdwp' scheme needs an N:M sparsity"),
    (Scheme.FORWARD, None, "field 'sparsity' = None: the 'forward' scheme needs an N:M sparsity"),
    ("bdwp", "8:8", "field 'sparsity' = '8:8': N must be less than M for sparse training"),
    ("forward", NMSparsity(4, 4), "field 'sparsity' = '4:4': N must be less than M for sparse training"),
    ("bdwp", "2/4", "field 'sparsity' = '2/4': expected 'N:M', e.g. '2:4'"),
    ("sparse", S28, "field 'scheme' = 'sparse': unknown scheme (known: dense, forward, bdwp)"),
])
def test_bad_input(scheme, sparsity, message):
    with pytest.raises(InputError) as err:
        training_gemms(cnn(), scheme, sparsity)
    assert str(err.value) == message
