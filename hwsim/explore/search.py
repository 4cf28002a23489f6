"""Searches over a :class:`~hwsim.explore.space.Space`: exhaustive, evolutionary, REINFORCE.

Each search takes ``evaluate``, any callable from a point (``{choice name: option}``) to an
:class:`Evaluation`, and returns a :class:`SearchResult`. Higher reward is better. Every search
is memoised (a point is evaluated once, however often it is revisited) and, given a seed,
reproducible: the same space, evaluator and seed give an identical result.

NASAIC (Yang et al., DAC 2020) trains an RNN controller with REINFORCE [paper, as hwsim issue 7
reports it; the search tool returned only the paper's abstract, so not re-checked here]. Ours is a
NumPy policy of independent softmax distributions, one per choice [assumed: no RNN, no dependence
between choices], trained with the REINFORCE rule; the evolutionary search is hwsim's addition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from hwsim.errors import InputError
from hwsim.explore.space import Space

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each step of a search (for a progress bar)."""

EXHAUSTIVE_LIMIT = 100_000
"""Default largest space :func:`exhaustive` will enumerate."""


@dataclass(frozen=True)
class Evaluation:
    """What the evaluator says of one point.

    Parameters
    ----------
    reward
        Higher is better. ``-inf`` marks a point that cannot be built or run; it is never best
        unless every point is ``-inf``. NaN and ``+inf`` are refused.
    feasible
        Whether the point meets the design specs (latency, energy, area). Required: a search reports
        the best feasible point separately (:attr:`SearchResult.best_feasible`).
    metrics
        Named numbers for reports and Pareto fronts, units in the names (``latency_cycles``,
        ``energy_nj``, ``area_um2``, ``accuracy``). Stored as a new dict; treat it as read-only.
    """

    reward: float
    feasible: bool
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reward = self.reward
        if isinstance(reward, bool) or not isinstance(reward, (int, float, np.integer, np.floating)):
            raise InputError("must be a real number", field="reward", value=reward)
        reward = float(reward)
        if math.isnan(reward) or reward == math.inf:
            raise InputError("must be a number or -inf (for a point that cannot be built)", field="reward",
                             value=reward)
        object.__setattr__(self, "reward", reward)
        if not isinstance(self.feasible, (bool, np.bool_)):
            raise InputError("must be true or false", field="feasible", value=self.feasible)
        object.__setattr__(self, "feasible", bool(self.feasible))
        if not isinstance(self.metrics, Mapping):
            raise InputError("must be a mapping of names to numbers", field="metrics", value=self.metrics)
        metrics = {}
        for name, value in self.metrics.items():
            if not isinstance(name, str):
                raise InputError("metric names must be strings", field="metrics", value=name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise InputError("must be a real number", field=f"metrics.{name}", value=value)
            metrics[name] = float(value)
        object.__setattr__(self, "metrics", metrics)


@dataclass(frozen=True)
class Trial:
    """One distinct point a search evaluated.

    ``step`` is when it was first evaluated: the position in enumeration order (exhaustive), the
    generation (evolutionary, 0 for the initial population) or the episode (REINFORCE).
    """

    point: dict[str, Any]
    indices: tuple[int, ...]
    evaluation: Evaluation
    step: int


@dataclass(frozen=True)
class SearchResult:
    """What a search found.

    Parameters
    ----------
    method
        ``"exhaustive"``, ``"evolutionary"`` or ``"reinforce"``.
    seed
        The seed it ran with (``None`` for exhaustive).
    trials
        Every distinct point evaluated, in the order first evaluated.
    best
        The trial of highest reward; of equal rewards, the first found.
    evaluations
        Calls made to ``evaluate`` (equal to ``len(trials)``: searches are memoised).
    policy
        REINFORCE only: the final probability of each option of each choice.
    """

    method: str
    seed: int | None
    trials: tuple[Trial, ...]
    best: Trial
    evaluations: int
    policy: tuple[tuple[float, ...], ...] | None = None

    @property
    def best_feasible(self) -> Trial | None:
        """The feasible trial of highest reward (first found on ties), or ``None`` if none is feasible."""
        feasible = [t for t in self.trials if t.evaluation.feasible]
        return _best(feasible) if feasible else None

    def records(self) -> list[dict[str, Any]]:
        """One flat row per trial (step, the point's options, reward, feasible, metrics), for CSV/JSON.

        A metric or choice named ``step``, ``reward`` or ``feasible`` would overwrite that column: name
        them otherwise.
        """
        return [{"step": t.step, **t.point, "reward": t.evaluation.reward, "feasible": t.evaluation.feasible,
                 **t.evaluation.metrics} for t in self.trials]


def _best(trials: list[Trial]) -> Trial:
    best = trials[0]
    for trial in trials[1:]:
        if trial.evaluation.reward > best.evaluation.reward:
            best = trial
    return best


class _Memo:
    """The evaluator behind a search: one call per distinct point, trials in first-evaluated order."""

    def __init__(self, space: Space, evaluate: Callable[[dict[str, Any]], Evaluation]) -> None:
        if not callable(evaluate):
            raise TypeError(f"evaluate must be callable, got {type(evaluate).__name__}")
        self.space = space
        self.evaluate = evaluate
        self.cache: dict[tuple[int, ...], Evaluation] = {}
        self.trials: list[Trial] = []

    def __call__(self, indices: tuple[int, ...], step: int) -> Evaluation:
        hit = self.cache.get(indices)
        if hit is not None:
            return hit
        result = self.evaluate(self.space.point(indices))
        if not isinstance(result, Evaluation):
            raise TypeError(f"evaluate must return an Evaluation, got {type(result).__name__}")
        self.cache[indices] = result
        self.trials.append(Trial(self.space.point(indices), indices, result, step))
        return result

    def rewards(self, population: np.ndarray, step: int) -> np.ndarray:
        return np.array([self(tuple(int(i) for i in row), step).reward for row in population], dtype=float)

    def result(self, method: str, seed: int | None, policy=None) -> SearchResult:
        if not self.trials:
            raise InputError("the search evaluated no point", field="space", value=self.space.size)
        return SearchResult(method, seed, tuple(self.trials), _best(self.trials), len(self.trials), policy)


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"must be a whole number >= {minimum}", field=name, value=value)
    return int(value)


def _check_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InputError("must be a number in [0, 1]", field=name, value=value)
    return float(value)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError("must be a whole number >= 0", field="seed", value=seed)
    return int(seed)


def exhaustive(space: Space, evaluate: Callable[[dict[str, Any]], Evaluation], *, limit: int = EXHAUSTIVE_LIMIT,
               progress: Progress | None = None) -> SearchResult:
    """Evaluate every point of ``space``, in its fixed order.

    Parameters
    ----------
    space
        The design space; refused (an :class:`InputError` naming its size) if it has more than
        ``limit`` points.
    evaluate
        Point -> :class:`Evaluation`.
    limit
        The largest space to enumerate.
    progress
        Called as ``progress(done, total)`` after each point.

    Returns
    -------
    SearchResult
        Every point as a trial (``step`` = its position), the best by reward.
    """
    limit = _check_count("limit", limit, 1)
    size = space.size
    if size > limit:
        raise InputError(f"the space has {size:,} points, more than the exhaustive limit of {limit:,}; "
                         "use the evolutionary or reinforce search", field="space size", value=size)
    memo = _Memo(space, evaluate)
    for step, indices in enumerate(space.iter_indices()):
        memo(indices, step)
        if progress is not None:
            progress(step + 1, size)
    return memo.result("exhaustive", None)


def evolutionary(space: Space, evaluate: Callable[[dict[str, Any]], Evaluation], *, seed: int,
                 population: int = 32, generations: int = 30, mutation: float | None = None, elite: int = 2,
                 tournament: int = 3, progress: Progress | None = None) -> SearchResult:
    """A genetic search: tournament selection, uniform crossover, per-choice mutation, elitism.

    Each generation keeps the ``elite`` best individuals and breeds the rest: two parents, each the
    best of ``tournament`` individuals drawn at random; each choice taken from either parent with
    equal probability; then each choice, with probability ``mutation``, moved to another of its
    options drawn uniformly. The search stops early once every point of the space has been seen.

    Parameters
    ----------
    space, evaluate
        The design space and point -> :class:`Evaluation`.
    seed
        Seeds :func:`numpy.random.default_rng`; the same seed gives the same result.
    population
        Individuals per generation (>= 2).
    generations
        Generations bred after the random initial population (>= 0). At most
        ``population + generations * (population - elite)`` distinct points are evaluated.
    mutation
        Probability that a choice mutates; by default ``1 / number of choices``.
    elite
        Best individuals copied unchanged into the next generation (0 <= elite < population).
    tournament
        Individuals per tournament (>= 1; 1 is random selection).
    progress
        Called as ``progress(done, total)`` after each generation.
    """
    seed = _check_seed(seed)
    population = _check_count("population", population, 2)
    generations = _check_count("generations", generations, 0)
    tournament = _check_count("tournament", tournament, 1)
    elite = _check_count("elite", elite, 0)
    if elite >= population:
        raise InputError(f"must be smaller than the population ({population})", field="elite", value=elite)
    n = len(space.choices)
    mutation = _check_fraction("mutation", mutation if mutation is not None else 1.0 / max(n, 1))
    memo = _Memo(space, evaluate)
    rng = np.random.default_rng(seed)
    shape = np.array(space.shape, dtype=np.int64)
    # Mutation adds 1..options-1 (mod options), so a mutated choice always changes; a choice with
    # one option adds 1 mod 1 = 0.
    offset_high = np.maximum(shape, 2)
    pop = rng.integers(0, shape, size=(population, n))
    fitness = memo.rewards(pop, 0)
    if progress is not None:
        progress(1, generations + 1)
    children = population - elite
    for generation in range(1, generations + 1):
        if len(memo.cache) >= space.size:
            if progress is not None:
                progress(generations + 1, generations + 1)  # every point seen: nothing left to breed for
            break
        order = np.argsort(-fitness, kind="stable")
        contestants = rng.integers(0, population, size=(children, 2, tournament))
        winners = np.take_along_axis(contestants, np.argmax(fitness[contestants], axis=-1)[..., None], axis=-1)
        mother, father = pop[winners[:, 0, 0]], pop[winners[:, 1, 0]]
        child = np.where(rng.random((children, n)) < 0.5, mother, father)
        mutate = rng.random((children, n)) < mutation
        offsets = rng.integers(1, offset_high, size=(children, n))
        child = np.where(mutate, (child + offsets) % shape, child)
        pop = np.concatenate([pop[order[:elite]], child])
        fitness = np.concatenate([fitness[order[:elite]], memo.rewards(child, generation)])
        if progress is not None:
            progress(generation + 1, generations + 1)
    return memo.result("evolutionary", seed)


def reinforce(space: Space, evaluate: Callable[[dict[str, Any]], Evaluation], *, seed: int, episodes: int = 60,
              batch: int = 16, learning_rate: float = 0.3, baseline_decay: float = 0.9,
              progress: Progress | None = None) -> SearchResult:
    """A policy-gradient search (REINFORCE with a moving-average baseline).

    The policy is one softmax distribution per choice over its options (independent choices),
    starting uniform. Each episode samples ``batch`` points, evaluates them (memoised), and moves
    the logits along ``mean(advantage * grad log p(point))``. The advantage of a sample is its
    reward minus the baseline, divided by the standard deviation of the batch's rewards (a batch
    whose rewards are all equal carries no signal and changes nothing); the baseline is an
    exponential moving average of the batch mean rewards (the first batch's mean to start).
    For the gradient only, a ``-inf`` reward counts as the lowest finite reward seen so far minus
    the spread of the finite rewards seen (a clear penalty on the same scale).

    Parameters
    ----------
    space, evaluate, seed
        As for :func:`evolutionary`.
    episodes, batch
        Policy updates, and points sampled per update (at most ``episodes * batch`` evaluations).
    learning_rate
        Step size of the gradient ascent on the logits.
    baseline_decay
        Weight of the old baseline in each update (0: the last batch mean; towards 1: slower).
    progress
        Called as ``progress(done, total)`` after each episode.

    Returns
    -------
    SearchResult
        The best point seen, every distinct point evaluated, and the final :attr:`~SearchResult.policy`.
    """
    seed = _check_seed(seed)
    episodes = _check_count("episodes", episodes, 1)
    batch = _check_count("batch", batch, 1)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise InputError("must be a number > 0", field="learning_rate", value=learning_rate)
    baseline_decay = _check_fraction("baseline_decay", baseline_decay)
    memo = _Memo(space, evaluate)
    rng = np.random.default_rng(seed)
    shape = np.array(space.shape, dtype=np.int64)
    n, width = len(shape), int(shape.max(initial=1))
    # Choices have different option counts: pad the logits to one (choices x widest) array, with
    # -inf (probability 0) beyond each choice's options.
    valid = np.arange(width)[None, :] < shape[:, None]
    logits = np.where(valid, 0.0, -np.inf)
    baseline: float | None = None
    lowest, highest = math.inf, -math.inf  # over the finite rewards seen so far
    for episode in range(episodes):
        probs = _softmax(logits)
        cumulative = np.cumsum(probs, axis=1)
        draws = rng.random((batch, n, 1))
        # Rounding can leave the last cumulative probability a hair below 1.
        samples = np.minimum((draws >= cumulative[None]).sum(axis=-1), shape - 1)
        rewards = memo.rewards(samples, episode)
        finite = np.isfinite(rewards)
        if finite.any():
            lowest, highest = min(lowest, float(rewards[finite].min())), max(highest, float(rewards[finite].max()))
        if lowest <= highest:
            rewards = np.where(finite, rewards, lowest - (highest - lowest))
            mean, spread = float(rewards.mean()), float(rewards.std())
            if baseline is None:
                baseline = mean
            if spread > 0.0:
                advantage = (rewards - baseline) / spread
                onehot = samples[:, :, None] == np.arange(width)[None, None, :]
                gradient = np.mean(advantage[:, None, None] * (onehot - probs[None]), axis=0)
                logits = logits + learning_rate * np.where(valid, gradient, 0.0)
            baseline = baseline_decay * baseline + (1.0 - baseline_decay) * mean
        if progress is not None:
            progress(episode + 1, episodes)
    probs = _softmax(logits)
    policy = tuple(tuple(float(p) for p in probs[c, : shape[c]]) for c in range(n))
    return memo.result("reinforce", seed, policy)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
