"""The single lowering of layers to GEMMs that every model uses.

A compute layer becomes ``repeat`` independent GEMMs ``O[M, N] = A[M, K] @ B[K, N]``:

========  =======================================  ===================  ==========================
dimension convolution (im2col)                     SCALE-Sim's name     meaning
========  =======================================  ===================  ==========================
``M``     output pixels x batch (``Ho*Wo*batch``)  T                    rows streamed past the array
``K``     window ``R*S*C/groups``                  Sr                   reduction
``N``     filters per group ``Cout/groups``        Sc                   output channels
repeat    ``groups``                               (not modelled)       GEMMs that share nothing
========  =======================================  ===================  ==========================

This is SCALE-Sim's convention: for weight-stationary mapping the filter operand ``B`` is
``Sr x Sc`` (window x filters) and ``T`` output pixels stream through; the ifmap operand ``A``
is the im2col matrix whose row ``m`` is the receptive field of output pixel ``m`` in
``(kh, kw, c)`` order, pixels in row-major ``(batch, ho, wo)`` order. A depthwise convolution
(``groups == C``) is ``C`` GEMMs of ``K = R*S``, ``N = 1``.

The other kinds:

* ``conv_transpose2d``: the col2im form, with no multiplications by inserted zeros: each input
  pixel times the weights gives a ``kh*kw`` patch of every output channel, so
  ``M = H*W*batch``, ``K = Cin/groups``, ``N = Cout/groups*kh*kw``, ``repeat = groups``.
  Overlapping patches (``kernel > stride``) are summed in the output, not counted as MACs.
* ``gemm`` (linear on the last dimension): ``M`` = leading positions x batch, ``K`` = in
  features, ``N`` = out features.
* ``fc`` (linear on the flattened input): ``M = batch``, ``K`` = input elements.
* ``matmul``: per head ``A[M, K] @ B[K, N]``; ``repeat = heads * batch`` because both operands
  are activations, so no operand is shared between samples.

MACs are ``M * N * K * repeat``: a layer's MAC count is defined through this lowering.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from hwsim.types import Record, Shape, record
from hwsim.workload.layers import Conv2d, ConvTranspose2d, FullyConnected, Gemm, Layer, MatMul


@record
class GemmDims(Record):
    """``repeat`` independent GEMMs ``[M, K] @ [K, N]``."""

    m: int
    n: int
    k: int
    repeat: int = 1

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.repeat


def lower(layer: Layer, input_shapes: Sequence[Shape], batch: int) -> GemmDims | None:
    """GEMM dimensions of ``layer`` for ``batch`` samples, or ``None`` for memory-only kinds."""
    if isinstance(layer, Conv2d):
        c = input_shapes[0][0]
        _, ho, wo = layer.output_shape(input_shapes)
        kh, kw = layer.kernel
        return GemmDims(
            m=ho * wo * batch, n=layer.out_channels // layer.groups, k=kh * kw * (c // layer.groups),
            repeat=layer.groups,
        )
    if isinstance(layer, ConvTranspose2d):
        c, h, w = input_shapes[0]
        kh, kw = layer.kernel
        return GemmDims(
            m=h * w * batch, n=layer.out_channels // layer.groups * kh * kw, k=c // layer.groups,
            repeat=layer.groups,
        )
    if isinstance(layer, Gemm):
        shape = input_shapes[0]
        return GemmDims(m=math.prod(shape[:-1]) * batch, n=layer.out_features, k=shape[-1])
    if isinstance(layer, FullyConnected):
        return GemmDims(m=batch, n=layer.out_features, k=math.prod(input_shapes[0]))
    if isinstance(layer, MatMul):
        m, n, k = layer.per_head(input_shapes)
        return GemmDims(m=m, n=n, k=k, repeat=layer.heads * batch)
    return None


def conv_operands(layer: Conv2d, ifmap: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The operands of a convolution's GEMMs, in the order :func:`lower` describes.

    Parameters
    ----------
    layer
        The convolution.
    ifmap
        ``(batch, C, H, W)`` input.
    weights
        ``(Cout, C/groups, kh, kw)`` filters (PyTorch's layout).

    Returns
    -------
    a, b
        ``a[g]`` is the ``M x K`` im2col matrix of group ``g`` and ``b[g]`` its ``K x N`` filter
        matrix; ``a[g] @ b[g]`` is group ``g``'s output, pixels in ``(batch, ho, wo)`` order.
    """
    batch, c, h, w = ifmap.shape
    _, ho, wo = layer.output_shape([(c, h, w)])
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    top, bottom, left, right = layer.padding
    padded = np.pad(ifmap, ((0, 0), (0, 0), (top, bottom), (left, right)))
    rows = (np.arange(ho) * sh)[:, None] + (np.arange(kh) * dh)[None, :]  # (ho, kh)
    cols = (np.arange(wo) * sw)[:, None] + (np.arange(kw) * dw)[None, :]  # (wo, kw)
    # windows[b, c, ho, wo, kh, kw]
    windows = padded[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    g = layer.groups
    cg = c // g
    windows = windows.reshape(batch, g, cg, ho, wo, kh, kw)
    a = windows.transpose(1, 0, 3, 4, 5, 6, 2).reshape(g, batch * ho * wo, kh * kw * cg)
    ng = layer.out_channels // g
    b = weights.reshape(g, ng, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, kh * kw * cg, ng)
    return a, b
