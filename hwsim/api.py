"""What notebooks import: pure functions from descriptions to results.

``simulate(network, arch) -> Report`` joins this module with the systolic-array cycle model.
"""

from hwsim.io.load import load_workload
from hwsim.report.workload import layer_rows, network_summary
from hwsim.workload import Network, NetworkBuilder, lower
from hwsim.workload.zoo import ZOO, build as bundled_network

__all__ = ["ZOO", "Network", "NetworkBuilder", "bundled_network", "layer_rows", "load_workload", "lower",
           "network_summary"]
