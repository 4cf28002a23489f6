"""Residual networks: torchvision's ImageNet ResNet-18/50, the two common CIFAR-10 ResNets, ResNet-9 on STL-10."""

from __future__ import annotations

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network

_HE2016 = "He, Zhang, Ren, Sun, 'Deep Residual Learning for Image Recognition', CVPR 2016"


def _basic_block(b: NetworkBuilder, name: str, x: str, planes: int, stride: int, shortcut: str) -> str:
    """Two 3x3 convs plus an identity or 1x1-conv shortcut (``shortcut`` names the projection)."""
    out = b.conv(f"{name}.conv1", x, planes, 3, stride=stride, padding=1, batchnorm=True, activation="relu")
    out = b.conv(f"{name}.conv2", out, planes, 3, padding=1, batchnorm=True)
    if stride != 1 or b.shape(x)[0] != planes:
        x = b.conv(f"{name}.{shortcut}", x, planes, 1, stride=stride, batchnorm=True)
    return b.eltwise(f"{name}.add", [out, x], "add", activation="relu")


def _bottleneck(b: NetworkBuilder, name: str, x: str, planes: int, stride: int, shortcut: str) -> str:
    """1x1 reduce, 3x3, 1x1 expand (x4); the stride sits on the 3x3 (ResNet v1.5)."""
    out = b.conv(f"{name}.conv1", x, planes, 1, batchnorm=True, activation="relu")
    out = b.conv(f"{name}.conv2", out, planes, 3, stride=stride, padding=1, batchnorm=True, activation="relu")
    out = b.conv(f"{name}.conv3", out, 4 * planes, 1, batchnorm=True)
    if stride != 1 or b.shape(x)[0] != 4 * planes:
        x = b.conv(f"{name}.{shortcut}", x, 4 * planes, 1, stride=stride, batchnorm=True)
    return b.eltwise(f"{name}.add", [out, x], "add", activation="relu")


def _stages(b: NetworkBuilder, x: str, block, blocks: tuple[int, ...], shortcut: str) -> str:
    """The four stages (64, 128, 256, 512 planes); each stage but the first halves the map in its first block."""
    for i, count in enumerate(blocks):
        for j in range(count):
            stride = 2 if i > 0 and j == 0 else 1
            x = block(b, f"layer{i + 1}.{j}", x, 64 << i, stride, shortcut)
    return x


def _torchvision_resnet(name: str, source: str, block, blocks: tuple[int, ...]) -> Network:
    b = NetworkBuilder(name, source=source, inputs={"image": (3, 224, 224)})
    x = b.conv("conv1", "image", 64, 7, stride=2, padding=3, batchnorm=True, activation="relu")
    x = b.pool("maxpool", x, "max", 3, stride=2, padding=1)
    x = _stages(b, x, block, blocks, "downsample.0")
    # AdaptiveAvgPool2d((1, 1)) over the 7x7 map: a global average.
    x = b.global_pool("avgpool", x)
    b.fc("fc", x, 1000, bias=True)
    return b.build()


def resnet18() -> Network:
    """ResNet-18 on 224x224 ImageNet.

    He et al., CVPR 2016 (Table 1, 18-layer); layer configuration of ``torchvision.models.resnet18``:
    BasicBlocks [2, 2, 2, 2], 1x1-conv + BN projection shortcuts where the shape changes.
    """
    return _torchvision_resnet(
        "resnet18",
        f"{_HE2016}; torchvision.models.resnet18 (BasicBlock [2, 2, 2, 2], 224x224 input)",
        _basic_block, (2, 2, 2, 2),
    )


def resnet50() -> Network:
    """ResNet-50 v1.5 on 224x224 ImageNet.

    He et al., CVPR 2016 (Table 1, 50-layer); layer configuration of ``torchvision.models.resnet50``,
    which is v1.5: the down-sampling stride is on the bottleneck's 3x3 conv, not on its first 1x1
    conv as in the paper. The weights are the same as v1's; the MACs are 6 % more (4.09 G against
    v1's 3.86 G, the paper's "3.8 x 10^9 FLOPs") because the first 1x1 of each down-sampling block
    runs at the full input resolution.
    """
    return _torchvision_resnet(
        "resnet50",
        f"{_HE2016}; torchvision.models.resnet50 (v1.5: stride 2 on the bottleneck's 3x3 conv; "
        "Bottleneck [3, 4, 6, 3], 224x224 input)",
        _bottleneck, (3, 4, 6, 3),
    )


def resnet18_cifar() -> Network:
    """The CIFAR-10 ResNet-18 of kuangliu/pytorch-cifar.

    He et al., CVPR 2016 (18-layer BasicBlock network), adapted to 32x32 inputs as in
    kuangliu/pytorch-cifar ``models/resnet.py``: a 3x3 stride-1 stem with no max pool,
    BasicBlocks [2, 2, 2, 2], 1x1-conv + BN shortcuts, 4x4 average pool, Linear 512 -> 10.
    """
    b = NetworkBuilder(
        "resnet18_cifar",
        source=f"{_HE2016}; kuangliu/pytorch-cifar models/resnet.py ResNet18 (3x3 stride-1 stem, no max pool, "
        "BasicBlock [2, 2, 2, 2], 1x1-conv + BN shortcut, avg pool 4, Linear 512->10, 32x32 input)",
        inputs={"image": (3, 32, 32)},
    )
    x = b.conv("conv1", "image", 64, 3, padding=1, batchnorm=True, activation="relu")
    x = _stages(b, x, _basic_block, (2, 2, 2, 2), "shortcut.0")
    x = b.pool("avgpool", x, "avg", 4)
    b.fc("linear", x, 10, bias=True)
    return b.build()


def resnet9_cifar() -> Network:
    """The 9-layer CIFAR-10 ResNet of Myrtle.ai's DAWNBench entry (NASAIC's CIFAR-10 backbone).

    David Page, 'How to Train Your ResNet' (Myrtle.ai blog, part 4 'Architecture', 2018); layer
    configuration of davidcpage/cifar10-fast ``dawn.py``: every conv is 3x3, pad 1, no bias,
    followed by BN + ReLU; the pool follows the ReLU; the residual branches add without a ReLU
    after the add; the classifier is a bias-free Linear 512 -> 10.
    """
    from hwsim.workload.families import resnet9  # here: the families load only for the networks built from them

    return resnet9(
        name="resnet9_cifar",
        source="D. Page, 'How to Train Your ResNet 4: Architecture', Myrtle.ai blog, 2018 (DAWNBench CIFAR-10 entry; "
        "the CIFAR-10 backbone of Yang et al., 'Co-Exploration of Neural Architectures and Heterogeneous ASIC "
        "Accelerator Designs Targeting Multiple Tasks' (NASAIC), DAC 2020); davidcpage/cifar10-fast dawn.py net(): "
        "prep 64, layer1 128 + pool + residual, layer2 256 + pool, layer3 512 + pool + residual, MaxPool 4, "
        "Linear 512->10 without bias, 32x32 input",
    )


def resnet9_stl10() -> Network:
    """Page's ResNet-9 on 96x96 STL-10 images (the STL-10 network of NASAIC's CIFAR-10 + STL-10 pair).

    Assumed: NASAIC (Yang et al., DAC 2020) pairs CIFAR-10 with STL-10 using a ResNet-9 style network
    (hwsim's reading of the paper, PAPERS.md); no reference implementation for STL-10 is known to us. The
    layers are ``resnet9_cifar``'s unchanged on a 96x96x3 input; the final max pool covers the whole 12x12
    map (a global max pool, as Page's MaxPool(4) does on CIFAR-10's 4x4 map), so the classifier is still
    Linear 512->10. Same parameters as ``resnet9_cifar``, 9x its convolution MACs.
    """
    from hwsim.workload.families import resnet9  # here: the families load only for the networks built from them

    return resnet9(
        input_size=96,
        name="resnet9_stl10",
        source="Assumed: D. Page's DAWNBench ResNet-9 (davidcpage/cifar10-fast dawn.py net(), layers of resnet9_cifar) "
        "applied to STL-10 (Coates, Lee & Ng, AISTATS 2011: 96x96x3 images, 10 classes) as the STL-10 network of "
        "NASAIC's CIFAR-10 + STL-10 workload (Yang et al., DAC 2020); final max pool over the whole 12x12 map "
        "(global max pool), Linear 512->10 without bias",
    )
