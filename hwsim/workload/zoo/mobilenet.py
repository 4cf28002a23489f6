"""MobileNet V1, V2 and V3-Large at 224x224 for ImageNet's 1000 classes.

Depthwise convolutions are ``groups == channels`` convolutions, so each lowers to ``C`` GEMMs of
``K = k*k``, ``N = 1``: the memory-bound shape DRACO studies. V2 and V3 layers are named by the
torchvision module path of their convolution (its BatchNorm is folded in), so a state dict maps
onto them; V1 has no torchvision model and uses TF-slim's numbering of its 13 separable blocks.
"""

from __future__ import annotations

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network

_IMAGE = {"image": (3, 224, 224)}


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: round to a multiple of ``divisor``, never more than 10 % down."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _cbn(b: NetworkBuilder, name: str, x: str, out: int, kernel: int, stride: int = 1,
         groups: int = 1, activation: str | None = None) -> str:
    """Conv + folded BN (+ activation) with 'same' padding, torchvision's ``Conv2dNormActivation``."""
    return b.conv(name, x, out, kernel, stride=stride, padding=(kernel - 1) // 2, groups=groups,
                  bias=False, batchnorm=True, activation=activation)


def mobilenet_v1() -> Network:
    """MobileNetV1, width multiplier 1.0, 224x224 input.

    Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
    Applications", arXiv 1704.04861, 2017, Table 1: a 3x3 stride-2 convolution and 13
    depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, each Conv+BN+ReLU), global
    average pool and a 1024->1000 fully connected classifier.
    """
    b = NetworkBuilder(
        "mobilenet_v1",
        source="Howard et al., 'MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
               "Applications', arXiv 1704.04861, 2017, Table 1 (width 1.0, 224x224); layer configuration of "
               "TF-slim nets/mobilenet_v1.py _CONV_DEFS (13th depthwise layer stride 1), with a 1000-class "
               "FC classifier with bias instead of TF-slim's 1001-class 1x1 conv",
        inputs=_IMAGE,
    )
    x = _cbn(b, "conv0", "image", 32, 3, stride=2, activation="relu")
    # (pointwise filters, depthwise stride). Table 1 prints the 13th depthwise layer as s2, but its
    # output is still 7x7 there and in every implementation, so it is stride 1.
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (out, stride) in enumerate(blocks, start=1):
        # Symmetric padding 1 (PyTorch ports); TF's SAME pads stride-2 layers (0, 1) with the same output size.
        x = _cbn(b, f"conv{i}_dw", x, b.shape(x)[0], 3, stride=stride, groups=b.shape(x)[0], activation="relu")
        x = _cbn(b, f"conv{i}_pw", x, out, 1, activation="relu")
    x = b.global_pool("avgpool", x)
    b.fc("fc", x, 1000, bias=True)
    return b.build()


def mobilenet_v2() -> Network:
    """MobileNetV2, width multiplier 1.0, 224x224 input.

    Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018, Table 2,
    as built by ``torchvision.models.mobilenet_v2``: inverted residual blocks (1x1 expand, 3x3
    depthwise, both BN+ReLU6; linear 1x1 projection with BN), a residual add where stride is 1 and
    channels are kept, a 1x1 conv to 1280 and a 1280->1000 classifier.
    """
    b = NetworkBuilder(
        "mobilenet_v2",
        source="Sandler et al., 'MobileNetV2: Inverted Residuals and Linear Bottlenecks', CVPR 2018, Table 2; "
               "layer configuration of torchvision.models.mobilenet_v2 (width_mult 1.0, last channel 1280)",
        inputs=_IMAGE,
    )
    x = _cbn(b, "features.0.0", "image", 32, 3, stride=2, activation="relu6")
    # (expansion t, output channels c, repeats n, first stride s), the paper's Table 2.
    settings = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]
    idx = 1
    for t, c, n, s in settings:
        for r in range(n):
            p, cin, j = f"features.{idx}.conv", b.shape(x)[0], 0
            y = x
            if t != 1:
                y = _cbn(b, f"{p}.0.0", y, cin * t, 1, activation="relu6")
                j = 1
            stride = s if r == 0 else 1
            y = _cbn(b, f"{p}.{j}.0", y, cin * t, 3, stride=stride, groups=cin * t, activation="relu6")
            y = _cbn(b, f"{p}.{j + 1}", y, c, 1)  # linear bottleneck: BN, no activation
            x = b.eltwise(f"features.{idx}.add", [x, y], "add") if stride == 1 and cin == c else y
            idx += 1
    x = _cbn(b, f"features.{idx}.0", x, 1280, 1, activation="relu6")
    x = b.global_pool("avgpool", x)
    b.fc("classifier.1", x, 1000, bias=True)
    return b.build()


def mobilenet_v3_large() -> Network:
    """MobileNetV3-Large, width multiplier 1.0, 224x224 input.

    Howard et al., "Searching for MobileNetV3", ICCV 2019, Table 1, as built by
    ``torchvision.models.mobilenet_v3_large``: inverted residual blocks with ReLU or hardswish,
    squeeze-excitation (pool, 1x1 conv + ReLU, 1x1 conv + hardsigmoid, channel scale) in the
    marked blocks, a 1x1 conv to 960, global pool, 960->1280 Linear + hardswish and a 1280->1000
    classifier.
    """
    b = NetworkBuilder(
        "mobilenet_v3_large",
        source="Howard et al., 'Searching for MobileNetV3', ICCV 2019, Table 1; layer configuration of "
               "torchvision.models.mobilenet_v3_large (width_mult 1.0, SE squeeze = _make_divisible(C/4, 8))",
        inputs=_IMAGE,
    )
    x = _cbn(b, "features.0.0", "image", 16, 3, stride=2, activation="hardswish")
    # (kernel, expanded, out, squeeze-excite, activation, stride), torchvision's bneck_conf rows.
    settings = [
        (3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2), (3, 72, 24, False, "relu", 1),
        (5, 72, 40, True, "relu", 2), (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
        (3, 240, 80, False, "hardswish", 2), (3, 200, 80, False, "hardswish", 1),
        (3, 184, 80, False, "hardswish", 1), (3, 184, 80, False, "hardswish", 1),
        (3, 480, 112, True, "hardswish", 1), (3, 672, 112, True, "hardswish", 1),
        (5, 672, 160, True, "hardswish", 2), (5, 960, 160, True, "hardswish", 1), (5, 960, 160, True, "hardswish", 1),
    ]
    for idx, (k, exp, out, se, act, stride) in enumerate(settings, start=1):
        p, cin, j = f"features.{idx}.block", b.shape(x)[0], 0
        y = x
        if exp != cin:
            y = _cbn(b, f"{p}.0.0", y, exp, 1, activation=act)
            j = 1
        y = _cbn(b, f"{p}.{j}.0", y, exp, k, stride=stride, groups=exp, activation=act)
        if se:
            j += 1
            squeeze = _make_divisible(exp // 4)
            s = b.global_pool(f"{p}.{j}.avgpool", y)
            s = b.conv(f"{p}.{j}.fc1", s, squeeze, 1, bias=True, activation="relu")
            s = b.conv(f"{p}.{j}.fc2", s, exp, 1, bias=True, activation="hardsigmoid")
            y = b.eltwise(f"{p}.{j}.scale", [y, s], "mul")  # (C,1,1) broadcast over (C,H,W)
        y = _cbn(b, f"{p}.{j + 1}.0", y, out, 1)  # linear projection: BN, no activation
        x = b.eltwise(f"features.{idx}.add", [x, y], "add") if stride == 1 and cin == out else y
    x = _cbn(b, f"features.{len(settings) + 1}.0", x, 960, 1, activation="hardswish")
    x = b.global_pool("avgpool", x)
    x = b.fc("classifier.0", x, 1280, bias=True, activation="hardswish")
    b.fc("classifier.3", x, 1000, bias=True)
    return b.build()
