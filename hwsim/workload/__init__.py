"""Workloads: layers, networks (DAGs), N:M sparsity, the GEMM lowering, and the zoo."""

from hwsim.workload.builder import NetworkBuilder
from hwsim.workload.layers import LAYER_KINDS, Layer
from hwsim.workload.lowering import GemmDims, lower
from hwsim.workload.network import LayerStats, Network
from hwsim.workload.sparsity import NMSparsity

__all__ = ["LAYER_KINDS", "GemmDims", "Layer", "LayerStats", "Network", "NetworkBuilder", "NMSparsity", "lower"]
