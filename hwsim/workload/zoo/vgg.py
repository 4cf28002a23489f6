"""VGG-16 (configuration D): the ImageNet original and the CIFAR-10 variant of the pruning literature."""

from __future__ import annotations

from typing import Callable

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network

_CONFIG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
"""Simonyan & Zisserman's Table 1, column D: 3x3 conv widths, ``"M"`` a 2x2 stride-2 max pool."""


def _config_d(b: NetworkBuilder, x: str, name: Callable[[str, int, int], str], **conv_kw: object) -> str:
    """The 13 convolutions (3x3, pad 1, ReLU) and 5 max pools of configuration D.

    ``name(kind, index, count)`` names each layer from its kind (``"conv"``/``"pool"``), its index in
    torchvision's ``features`` Sequential and its 1-based count among layers of its kind.
    """
    index, counts = 0, {"conv": 0, "pool": 0}
    for v in _CONFIG_D:
        kind = "pool" if v == "M" else "conv"
        counts[kind] += 1
        layer = name(kind, index, counts[kind])
        if kind == "pool":
            x = b.pool(layer, x, "max", 2)
            index += 1
        else:
            x = b.conv(layer, x, v, 3, padding=1, activation="relu", **conv_kw)
            # torchvision.models.vgg16's Sequential holds a Conv2d and a ReLU per convolution.
            index += 2
    return x


def vgg16() -> Network:
    """VGG-16 (configuration D) at 224x224 for ImageNet's 1000 classes.

    Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    ICLR 2015, Table 1 column D, as built by ``torchvision.models.vgg16``: 13 3x3 convolutions with
    bias and ReLU (no batch norm), 5 max pools, and a 25088->4096->4096->1000 classifier with bias.
    """
    b = NetworkBuilder(
        "vgg16",
        source="Simonyan & Zisserman, 'Very Deep Convolutional Networks for Large-Scale Image Recognition', "
               "ICLR 2015, Table 1 configuration D; layer configuration of torchvision.models.vgg16 (no BN)",
        inputs={"image": (3, 224, 224)},
    )
    x = _config_d(b, "image", lambda kind, index, count: f"features.{index}", bias=True)
    # torchvision's AdaptiveAvgPool2d((7, 7)) is the identity on the 7x7 map a 224x224 input gives: omitted.
    x = b.fc("classifier.0", x, 4096, bias=True, activation="relu")
    x = b.fc("classifier.3", x, 4096, bias=True, activation="relu")
    b.fc("classifier.6", x, 1000, bias=True)
    return b.build()


def vgg16_cifar() -> Network:
    """VGG-16 for 32x32 CIFAR-10 images, as pruned by Li et al.

    Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for Efficient ConvNets", ICLR 2017,
    Section 4.1 and Table 2: configuration D's 13 3x3 convolutions, each with batch norm and
    ReLU, then two fully connected layers, Linear 512->512 (+ BN + ReLU) and Linear 512->10. Their
    model is Zagoruyko's cifar.torch ``models/vgg_bn_drop.lua`` (2015), whose layers this follows.
    """
    b = NetworkBuilder(
        "vgg16_cifar",
        source="Li et al., 'Pruning Filters for Efficient ConvNets', ICLR 2017, Sec. 4.1 and Table 2 (VGG-16 on "
               "CIFAR-10); layer configuration of Zagoruyko's cifar.torch models/vgg_bn_drop.lua (2015): "
               "13 Conv3x3+BN+ReLU of configuration D, 5 max pools, Linear 512->512+BN+ReLU, Linear 512->10",
        inputs={"image": (3, 32, 32)},
    )
    # cifar.torch's convolutions carry a bias, but the BN right after absorbs it into its shift, so the folded
    # layer has none (Li et al.'s Table 2 counts no biases either). cifar.torch pools in ceil mode; every map
    # here has even size, so floor gives the same shapes. Five pools leave 512x1x1: the classifier sees 512.
    x = _config_d(b, "image", lambda kind, index, count: f"{kind}_{count}", bias=False, batchnorm=True)
    x = b.fc("fc_1", x, 512, bias=True, batchnorm=True, activation="relu")
    b.fc("fc_2", x, 10, bias=True)
    return b.build()
