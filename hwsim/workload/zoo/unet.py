"""U-Nets: Ronneberger et al.'s original and the small nuclei-segmentation U-Net of the 2018 Data Science Bowl."""

from __future__ import annotations

from hwsim.workload.network import Network


def unet() -> Network:
    """The original U-Net, 572x572x1 in, 388x388x2 out.

    Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
    Segmentation", MICCAI 2015, Fig. 1: unpadded 3x3 convolutions with bias and ReLU, 2x2 max
    pools, widths 64/128/256/512/1024; 2x2 up-convolutions halving the channels, copy-and-crop
    (the skip connection centre-cropped, then concatenated before the up-sampled map) and a 1x1
    convolution to the 2 classes.
    """
    from hwsim.workload.families import unet as unet_family  # here: loaded only for these networks

    return unet_family(
        depth=4, base_filters=64, input_size=572, in_channels=1, classes=2, same_padding=False, skip_first=True,
        activation="relu",
        # The paper's soft-max belongs to its loss (Section 3), not to the network's last layer.
        output_activation=None,
        name="unet",
        source="Ronneberger, Fischer & Brox, 'U-Net: Convolutional Networks for Biomedical Image Segmentation', "
               "MICCAI 2015, Fig. 1 (572x572x1 input, unpadded convs, 2x2 stride-2 up-convolutions, 388x388x2 "
               "output); no reference implementation is followed beyond the figure",
    )


def unet_nuclei() -> Network:
    """The small U-Net for 128x128 nuclei segmentation of the Kaggle Data Science Bowl 2018.

    Kjetil Amdal-Saevik's "Keras U-Net starter - LB 0.277" (Kaggle, 2018), the model widely reused
    for the competition's nuclei masks: Ronneberger et al.'s U-Net (MICCAI 2015) shrunk to widths
    16/32/64/128/256 with 'same'-padded 3x3 convolutions (bias, ELU), 2x2 max pools, 2x2 stride-2
    transposed convolutions with bias, concatenation (up-sampled map first, then the skip) and a
    1x1 convolution with sigmoid to one mask channel.
    """
    # The Keras model scales its input by 1/255 in a Lambda layer: preprocessing with no weights, omitted.
    from hwsim.workload.families import unet as unet_family  # here: loaded only for these networks

    return unet_family(
        name="unet_nuclei",
        source="K. Amdal-Saevik, 'Keras U-Net starter - LB 0.277', Kaggle Data Science Bowl 2018 kernel (after "
               "Ronneberger et al., MICCAI 2015): 128x128x3 input, widths 16-256, same-padded 3x3 Conv2D+ELU, "
               "Conv2DTranspose 2x2/2, concatenate([up, skip]), 1x1 Conv2D+sigmoid; dropout and the x/255 "
               "input Lambda omitted",
    )
