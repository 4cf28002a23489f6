"""AlexNet at 224x224 for ImageNet's 1000 classes, torchvision's single-tower variant."""

from __future__ import annotations

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network


def alexnet() -> Network:
    """AlexNet, the "one weird trick" single-tower variant that ``torchvision.models.alexnet`` builds.

    Krizhevsky, "One weird trick for parallelizing convolutional neural networks", arXiv 1404.5997,
    2014, a variant of Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
    Convolutional Neural Networks", NIPS 2012: five convolutions of 64/192/384/256/256 filters
    (conv1 11x11 stride 4 pad 2), ReLU, three 3x3 stride-2 max pools and a 9216->4096->4096->1000
    classifier, all with bias.

    SCALE-Sim's ``alexnet`` topology (``topologies/conv_nets/alexnet.csv``) is instead the original
    2012 layer shapes (96/256/384/384/256 filters, as one tower, convolutions only); users who want
    those can import SCALE-Sim's topology CSV.
    """
    b = NetworkBuilder(
        "alexnet",
        source="Krizhevsky, 'One weird trick for parallelizing convolutional neural networks', arXiv 1404.5997, "
               "2014 (variant of Krizhevsky et al., NIPS 2012); layer configuration of torchvision.models.alexnet",
        inputs={"image": (3, 224, 224)},
    )
    # (features index, filters, kernel, stride, padding, features index of a max pool after it or None)
    convs = [(0, 64, 11, 4, 2, 2), (3, 192, 5, 1, 2, 5), (6, 384, 3, 1, 1, None), (8, 256, 3, 1, 1, None),
             (10, 256, 3, 1, 1, 12)]
    x = "image"
    for index, filters, kernel, stride, padding, pool in convs:
        x = b.conv(f"features.{index}", x, filters, kernel, stride=stride, padding=padding, bias=True,
                   activation="relu")
        if pool is not None:
            x = b.pool(f"features.{pool}", x, "max", 3, stride=2)
    # torchvision's AdaptiveAvgPool2d((6, 6)) is the identity on the 6x6 map a 224x224 input gives: omitted.
    x = b.fc("classifier.1", x, 4096, bias=True, activation="relu")
    x = b.fc("classifier.4", x, 4096, bias=True, activation="relu")
    b.fc("classifier.6", x, 1000, bias=True)
    return b.build()
