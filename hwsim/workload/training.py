"""One training step as GEMMs: forward (FF), backward (BP) and weight update (WU) of every layer.

A compute layer's forward lowering (:mod:`hwsim.workload.lowering`) is ``repeat = g`` GEMMs
``Y[M, N] = X[M, K] . W[K, N]`` (convolution: ``M`` = pixels x batch, ``K`` = window / g,
``N`` = Cout / g; ``X`` is the im2col matrix). Training adds the two gradient products:

======  ==============================  =====================  ==========================================
pass    product                         ``GemmDims(m, n, k)``  sparse operand (the B operand, along ``k``)
======  ==============================  =====================  ==========================================
FF      ``Y = X . W``                   ``(M, N, K)``          ``W`` along ``K``: FORWARD, BDWP
BP      ``dX = dY . W^T``               ``(M, K, N)``          ``W^T`` along ``N``: BDWP only
WU      ``dW = X^T . dY``               ``(K, N, M)``          none (always dense)
======  ==============================  =====================  ==========================================

so every pass of a weight layer has the forward MAC count when dense. ``dX`` of a convolution is
the im2col-shaped gradient; folding it back onto the input (col2im, summing overlapping windows) is
additions, not MACs. Under BDWP (Fang et al., SAT, TCAD 2023) the weight is pruned twice: along
``K`` (input channels x kernel) for FF and along ``N`` (output channels) for BP, two different
masks of the same tensor (:func:`hwsim.workload.sparsity.prune_mask` with the other axis). A
``conv_transpose2d`` lowers with ``N = Cout/g * kh * kw`` (col2im form), so its BP mask runs along
output channels x kernel taps.

A ``matmul`` (both operands activations, no weights) has no WU and two dense BP GEMMs:
``dA = dO . B^T`` as ``(M, K, N)`` and ``dB = A^T . dO`` as ``(K, N, M)``, same ``repeat``.
Memory-only layers have no GEMMs. Optimiser work on the parameters is vector work, counted by
:func:`weight_update_elements`, not a GEMM.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import partial

from hwsim.errors import InputError
from hwsim.workload.layers import MatMul, WeightLayer
from hwsim.workload.lowering import GemmDims
from hwsim.workload.network import Network
from hwsim.workload.sparsity import NMSparsity, kept_count


class Pass(str, enum.Enum):
    """The three GEMM passes of a training step."""

    FF = "ff"
    BP = "bp"
    WU = "wu"


class Scheme(str, enum.Enum):
    """Which passes prune the weight N:M.

    ``DENSE``: none. ``FORWARD``: FF only (SR-STE style; BP uses the dense weight). ``BDWP``: FF and
    BP, each with its own mask (bidirectional weight pruning); WU is dense in every scheme.
    """

    DENSE = "dense"
    FORWARD = "forward"
    BDWP = "bdwp"


@dataclass(frozen=True)
class TrainingGemm:
    """One GEMM of a training step.

    Parameters
    ----------
    layer, kind
        The workload layer it belongs to and that layer's kind.
    pass_
        FF, BP or WU.
    gemm
        Its dimensions, ``repeat`` GEMMs ``[m, k] @ [k, n]``.
    sparsity
        N:M on the B operand (the weight or its transpose) along this GEMM's reduction ``k``;
        ``None`` for dense. Never ``N == M`` (that is written ``None``).
    product
        What it computes, e.g. ``"dX = dY.W^T"`` (a matmul's two BP GEMMs differ only here).
    needed
        ``False`` for a BP GEMM whose result nobody uses: the gradient of a tensor with no learned
        parameter upstream of it (the network input, for the first layer of a CNN). Listed so the
        step is complete; engines may skip it.
    """

    layer: str
    kind: str
    pass_: Pass
    gemm: GemmDims
    sparsity: NMSparsity | None
    product: str
    needed: bool = True

    @property
    def macs(self) -> int:
        """Dense MACs, ``m * n * k * repeat``."""
        return self.gemm.macs

    @property
    def effective_macs(self) -> int:
        """MACs with the pruned weights skipped: ``k`` shrinks to the kept count of the padding rule
        (:func:`hwsim.workload.sparsity.kept_count`: ``N`` per full group of ``M``, ``min(N, L)`` for a
        last group of ``L``)."""
        g = self.gemm
        return g.m * g.n * kept_count(g.k, self.sparsity) * g.repeat


def _scheme(scheme: object) -> Scheme:
    try:
        return Scheme(scheme)
    except ValueError:
        known = ", ".join(s.value for s in Scheme)
        raise InputError(f"unknown scheme (known: {known})", field="scheme", value=scheme) from None


def _trainable_upstream(network: Network) -> set[str]:
    """Tensors (inputs and layers) that depend on some learned parameter, themselves included."""
    import networkx as nx  # here, not at the top: only training steps walk the graph (start-up time)

    graph = network.graph()
    owners = [s.name for s in network if s.params > 0]
    reached = set(owners)
    for name in owners:
        reached |= nx.descendants(graph, name)
    return reached


def training_gemms(
    network: Network, scheme: Scheme | str, sparsity: NMSparsity | str | None
) -> tuple[TrainingGemm, ...]:
    """The GEMMs of one training step of ``network`` (its batch) under ``scheme``.

    Parameters
    ----------
    network
        The workload.
    scheme
        Which passes are sparse (:class:`Scheme` or its value).
    sparsity
        The N:M of the sparse passes (or ``"N:M"``); required, with ``N < M``, unless ``scheme`` is
        DENSE (where it is ignored). A weight layer's own ``sparsity`` field overrides it for that
        layer; one with ``N == M`` keeps the layer dense (e.g. the first and last layers). The scheme
        alone decides which passes are sparse: under DENSE every GEMM is dense.

    Returns
    -------
    tuple of TrainingGemm
        Order: the FF GEMM of every compute layer in topological order (:attr:`Network.order`);
        then the BP GEMMs in reverse topological order (a matmul's ``dA`` before its ``dB``); then
        the WU GEMMs, also in reverse topological order (the order their ``dY`` become available).

    Raises
    ------
    InputError
        Unknown scheme; sparse scheme without a sparsity, or with ``N >= M``.
    """
    scheme = _scheme(scheme)
    if sparsity is not None:
        sparsity = NMSparsity.parse(sparsity)
    if scheme is not Scheme.DENSE:
        if sparsity is None:
            raise InputError(f"the {scheme.value!r} scheme needs an N:M sparsity", field="sparsity", value=None)
        if sparsity.n >= sparsity.m:
            raise InputError("N must be less than M for sparse training", field="sparsity", value=str(sparsity))
    trainable = _trainable_upstream(network)

    ff: list[TrainingGemm] = []
    bp: list[tuple[TrainingGemm, ...]] = []  # per layer, so a matmul's (dA, dB) stays in order
    wu: list[TrainingGemm] = []
    for stats in network:
        g = stats.gemm
        if g is None:
            continue
        layer = network.layer(stats.name)
        make = partial(TrainingGemm, stats.name, stats.kind)
        backward = GemmDims(g.m, g.k, g.n, g.repeat)
        if isinstance(layer, MatMul):
            need_a, need_b = (source in trainable for source in layer.inputs)
            ff.append(make(Pass.FF, g, None, "O = A.B"))
            bp.append((
                make(Pass.BP, backward, None, "dA = dO.B^T", needed=need_a),
                make(Pass.BP, GemmDims(g.k, g.n, g.m, g.repeat), None, "dB = A^T.dO", needed=need_b),
            ))
            continue
        assert isinstance(layer, WeightLayer), stats.kind  # lower() gives GEMMs to these two families only
        nm = sparsity if scheme is not Scheme.DENSE else None
        if nm is not None and layer.sparsity is not None:
            nm = layer.sparsity if layer.sparsity.n < layer.sparsity.m else None
        ff.append(make(Pass.FF, g, nm, "Y = X.W"))
        bp.append((make(Pass.BP, backward, nm if scheme is Scheme.BDWP else None, "dX = dY.W^T",
                        needed=layer.inputs[0] in trainable),))
        wu.append(make(Pass.WU, GemmDims(g.k, g.n, g.m, g.repeat), None, "dW = X^T.dY"))
    return tuple(ff + [gemm for layer_gemms in reversed(bp) for gemm in layer_gemms] + wu[::-1])


def weight_update_elements(network: Network) -> int:
    """Parameters updated per training step: the optimiser's vector work, not a GEMM.

    Every learned parameter (weights, biases, folded BN scale and shift, layer-norm, embedding
    tables, parameter tensors) is read, updated and written once per step: SGD or Adam on the FP32
    master copy in mixed-precision training, ``O(params)`` element-wise operations.
    """
    return network.params
