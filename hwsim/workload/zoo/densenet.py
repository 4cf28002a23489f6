"""DenseNet-121 as in torchvision."""

from __future__ import annotations

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network


def densenet121() -> Network:
    """DenseNet-121 (DenseNet-BC) on 224x224 ImageNet.

    Huang, Liu, van der Maaten, Weinberger, 'Densely Connected Convolutional Networks', CVPR 2017
    (Table 1); layer configuration of ``torchvision.models.densenet121``: growth rate 32, dense
    blocks (6, 12, 24, 16), bottleneck width 4 x 32, compression 0.5 in the transitions.

    A dense layer is BN-ReLU-Conv1x1-BN-ReLU-Conv3x3. Its first BN acts on the concatenated input
    before any conv, so it cannot fold and is an ``eltwise`` batchnorm; its second BN directly
    follows the 1x1 conv and folds into it.
    """
    growth, bottleneck = 32, 4 * 32
    b = NetworkBuilder(
        "densenet121",
        source="Huang, Liu, van der Maaten, Weinberger, 'Densely Connected Convolutional Networks', CVPR 2017; "
        "torchvision.models.densenet121 (growth 32, blocks (6, 12, 24, 16), bn_size 4, "
        "BN-ReLU-Conv pre-activation, 224x224 input)",
        inputs={"image": (3, 224, 224)},
    )
    x = b.conv("features.conv0", "image", 64, 7, stride=2, padding=3, batchnorm=True, activation="relu")
    x = b.pool("features.pool0", x, "max", 3, stride=2, padding=1)
    for i, layers in enumerate((6, 12, 24, 16), start=1):
        block = f"features.denseblock{i}"
        features = [x]
        for j in range(1, layers + 1):
            name = f"{block}.denselayer{j}"
            # Every dense layer reads the concatenation of the block input and all earlier layers' outputs.
            inp = features[0] if j == 1 else b.concat(f"{name}.concat", features)
            out = b.eltwise(f"{name}.norm1", inp, "batchnorm", activation="relu")
            out = b.conv(f"{name}.conv1", out, bottleneck, 1, batchnorm=True, activation="relu")
            features.append(b.conv(f"{name}.conv2", out, growth, 3, padding=1))
        x = b.concat(f"{block}.concat", features)
        if i < 4:
            name = f"features.transition{i}"
            x = b.eltwise(f"{name}.norm", x, "batchnorm", activation="relu")
            x = b.conv(f"{name}.conv", x, b.shape(x)[0] // 2, 1)
            x = b.pool(f"{name}.pool", x, "avg", 2)
    x = b.eltwise("features.norm5", x, "batchnorm", activation="relu")
    # adaptive_avg_pool2d((1, 1)) over the 7x7 map: a global average.
    x = b.global_pool("avgpool", x)
    b.fc("classifier", x, 1000, bias=True)
    return b.build()
