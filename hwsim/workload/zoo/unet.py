"""U-Nets: Ronneberger et al.'s original and the small nuclei-segmentation U-Net of the 2018 Data Science Bowl."""

from __future__ import annotations

from typing import Sequence

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.network import Network


def _double_conv(b: NetworkBuilder, prefix: str, x: str, channels: int, padding: int, activation: str | None) -> str:
    for i in (1, 2):
        x = b.conv(f"{prefix}.conv{i}", x, channels, 3, padding=padding, bias=True, activation=activation)
    return x


def _unet(b: NetworkBuilder, x: str, widths: Sequence[int], *, padding: int, activation: str | None,
          skip_first: bool, crop: bool) -> str:
    """Contracting path (two 3x3 convs, then a 2x2 max pool, per level), the bottom level, and the
    expansive path (2x2 stride-2 up-convolution to the level's width, concatenation with the level's
    skip connection, two 3x3 convs). Returns the last 3x3 conv; levels are numbered from the top."""
    skips = []
    for level, channels in enumerate(widths[:-1], start=1):
        skips.append(_double_conv(b, f"enc{level}", x, channels, padding, activation))
        x = b.pool(f"pool{level}", skips[-1], "max", 2)
    x = _double_conv(b, f"enc{len(widths)}", x, widths[-1], padding, activation)
    for level in range(len(widths) - 1, 0, -1):
        channels = widths[level - 1]
        up = b.conv_transpose(f"up{level}", x, channels, 2, stride=2, bias=True)
        pair = [skips[level - 1], up] if skip_first else [up, skips[level - 1]]
        x = b.concat(f"cat{level}", pair, crop=crop)
        x = _double_conv(b, f"dec{level}", x, channels, padding, activation)
    return x


def unet() -> Network:
    """The original U-Net, 572x572x1 in, 388x388x2 out.

    Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
    Segmentation", MICCAI 2015, Fig. 1: unpadded 3x3 convolutions with bias and ReLU, 2x2 max
    pools, widths 64/128/256/512/1024; 2x2 up-convolutions halving the channels, copy-and-crop
    (the skip connection centre-cropped, then concatenated before the up-sampled map) and a 1x1
    convolution to the 2 classes.
    """
    b = NetworkBuilder(
        "unet",
        source="Ronneberger, Fischer & Brox, 'U-Net: Convolutional Networks for Biomedical Image Segmentation', "
               "MICCAI 2015, Fig. 1 (572x572x1 input, unpadded convs, 2x2 stride-2 up-convolutions, 388x388x2 "
               "output); no reference implementation is followed beyond the figure",
        inputs={"image": (1, 572, 572)},
    )
    x = _unet(b, "image", [64, 128, 256, 512, 1024], padding=0, activation="relu", skip_first=True, crop=True)
    # The paper's soft-max belongs to its loss (Section 3), not to the network's last layer.
    b.conv("out", x, 2, 1, bias=True)
    return b.build()


def unet_nuclei() -> Network:
    """The small U-Net for 128x128 nuclei segmentation of the Kaggle Data Science Bowl 2018.

    Kjetil Amdal-Saevik's "Keras U-Net starter - LB 0.277" (Kaggle, 2018), the model widely reused
    for the competition's nuclei masks: Ronneberger et al.'s U-Net (MICCAI 2015) shrunk to widths
    16/32/64/128/256 with 'same'-padded 3x3 convolutions (bias, ELU), 2x2 max pools, 2x2 stride-2
    transposed convolutions with bias, concatenation (up-sampled map first, then the skip) and a
    1x1 convolution with sigmoid to one mask channel.
    """
    b = NetworkBuilder(
        "unet_nuclei",
        source="K. Amdal-Saevik, 'Keras U-Net starter - LB 0.277', Kaggle Data Science Bowl 2018 kernel (after "
               "Ronneberger et al., MICCAI 2015): 128x128x3 input, widths 16-256, same-padded 3x3 Conv2D+ELU, "
               "Conv2DTranspose 2x2/2, concatenate([up, skip]), 1x1 Conv2D+sigmoid; dropout and the x/255 "
               "input Lambda omitted",
        inputs={"image": (3, 128, 128)},
    )
    # The Keras model scales its input by 1/255 in a Lambda layer: preprocessing with no weights, omitted.
    x = _unet(b, "image", [16, 32, 64, 128, 256], padding=1, activation="elu", skip_first=False, crop=False)
    b.conv("out", x, 1, 1, bias=True, activation="sigmoid")
    return b.build()


NETWORKS = {"unet": unet, "unet_nuclei": unet_nuclei}
