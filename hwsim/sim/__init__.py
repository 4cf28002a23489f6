"""Cycle models of the accelerators: they count, and never price.

:mod:`hwsim.sim.engine` is the fast closed-form engine (with :mod:`~hwsim.sim.compute` and :mod:`~hwsim.sim.memory`),
:mod:`hwsim.sim.batch` the same over many designs, :mod:`hwsim.sim.stepped` and :mod:`hwsim.sim.sparse` the
cycle-stepped references (every register stepped every cycle, real int8 arithmetic, the per-cycle edge demand trace
the RTL and the closed form are checked against), :mod:`hwsim.sim.training` SAT's training step and
:mod:`hwsim.sim.template` / :mod:`hwsim.sim.schedule` NASAIC's sub-accelerators. Importing this package loads none
of them.
"""
