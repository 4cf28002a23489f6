"""NASAIC co-exploration: networks and a heterogeneous accelerator searched together against specs.

A point of the search picks, for every sub-accelerator, a template, its PEs and its bandwidth (within the
chip's budgets), which sub-accelerator runs each task's network, and, for tasks with a
network search space, the network's hyperparameters. Its evaluation schedules the networks on the design
(:func:`hwsim.compose.schedule`) and checks the specs.

Reward (higher is better), with ``r_s = value_s / limit_s`` for each spec ``s`` (latency, energy, area):

* with accuracy (a task has a network space): ``mean accuracy - sum_s max(0, r_s - 1)
  + 0.001 * mean_s (1 - min(r_s, 1))``: NASAIC's accuracy reward with a penalty for each spec violated in
  proportion to the violation, and a small bonus for slack so that equally accurate designs prefer the leaner one;
* hardware only: ``-mean_s r_s - sum_s max(0, r_s - 1)``: the normalised cost, and the same penalty.

A point whose design breaks a budget or on which a layer cannot run (a buffer too small) has reward ``-inf``.

Baselines, searched with the same method and budget:

* **homogeneous**: every sub-accelerator of one template, for each template;
* **successive** (NAS then ASIC): each task's most accurate network is fixed first, without the hardware; then the
  hardware is searched for those networks (hardware-only reward).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from hwsim.arch.heterogeneous import Heterogeneous
from hwsim.arch.templates import SubAccelerator, Template
from hwsim.errors import InputError
from hwsim.explore.netspace import NetworkSpace
from hwsim.explore.search import Evaluation, Progress, SearchResult, Trial, evolutionary, exhaustive, reinforce
from hwsim.explore.space import Choice, Space
from hwsim.arch.heterogeneous import Specs
from hwsim.report.hetero import HeteroReport, check_cost_model
from hwsim.report.pareto import pareto_front
from hwsim.io.tech import load_technology
from hwsim.io.template_spec import load_template
from hwsim.compose import schedule
from hwsim.workload.network import Network

METHODS = ("auto", "exhaustive", "evolutionary", "reinforce")
OBJECTIVES = ("latency_cycles", "energy_nj", "area_um2")

AccuracyEvaluator = Callable[[str, Mapping[str, Any]], float]
"""Called with a network space's name and the point of that space; see :mod:`hwsim.explore.accuracy`."""


@dataclass(frozen=True)
class Task:
    """One task of the multi-task workload: a fixed network, or a network search space."""

    name: str
    network: Network | None = None
    space: NetworkSpace | None = None

    def __post_init__(self) -> None:
        if (self.network is None) == (self.space is None):
            raise InputError("needs exactly one of a network and a network space", field=f"tasks.{self.name}")
        if self.network is not None and self.network.name != self.name:
            object.__setattr__(self, "network", replace(self.network, name=self.name))  # the schedule names tasks


@dataclass(frozen=True)
class HardwareSpace:
    """The hardware half of the search.

    Every sub-accelerator picks its PEs from ``pe_choices`` and its bandwidth from ``bandwidth_choices``; a design
    over either budget is not built (reward ``-inf``), one under it leaves PEs or bandwidth unused (less area).
    """

    sub_accelerators: int
    templates: tuple[str, ...]
    pe_choices: tuple[int, ...]
    bandwidth_choices: tuple[float, ...]
    pe_budget: int = 4096
    bandwidth_budget_gbps: float = 64.0
    l1_bytes: int = 1024
    l2_kib: float = 256.0
    precision: str = "int8"
    clock_mhz: float = 1000.0
    loaded: Mapping[str, Template] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.sub_accelerators
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError("must be a whole number >= 1", field="hardware.sub_accelerators", value=n)
        for name in ("templates", "pe_choices", "bandwidth_choices"):
            if not getattr(self, name):
                raise InputError("must list at least one option", field=f"hardware.{name}", value=[])
        # Templates are read once, here; PEs and budgets are checked where they are built (SubAccelerator,
        # Heterogeneous).
        object.__setattr__(self, "loaded", {t: load_template(t) for t in self.templates})

    def space(self, tasks: tuple[Task, ...], templates: tuple[str, ...] | None = None) -> Space:
        n = self.sub_accelerators
        choices = []
        for i in range(n):
            choices.append(Choice(f"sub{i}.template", tuple(templates or self.templates)))
        for i in range(n):
            choices.append(Choice(f"sub{i}.pes", tuple(self.pe_choices)))
            choices.append(Choice(f"sub{i}.bandwidth_gbps", tuple(self.bandwidth_choices)))
        for task in tasks:
            choices.append(Choice(f"map.{task.name}", tuple(range(n))))
        return Space(tuple(choices))

    def design(self, point: Mapping[str, Any]) -> Heterogeneous:
        n = self.sub_accelerators
        pes = [point[f"sub{i}.pes"] for i in range(n)]
        bandwidth = [point[f"sub{i}.bandwidth_gbps"] for i in range(n)]
        templates = [self.loaded[point[f"sub{i}.template"]] for i in range(n)]
        subs = tuple(SubAccelerator(templates[i], pes[i], bandwidth[i], l1_bytes=self.l1_bytes,
                                    l2_kib=self.l2_kib, precision=self.precision, clock_mhz=self.clock_mhz)
                     for i in range(n))
        return Heterogeneous(subs, pe_budget=self.pe_budget, bandwidth_budget_gbps=self.bandwidth_budget_gbps)


@dataclass(frozen=True)
class SearchSettings:
    method: str = "auto"
    seed: int = 0
    exhaustive_limit: int = 20000
    population: int = 32
    generations: int = 30
    episodes: int = 60
    batch: int = 16

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown search method (known: {', '.join(METHODS)})", field="search.method",
                             value=self.method)


@dataclass(frozen=True)
class ExploreSpec:
    """Everything ``hwsim explore`` reads from a spec file."""

    name: str
    tasks: tuple[Task, ...]
    hardware: HardwareSpace
    specs: Specs
    search: SearchSettings = SearchSettings()
    cost: str = "hwsim"
    tech: str = "28nm"
    accuracy: AccuracyEvaluator | None = field(default=None, compare=False)
    accuracy_source: str = "none"

    def __post_init__(self) -> None:
        check_cost_model(self.cost)
        load_technology(self.tech)
        names = [t.name for t in self.tasks]
        if not names or len(set(names)) != len(names):
            raise InputError("must name at least one task, each once", field="tasks", value=names)
        missing = [s for s in OBJECTIVES if getattr(self.specs, s) is None]
        if missing:
            raise InputError("is required: the search scores designs against all three specs", field=f"specs.{missing[0]}")
        if any(t.space is not None for t in self.tasks) and self.accuracy is None:
            raise InputError("is required when a task has a network space (a table, a callable, or the synthetic "
                             "proxy)", field="accuracy")


@dataclass(frozen=True)
class ExploreResult:
    spec: ExploreSpec
    search: SearchResult
    front: tuple[int, ...]  # indices into search.trials: the Pareto front over latency, energy and area
    best: Trial | None  # the best design that meets every spec
    best_report: HeteroReport | None
    homogeneous: Mapping[str, SearchResult]
    successive: SearchResult | None
    successive_networks: Mapping[str, str]

    def comparison(self) -> list[dict[str, Any]]:
        """The co-explored design next to the homogeneous and successive baselines' best designs."""
        rows = [_row("co-exploration", self.search)]
        rows += [_row(f"homogeneous {t}", r) for t, r in self.homogeneous.items()]
        if self.successive is not None:
            rows.append(_row("successive (NAS, then hardware)", self.successive))
        return rows


def _row(label: str, result: SearchResult) -> dict[str, Any]:
    pick = result.best_feasible or (result.best if math.isfinite(result.best.evaluation.reward) else None)
    row: dict[str, Any] = {"Approach": label, "Meets specs": pick is not None and pick.evaluation.feasible}
    if pick is not None:
        m = pick.evaluation.metrics
        row.update({"Latency cycles": m["latency_cycles"], "Energy nJ": m["energy_nj"], "Area um2": m["area_um2"],
                    "Accuracy": m.get("accuracy"), "Design": _describe(pick.point)})
    return row


def _describe(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


class _Evaluator:
    """Scores points; networks are built once per distinct choice of their space."""

    def __init__(self, spec: ExploreSpec, tasks: tuple[Task, ...], *, use_accuracy: bool) -> None:
        self.spec, self.tasks, self.use_accuracy = spec, tasks, use_accuracy
        self._networks: dict[tuple[str, tuple], Network] = {}

    def networks(self, point: Mapping[str, Any]) -> tuple[list[Network], dict[str, float]]:
        nets, accuracy = [], {}
        for task in self.tasks:
            if task.network is not None:
                nets.append(task.network)
                continue
            sub = task.space.subpoint(point, prefix=f"{task.name}.")
            key = (task.name, tuple(sub.items()))
            if key not in self._networks:
                self._networks[key] = replace(task.space.build(sub), name=task.name)
            nets.append(self._networks[key])
            if self.use_accuracy:
                accuracy[task.name] = float(self.spec.accuracy(task.space.name, sub))
        return nets, accuracy

    def report(self, point: Mapping[str, Any]) -> HeteroReport:
        nets, _ = self.networks(point)
        design = self.spec.hardware.design(point)
        mapping = {task.name: point[f"map.{task.name}"] for task in self.tasks}
        return schedule(nets, design, mapping, tech=self.spec.tech, cost=self.spec.cost)

    def __call__(self, point: dict[str, Any]) -> Evaluation:
        try:
            nets, accuracy = self.networks(point)
            report = self.report(point)
        except InputError:
            return Evaluation(-math.inf, False, {})
        metrics = report.metrics()
        ratios = [metrics[s] / getattr(self.spec.specs, s) for s in OBJECTIVES]
        violation = sum(max(0.0, r - 1) for r in ratios)
        feasible = violation == 0
        if self.use_accuracy and accuracy:
            mean = sum(accuracy.values()) / len(accuracy)
            reward = mean - violation + 1e-3 * sum(1 - min(r, 1) for r in ratios) / len(ratios)
            metrics = {**metrics, "accuracy": mean, **{f"accuracy.{k}": v for k, v in accuracy.items()}}
        else:
            reward = -sum(ratios) / len(ratios) - violation
        return Evaluation(reward, feasible, metrics)


def _search(space: Space, evaluate: Callable, settings: SearchSettings, progress: Progress | None) -> SearchResult:
    method = settings.method
    if method == "auto":
        method = "exhaustive" if space.size <= settings.exhaustive_limit else "evolutionary"
    if method == "exhaustive":
        return exhaustive(space, evaluate, limit=settings.exhaustive_limit, progress=progress)
    if method == "evolutionary":
        return evolutionary(space, evaluate, seed=settings.seed, population=settings.population,
                            generations=settings.generations, progress=progress)
    return reinforce(space, evaluate, seed=settings.seed, episodes=settings.episodes, batch=settings.batch,
                     progress=progress)


def search_space(spec: ExploreSpec, templates: tuple[str, ...] | None = None) -> Space:
    """The joint space: hardware choices, then each network space's choices prefixed with its task's name."""
    space = spec.hardware.space(spec.tasks, templates)
    for task in spec.tasks:
        if task.space is not None:
            space = space + task.space.space.prefixed(f"{task.name}.")
    return space


def explore(spec: ExploreSpec, *, baselines: bool = True, progress: Progress | None = None) -> ExploreResult:
    """Search ``spec``'s space; with ``baselines``, also the homogeneous and successive designs."""
    use_accuracy = any(t.space is not None for t in spec.tasks)
    evaluator = _Evaluator(spec, spec.tasks, use_accuracy=use_accuracy)
    result = _search(search_space(spec), evaluator, spec.search, progress)
    valid = [i for i, t in enumerate(result.trials) if math.isfinite(t.evaluation.reward)]
    values = [[result.trials[i].evaluation.metrics[s] for s in OBJECTIVES] for i in valid]
    front = tuple(valid[j] for j in pareto_front(values)) if values else ()
    best = result.best_feasible
    best_report = evaluator.report(best.point) if best is not None else None

    homogeneous: dict[str, SearchResult] = {}
    successive, chosen = None, {}
    if baselines:
        for template in spec.hardware.templates:
            homogeneous[template] = _search(search_space(spec, (template,)), evaluator, spec.search, None)
        if use_accuracy:
            spaces = {t.name: t.space for t in spec.tasks if t.space is not None}
            tops = _top_points(spec)
            chosen = {name: spaces[name].network_name(point) for name, point in tops.items()}
            tasks = tuple(t if t.space is None else Task(t.name, network=t.space.build(tops[t.name]))
                          for t in spec.tasks)
            hardware_only = _Evaluator(replace(spec, tasks=tasks), tasks, use_accuracy=False)
            mean = sum(float(spec.accuracy(spaces[name].name, point)) for name, point in tops.items()) / len(tops)

            def with_accuracy(point: dict[str, Any]) -> Evaluation:
                e = hardware_only(point)
                if not math.isfinite(e.reward):
                    return e
                return Evaluation(e.reward, e.feasible, {**e.metrics, "accuracy": mean})

            successive = _search(spec.hardware.space(tasks), with_accuracy, spec.search, None)
    return ExploreResult(spec=spec, search=result, front=front, best=best, best_report=best_report,
                         homogeneous=homogeneous, successive=successive, successive_networks=chosen)


def _top_points(spec: ExploreSpec) -> dict[str, dict[str, Any]]:
    """For each task with a network space, the point its accuracy evaluator ranks first (ties: the first)."""
    tops = {}
    for task in spec.tasks:
        if task.space is not None:
            points = list(task.space.space)
            scores = [float(spec.accuracy(task.space.name, p)) for p in points]
            tops[task.name] = points[max(range(len(points)), key=scores.__getitem__)]
    return tops
