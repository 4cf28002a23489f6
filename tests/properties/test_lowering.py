"""The lowering preserves a layer's arithmetic: MAC counts and, for convolutions, the result."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from hwsim.workload import NetworkBuilder
from hwsim.workload.layers import Conv2d, ConvTranspose2d
from hwsim.workload.lowering import conv_operands, lower


def direct_conv(x, w, stride, padding, dilation, groups):
    """Textbook convolution, written without im2col: slide each kernel tap over the padded input."""
    batch, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    rows = range(0, xp.shape[2] - dilation[0] * (kh - 1), stride[0])
    cols = range(0, xp.shape[3] - dilation[1] * (kw - 1), stride[1])
    out = np.zeros((batch, f, len(rows), len(cols)), dtype=np.int64)
    fg = f // groups
    multiplies = 0
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dilation[0], j * dilation[1]
                patch = xp[:, g * cg:(g + 1) * cg, r0:r0 + stride[0] * (len(rows) - 1) + 1:stride[0],
                           c0:c0 + stride[1] * (len(cols) - 1) + 1:stride[1]]
                taps = w[g * fg:(g + 1) * fg, :, i, j]
                out[:, g * fg:(g + 1) * fg] += np.einsum("bchw,fc->bfhw", patch, taps)
                multiplies += patch.size * fg
    return out, multiplies


conv_shapes = st.fixed_dictionaries({
    "groups": st.integers(1, 4),
    "cin_per_group": st.integers(1, 3),
    "cout_per_group": st.integers(1, 3),
    "h": st.integers(1, 12),
    "w": st.integers(1, 12),
    "kh": st.integers(1, 4),
    "kw": st.integers(1, 4),
    "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "padding": st.tuples(*[st.integers(0, 3)] * 4),
    "batch": st.integers(1, 3),
})


def _conv(p):
    return Conv2d(
        name="conv", inputs=("x",), out_channels=p["groups"] * p["cout_per_group"], kernel=(p["kh"], p["kw"]),
        stride=p["stride"], padding=p["padding"], dilation=p["dilation"], groups=p["groups"],
    )


def _fits(p):
    top, bottom, left, right = p["padding"]
    return (p["h"] + top + bottom > p["dilation"][0] * (p["kh"] - 1)
            and p["w"] + left + right > p["dilation"][1] * (p["kw"] - 1))


@given(conv_shapes, st.integers(0, 2**32 - 1))
def test_conv_gemm_equals_direct_convolution(p, seed):
    assume(_fits(p))
    rng = np.random.default_rng(seed)
    layer = _conv(p)
    c = p["groups"] * p["cin_per_group"]
    x = rng.integers(-128, 128, (p["batch"], c, p["h"], p["w"]))
    w = rng.integers(-128, 128, (layer.out_channels, p["cin_per_group"], p["kh"], p["kw"]))
    expected, multiplies = direct_conv(x, w, p["stride"], p["padding"], p["dilation"], p["groups"])

    gemm = lower(layer, [(c, p["h"], p["w"])], p["batch"])
    assert gemm.macs == multiplies
    assert layer.output_shape([(c, p["h"], p["w"])]) == expected.shape[1:]

    a, b = conv_operands(layer, x, w)
    assert a.shape == (gemm.repeat, gemm.m, gemm.k) and b.shape == (gemm.repeat, gemm.k, gemm.n)
    _, f, ho, wo = expected.shape
    product = np.einsum("gmk,gkn->gmn", a, b)  # (groups, batch*ho*wo, f/groups)
    got = product.reshape(gemm.repeat, p["batch"], ho, wo, gemm.n).transpose(1, 0, 4, 2, 3).reshape(expected.shape)
    np.testing.assert_array_equal(got, expected)


@given(conv_shapes)
def test_network_macs_equal_direct_count_for_conv(p):
    assume(_fits(p))
    c = p["groups"] * p["cin_per_group"]
    b = NetworkBuilder("n", source="test", inputs={"x": (c, p["h"], p["w"])}, batch=p["batch"])
    b.add(_conv(p))
    net = b.build()
    _, ho, wo = net.stats("conv").output_shape
    cout = p["groups"] * p["cout_per_group"]
    assert net.macs == p["batch"] * cout * ho * wo * p["cin_per_group"] * p["kh"] * p["kw"]


def direct_conv_transpose(x, w, stride, padding, output_padding, groups):
    """Transposed convolution as the scatter it is: every input pixel adds a weighted kernel patch."""
    batch, c, h, wd = x.shape
    _, fg, kh, kw = w.shape
    full = np.zeros((batch, fg * groups, (h - 1) * stride[0] + kh + output_padding[0],
                     (wd - 1) * stride[1] + kw + output_padding[1]), dtype=np.int64)
    cg = c // groups
    multiplies = 0
    for g in range(groups):
        for i in range(h):
            for j in range(wd):
                pixel = x[:, g * cg:(g + 1) * cg, i, j]  # (batch, cg)
                patch = np.einsum("bc,cfhw->bfhw", pixel, w[g * cg:(g + 1) * cg])
                full[:, g * fg:(g + 1) * fg, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw] += patch
                multiplies += pixel.size * fg * kh * kw
    ph, pw = padding
    return full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw], multiplies


@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6),
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2),
    st.integers(0, 2**32 - 1),
)
def test_conv_transpose_shape_and_macs_equal_scatter(groups, cg, fg, h, w, kh, kw, stride, pad, batch, seed):
    output_padding = min(stride - 1, 1)
    assume((h - 1) * stride - 2 * pad + kh + output_padding >= 1 and (w - 1) * stride - 2 * pad + kw + output_padding >= 1)
    rng = np.random.default_rng(seed)
    layer = ConvTranspose2d(name="up", inputs=("x",), out_channels=groups * fg, kernel=(kh, kw), stride=stride,
                            padding=pad, output_padding=output_padding, groups=groups)
    x = rng.integers(-4, 5, (batch, groups * cg, h, w))
    wt = rng.integers(-4, 5, (groups * cg, fg, kh, kw))
    expected, multiplies = direct_conv_transpose(x, wt, (stride, stride), (pad, pad),
                                                 (output_padding, output_padding), groups)
    assert layer.output_shape([(groups * cg, h, w)]) == expected.shape[1:]
    assert lower(layer, [(groups * cg, h, w)], batch).macs == multiplies


@given(st.integers(1, 4), st.integers(1, 64), st.integers(1, 64), st.integers(1, 4))
def test_attention_matmul_macs(heads, seq, head_dim, batch):
    """Q Kᵀ then P V: each is heads x (S x S x d) multiply-adds per sample."""
    b = NetworkBuilder("attn", source="test", inputs={"q": (seq, heads * head_dim), "k": (seq, heads * head_dim)},
                       batch=batch)
    s = b.matmul("scores", "q", "k", heads=heads, transpose_b=True)
    b.matmul("context", s, "k", heads=heads, merge_heads=True)
    net = b.build()
    assert net.stats("scores").output_shape == ((heads, seq, seq) if heads > 1 else (seq, seq))
    assert net.stats("context").output_shape == (seq, heads * head_dim)
    assert net.stats("scores").macs == net.stats("context").macs == batch * heads * seq * seq * head_dim
