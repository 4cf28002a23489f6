"""Network families: the defaults are the zoo's networks; the arguments change what they should."""

from __future__ import annotations

import pytest

from hwsim.errors import InputError
from hwsim.io.workload_json import load_network
from hwsim.workload.families import FAMILIES, family, resnet9, unet

from tests.conftest import REPO


def _same_network(ours, bundled):
    assert ours.inputs == bundled.inputs
    assert ours.layers == bundled.layers
    assert (ours.macs, ours.params) == (bundled.macs, bundled.params)


@pytest.mark.parametrize("builder, kwargs, workload", [
    (resnet9, {}, "resnet9_cifar"),
    (unet, {}, "unet_nuclei"),
    (resnet9, {"input_size": 96}, "resnet9_stl10"),
    (unet, dict(depth=4, base_filters=64, input_size=572, in_channels=1, classes=2, same_padding=False,
                skip_first=True, activation="relu", output_activation=None), "unet"),
])
def test_family_reproduces_the_bundled_zoo_network(builder, kwargs, workload):
    # The bundled files were written by the zoo's hand-written builders before they called the families.
    _same_network(builder(**kwargs), load_network(REPO / "workloads" / f"{workload}.json"))


def test_resnet9_stl10_has_nine_times_the_convolution_macs_and_the_same_weights():
    cifar, stl = resnet9(), resnet9(input_size=96)
    conv = lambda net: sum(s.macs for s in net if s.kind == "conv2d")  # noqa: E731
    assert conv(stl) == 9 * conv(cifar) and stl.params == cifar.params
    assert stl.macs == 3_413_316_608


def test_resnet9_channels_depth_and_skips():
    net = resnet9(channels=(16, 32, 64, 128), depth=(1, 2, 0), skip=(True, False, False), classes=100)
    names = [layer.name for layer in net.layers]
    assert names == ["prep.conv", "layer1.conv", "layer1.pool", "layer1.residual.res1.conv", "layer1.residual.add",
                     "layer2.conv", "layer2.pool", "layer2.plain.res1.conv", "layer2.plain.res2.conv",
                     "layer3.conv", "layer3.pool", "pool", "linear"]
    # Closed form: 3x3 conv weights + BN scale and shift per conv, and a bias-free linear layer.
    convs = [(3, 16), (16, 32), (32, 32), (32, 64), (64, 64), (64, 64), (64, 128)]
    assert net.params == sum(9 * cin * cout + 2 * cout for cin, cout in convs) + 128 * 100
    out = {s.name: s.output_shape for s in net}
    assert out["layer3.pool"] == (128, 4, 4) and out["pool"] == (128, 1, 1) and out["linear"][-1] == 100


def test_unet_depth_and_filters():
    net = unet(depth=2, base_filters=8, input_size=64, classes=3)
    pools = [s for s in net if s.kind == "pool"]
    assert len(pools) == 2
    widths = [s.output_shape[0] for s in net if s.name.endswith(".conv2") and s.name.startswith("enc")]
    assert widths == [8, 16, 32]
    assert net.layers[-1].out_channels == 3
    explicit = unet(depth=2, filters=(8, 12, 20), input_size=64)
    assert [s.output_shape[0] for s in explicit if s.name.startswith("enc") and s.name.endswith(".conv2")] == \
        [8, 12, 20]


@pytest.mark.parametrize("call, message", [
    (lambda: resnet9(depth=(0, 0, 2)), "field 'skip[0]' = True: a skip connection needs a branch, but depth[0] is 0"),
    (lambda: resnet9(input_size=36), "field 'input_size' = 36: must be a multiple of 8 (three 2x2 max pools)"),
    (lambda: resnet9(channels=(64, 128, 256)), "field 'channels' = (64, 128, 256): must list 4 values"),
    (lambda: resnet9(channels=(64, 128, True, 512)), "field 'channels[2]' = True: must be a whole number >= 1"),
    (lambda: resnet9(depth=(2, -1, 2)), "field 'depth[1]' = -1: must be a whole number >= 0"),
    (lambda: resnet9(skip=(1, 0, 1)), "field 'skip[0]' = 1: must be true or false"),
    (lambda: unet(depth=3, filters=(8, 16)), "field 'filters' = [8, 16]: must list depth + 1 = 4 widths"),
    (lambda: unet(depth=5, input_size=100),
     "field 'input_size' = 100: must be a multiple of 2**depth = 32 (one 2x2 pool per level)"),
    (lambda: unet(activation="swish"), "field 'activation' = 'swish': must be null or one of relu, relu6, elu, gelu, "
                                       "sigmoid, hardsigmoid, hardswish, tanh, silu"),
    (lambda: family("vgg"), "field 'family' = 'vgg': unknown network family (known: resnet9, unet)"),
])
def test_bad_arguments_name_the_field(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message


def test_family_defaults_are_the_builders_defaults():
    assert FAMILIES["resnet9"].defaults["channels"] == (64, 128, 256, 512)
    assert FAMILIES["unet"].defaults["filters"] is None
    for fam in FAMILIES.values():
        _same_network(fam.builder(**fam.defaults), fam.builder())
