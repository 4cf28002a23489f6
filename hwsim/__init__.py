"""hwsim: a hardware-accelerator co-design simulator.

The data flows workload -> arch -> mapping -> cycle model -> energy/area -> report; the
sub-packages are named after those stages.
"""

__version__ = "0.1.0"
