"""Energy and area: one cost module for every model, priced from documented technology tables."""

from hwsim.cost.area import systolic_area
from hwsim.cost.energy import layer_energy
from hwsim.cost.tech import Technology

__all__ = ["Technology", "layer_energy", "systolic_area"]
