"""What notebooks import: pure functions from descriptions to results."""

from hwsim.arch.sat import SAT_ASSUMPTIONS, SatArray
from hwsim.arch.systolic import SystolicArray
from hwsim.io.load import load_workload
from hwsim.report.systolic import LayerReport, Report
from hwsim.report.workload import layer_rows, network_summary
from hwsim.sim.engine import simulate
from hwsim.sim.training import TrainingReport, simulate_training
from hwsim.workload import Network, NetworkBuilder, lower
from hwsim.workload.zoo import ZOO, build as bundled_network

__all__ = ["SAT_ASSUMPTIONS", "ZOO", "LayerReport", "Network", "NetworkBuilder", "Report", "SatArray", "SystolicArray",
           "TrainingReport", "bundled_network", "layer_rows", "load_workload", "lower", "network_summary", "simulate",
           "simulate_training"]
