"""Shape inference and parameter counts of every layer kind, and the errors when inputs do not fit."""

from __future__ import annotations

import pytest

from hwsim.errors import InputError
from hwsim.workload import layers as L
from hwsim.workload.sparsity import NMSparsity


def shape(layer, *input_shapes):
    return layer.output_shape(list(input_shapes))


def test_conv2d_pytorch_output_size_and_params():
    conv = L.Conv2d(name="c", inputs=("x",), out_channels=64, kernel=7, stride=2, padding=3, bias=True)
    assert shape(conv, (3, 224, 224)) == (64, 112, 112)
    assert conv.params([(3, 224, 224)]) == 7 * 7 * 3 * 64 + 64


def test_conv2d_asymmetric_padding_and_dilation():
    conv = L.Conv2d(name="c", inputs=("x",), out_channels=4, kernel=3, stride=2, padding=[0, 1, 0, 1], dilation=2)
    assert conv.padding == (0, 1, 0, 1)
    assert shape(conv, (2, 9, 9)) == (4, 3, 3)  # (9 + 1 - 5) // 2 + 1


def test_depthwise_params_and_folded_batchnorm():
    dw = L.Conv2d(name="dw", inputs=("x",), out_channels=32, kernel=3, groups=32, padding=1, batchnorm=True)
    assert dw.params([(32, 8, 8)]) == 9 * 32 + 2 * 32


def test_conv_transpose_unet_upconv():
    up = L.ConvTranspose2d(name="up", inputs=("x",), out_channels=512, kernel=2, stride=2, bias=True)
    assert shape(up, (1024, 28, 28)) == (512, 56, 56)
    assert up.params([(1024, 28, 28)]) == 1024 * 512 * 4 + 512


def test_conv_transpose_output_padding():
    up = L.ConvTranspose2d(name="up", inputs=("x",), out_channels=8, kernel=3, stride=2, padding=1, output_padding=1)
    assert shape(up, (4, 7, 7)) == (8, 14, 14)


def test_gemm_applies_to_last_dim_and_fc_flattens():
    assert shape(L.Gemm(name="g", inputs=("x",), out_features=3072), (128, 768)) == (128, 3072)
    fc = L.FullyConnected(name="f", inputs=("x",), out_features=4096, bias=True)
    assert shape(fc, (512, 7, 7)) == (4096,)
    assert fc.params([(512, 7, 7)]) == 25088 * 4096 + 4096


def test_matmul_heads_split_and_merge():
    scores = L.MatMul(name="s", inputs=("q", "k"), heads=12, transpose_b=True)
    assert shape(scores, (128, 768), (128, 768)) == (12, 128, 128)
    context = L.MatMul(name="c", inputs=("p", "v"), heads=12, merge_heads=True)
    assert shape(context, (12, 128, 128), (128, 768)) == (128, 768)


def test_matmul_inner_dimension_mismatch():
    with pytest.raises(InputError) as err:
        shape(L.MatMul(name="m", inputs=("a", "b")), (4, 5), (6, 7))
    assert str(err.value) == ("layer 'm': field 'inputs' = [[4, 5], [6, 7]]: inner dimensions differ: "
                              "A is 4x5, B is 6x7 per head")


def test_pool_stride_defaults_to_kernel_and_ceil_mode():
    assert shape(L.Pool(name="p", inputs=("x",), mode="max", kernel=2), (64, 568, 568)) == (64, 284, 284)
    pool = L.Pool(name="p", inputs=("x",), mode="max", kernel=3, stride=2, ceil_mode=True)
    assert shape(pool, (8, 112, 112)) == (8, 56, 56)
    assert shape(L.Pool(name="g", inputs=("x",), mode="avg", global_pool=True), (1024, 7, 7)) == (1024, 1, 1)


def test_global_pool_takes_no_kernel():
    with pytest.raises(InputError) as err:
        L.Pool(name="g", inputs=("x",), mode="avg", global_pool=True, kernel=2)
    assert str(err.value) == "layer 'g': field 'kernel' = 2: a global pool takes no kernel or stride"


def test_eltwise_broadcasts_and_counts_norm_params():
    mul = L.Eltwise(name="se", inputs=("x", "s"), op="mul")
    assert shape(mul, (96, 14, 14), (96, 1, 1)) == (96, 14, 14)
    assert L.Eltwise(name="ln", inputs=("x",), op="layernorm").params([(128, 768)]) == 2 * 768
    assert L.Eltwise(name="bn", inputs=("x",), op="batchnorm").params([(64, 56, 56)]) == 2 * 64
    with pytest.raises(InputError) as err:
        shape(L.Eltwise(name="add", inputs=("a", "b"), op="add"), (64, 56, 56), (128, 28, 28))
    assert str(err.value) == "layer 'add': field 'inputs' = [[64, 56, 56], [128, 28, 28]]: input shapes do not broadcast"


def test_add_needs_two_inputs():
    with pytest.raises(InputError) as err:
        L.Eltwise(name="add", inputs=("a",), op="add")
    assert str(err.value) == "layer 'add': field 'inputs' = ['a']: 'add' reads at least 2 inputs"


def test_concat_channels_and_crop():
    cat = L.Concat(name="c", inputs=("a", "b"))
    assert shape(cat, (64, 56, 56), (32, 56, 56)) == (96, 56, 56)
    with pytest.raises(InputError) as err:
        shape(cat, (64, 64, 64), (64, 56, 56))
    assert str(err.value) == ("layer 'c': field 'inputs' = [[64, 64, 64], [64, 56, 56]]: inputs differ in "
                              "dimension 1 (set crop to centre-crop)")
    crop = L.Concat(name="c", inputs=("skip", "up"), crop=True)
    assert shape(crop, (64, 568, 568), (64, 392, 392)) == (128, 392, 392)


def test_upsample_embedding_parameter_reshape_slice():
    assert shape(L.Upsample(name="u", inputs=("x",), scale=2), (16, 8, 8)) == (16, 16, 16)
    emb = L.Embedding(name="e", inputs=("ids",), num_embeddings=30522, embedding_dim=768)
    assert shape(emb, (128,)) == (128, 768) and emb.params([(128,)]) == 30522 * 768
    cls = L.Parameter(name="cls", inputs=(), shape=(1, 768))
    assert shape(cls) == (1, 768) and cls.params([]) == 768
    assert shape(L.Reshape(name="r", inputs=("x",), shape=(196, 768)), (768, 14, 14)) == (196, 768)
    assert shape(L.Slice(name="s", inputs=("x",), axis=0, start=0, stop=1), (197, 768)) == (1, 768)


def test_reshape_must_keep_element_count():
    with pytest.raises(InputError) as err:
        shape(L.Reshape(name="r", inputs=("x",), shape=(10, 10)), (3, 5, 7))
    assert str(err.value) == "layer 'r': field 'shape' = [10, 10]: element count differs from the input [3, 5, 7]"


def test_slice_must_fit():
    with pytest.raises(InputError) as err:
        shape(L.Slice(name="s", inputs=("x",), axis=0, start=4, stop=9), (8, 16))
    assert str(err.value) == "layer 's': field 'inputs' = [8, 16]: slice 4:9 on axis 0 does not fit the input"


def test_input_arity_is_checked():
    with pytest.raises(InputError) as err:
        L.MatMul(name="m", inputs=("a",))
    assert str(err.value) == "layer 'm': field 'inputs' = ['a']: a matmul layer reads exactly 2 input(s)"


def test_conv_groups_must_divide_out_channels():
    with pytest.raises(InputError) as err:
        L.Conv2d(name="c", inputs=("x",), out_channels=10, kernel=3, groups=4)
    assert str(err.value) == "layer 'c': field 'out_channels' = 10: must be a multiple of groups (4)"


@pytest.mark.parametrize("text, n, m", [("2:4", 2, 4), ("1:1", 1, 1), (" 2 : 8 ", 2, 8)])
def test_nm_sparsity_parses(text, n, m):
    sp = NMSparsity.parse(text)
    assert (sp.n, sp.m, str(sp)) == (n, m, f"{n}:{m}")


@pytest.mark.parametrize("text, message", [
    ("5:4", "field 'sparsity' = '5:4': N must not exceed M"),
    ("2:0", "field 'sparsity' = '2:0': M must be >= 1"),
    ("two:four", "field 'sparsity' = 'two:four': expected 'N:M', e.g. '2:4'"),
])
def test_nm_sparsity_rejects(text, message):
    with pytest.raises(InputError) as err:
        NMSparsity.parse(text)
    assert str(err.value) == message


def test_sparsity_error_names_the_layer():
    with pytest.raises(InputError) as err:
        L.Gemm(name="ffn", inputs=("x",), out_features=8, sparsity="3:2")
    assert str(err.value) == "layer 'ffn': field 'sparsity' = '3:2': N must not exceed M"
