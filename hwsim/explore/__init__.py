"""Co-exploration machinery: design spaces, searches over them, network spaces and accuracy evaluators.

:mod:`~hwsim.explore.space` describes discrete spaces, :mod:`~hwsim.explore.search` searches them
(exhaustive, evolutionary, REINFORCE) with any evaluator, :mod:`~hwsim.explore.netspace` turns a
point into a network of a family, and :mod:`~hwsim.explore.accuracy` says how accurate that network
is (a measured table, a user callable, or a clearly labelled synthetic proxy for tests).
"""

from hwsim.explore.accuracy import (
    AccuracyEvaluator, AccuracyTable, accuracy_source, callable_evaluator, synthetic_accuracy_proxy,
)
from hwsim.explore.netspace import NetworkSpace
from hwsim.explore.search import Evaluation, SearchResult, Trial, evolutionary, exhaustive, reinforce
from hwsim.explore.space import Choice, Space

__all__ = [
    "AccuracyEvaluator", "AccuracyTable", "Choice", "Evaluation", "NetworkSpace", "SearchResult", "Space", "Trial",
    "accuracy_source", "callable_evaluator", "evolutionary", "exhaustive", "reinforce", "synthetic_accuracy_proxy",
]
