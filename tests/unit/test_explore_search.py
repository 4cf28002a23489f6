"""Design spaces and the three searches: exhaustive, evolutionary, REINFORCE."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hwsim.errors import InputError
from hwsim.explore import Choice, Evaluation, SearchResult, Space, evolutionary, exhaustive, reinforce

# A 5 x 4 x 3 x 4 = 240-point space with one optimum, at TARGET: a weighted quadratic bowl plus a bonus
# for getting the first two choices right together (so the choices interact).
SPACE = Space.of({"a": [0, 1, 2, 3, 4], "b": ["w", "x", "y", "z"], "c": [False, True, None], "d": [1, 2, 4, 8]})
TARGET = (3, 1, 2, 0)
WEIGHTS = np.array([1.0, 2.0, 3.0, 1.5])


def bowl(point: dict) -> Evaluation:
    ix = np.array(SPACE.indices(point))
    reward = -float(np.sum(WEIGHTS * (ix - TARGET) ** 2)) + 0.5 * float(ix[0] == 3 and ix[1] == 1)
    return Evaluation(reward, feasible=bool(ix[2] != 0), metrics={"distance": float(np.abs(ix - TARGET).sum())})


class Counting:
    """An evaluator that counts its calls and the distinct points it saw."""

    def __init__(self, evaluate):
        self.evaluate, self.calls, self.seen = evaluate, 0, set()

    def __call__(self, point):
        self.calls += 1
        self.seen.add(tuple(point.items()))
        return self.evaluate(point)


# -- spaces ---------------------------------------------------------------------------------------

def test_space_points_indices_and_order():
    assert SPACE.shape == (5, 4, 3, 4) and SPACE.size == 240
    assert SPACE.point((3, 1, 2, 0)) == {"a": 3, "b": "x", "c": None, "d": 1}
    assert SPACE.indices({"a": 3, "b": "x", "c": None, "d": 1}) == (3, 1, 2, 0)
    points = list(SPACE)
    assert len(points) == 240 and points[0] == {"a": 0, "b": "w", "c": False, "d": 1}
    assert points[1] == {"a": 0, "b": "w", "c": False, "d": 2}, "the last choice varies fastest"
    assert list(SPACE.iter_indices()) == list(itertools.product(range(5), range(4), range(3), range(4)))
    assert [SPACE.indices(p) for p in points] == list(SPACE.iter_indices())


def test_true_and_one_are_different_options():
    choice = Choice("flag", (0, 1, True))
    assert choice.index(True) == 2 and choice.index(1) == 1


def test_spaces_join_with_plus_and_product():
    hw = Space.of({"pe_split": [0.25, 0.5], "template": ["nvdla", "eyeriss"]})
    net = Space.of({"depth": [2, 3, 4]}).prefixed("unet.")
    joined = hw + net
    assert joined.names == ("pe_split", "template", "unet.depth") and joined.size == 12
    assert Space.product(hw, net) == joined
    assert Space(()).size == 1 and list(Space(())) == [{}]


@pytest.mark.parametrize("build, message", [
    (lambda: Space.of({"a": [1, 2]}) + Space.of({"a": [3]}), "field 'a' = 'a': names two choices"),
    (lambda: Space.of({"a": []}), "field 'a' = []: the options must not be empty"),
    (lambda: Space.of({"a": [1, 2, 1]}), "field 'a' = 1: lists an option twice"),
    (lambda: Choice("", (1,)), "field 'name' = '': a choice needs a non-empty name"),
    (lambda: Space.of({"a": "abc"}), "field 'a' = 'abc': the options must be a list"),
])
def test_space_errors_name_the_field(build, message):
    with pytest.raises(InputError) as err:
        build()
    assert str(err.value) == message


@pytest.mark.parametrize("call, message", [
    (lambda: SPACE.point((0, 0, 0)), "field 'indices' = [0, 0, 0]: expected 4 indices, one per choice"),
    (lambda: SPACE.point((0, 4, 0, 0)), "field 'b' = 4: index out of range 0..3"),
    (lambda: SPACE.indices({"a": 0, "b": "w", "c": False}), "field 'd': is missing from the point"),
    (lambda: SPACE.indices({"a": 9, "b": "w", "c": False, "d": 1}), "field 'a' = 9: is not one of the options "
                                                                     "[0, 1, 2, 3, 4]"),
    (lambda: SPACE.indices({"a": 0, "b": "w", "c": False, "d": 1, "e": 0}),
     "field 'e': is not a choice of this space (choices: a, b, c, d)"),
])
def test_point_and_indices_errors(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message


def test_evaluation_checks_its_fields():
    e = Evaluation(np.float64(-1.5), np.bool_(True), {"latency_cycles": np.int64(7)})
    assert (e.reward, e.feasible, e.metrics) == (-1.5, True, {"latency_cycles": 7.0})
    assert type(e.reward) is float and type(e.feasible) is bool
    assert Evaluation(-math.inf, False).reward == -math.inf
    cannot = "must be a number or -inf (for a point that cannot be built)"
    for bad, message in [
        (dict(reward=math.nan, feasible=True), f"field 'reward' = nan: {cannot}"),
        (dict(reward=math.inf, feasible=True), f"field 'reward' = inf: {cannot}"),
        (dict(reward="1", feasible=True), "field 'reward' = '1': must be a real number"),
        (dict(reward=1.0, feasible=1), "field 'feasible' = 1: must be true or false"),
        (dict(reward=1.0, feasible=True, metrics={"area_um2": "big"}),
         "field 'metrics.area_um2' = 'big': must be a real number"),
    ]:
        with pytest.raises(InputError) as err:
            Evaluation(**bad)
        assert str(err.value) == message


# -- exhaustive -----------------------------------------------------------------------------------

def test_exhaustive_finds_the_brute_force_optimum_and_keeps_every_point():
    result = exhaustive(SPACE, bowl)
    grid = np.array([bowl(p).reward for p in SPACE])
    assert result.best.point == SPACE.point(np.unravel_index(int(np.argmax(grid)), SPACE.shape))
    assert result.best.indices == TARGET and result.best.evaluation.reward == 0.5
    assert [t.point for t in result.trials] == list(SPACE)
    assert [t.step for t in result.trials] == list(range(240))
    assert result.evaluations == 240 and result.method == "exhaustive" and result.seed is None


def test_best_takes_the_first_of_equal_rewards_and_best_feasible_skips_infeasible():
    space = Space.of({"x": [0, 1, 2, 3]})
    result = exhaustive(space, lambda p: Evaluation(float(p["x"] in (1, 3)), feasible=p["x"] != 1))
    assert result.best.point == {"x": 1}
    assert result.best_feasible.point == {"x": 3}
    assert exhaustive(space, lambda p: Evaluation(1.0, feasible=False)).best_feasible is None


def test_minus_infinity_marks_points_that_cannot_be_built():
    result = exhaustive(SPACE, lambda p: Evaluation(-math.inf, False) if p["a"] != 2 else bowl(p))
    assert result.best.point["a"] == 2 and math.isfinite(result.best.evaluation.reward)


def test_exhaustive_refuses_a_space_over_its_limit():
    with pytest.raises(InputError) as err:
        exhaustive(SPACE, bowl, limit=100)
    assert str(err.value) == ("field 'space size' = 240: the space has 240 points, more than the exhaustive limit "
                              "of 100; use the evolutionary or reinforce search")


def test_records_are_flat_rows():
    rows = exhaustive(Space.of({"x": [1, 2]}), lambda p: Evaluation(p["x"], True, {"area_um2": 3.0})).records()
    assert rows == [{"step": 0, "x": 1, "reward": 1.0, "feasible": True, "area_um2": 3.0},
                    {"step": 1, "x": 2, "reward": 2.0, "feasible": True, "area_um2": 3.0}]


def test_progress_is_reported_to_the_end():
    tiny = Space.of({"x": [0, 1]})  # seen whole by the initial population: the evolutionary search stops early
    for space, search, kwargs in [(SPACE, exhaustive, {}), (SPACE, evolutionary, dict(seed=0, generations=3)),
                                  (tiny, evolutionary, dict(seed=0, generations=3)),
                                  (SPACE, reinforce, dict(seed=0, episodes=4))]:
        calls = []
        search(space, lambda p: Evaluation(0.0, True), progress=lambda done, total: calls.append((done, total)),
               **kwargs)
        assert calls and calls[-1][0] == calls[-1][1] and sorted(calls) == calls


# -- evolutionary and REINFORCE -------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("search, budget", [(evolutionary, {"population": 16, "generations": 12}),
                                            (reinforce, {"episodes": 30, "batch": 8})], ids=["evolutionary", "reinforce"])
def test_search_finds_the_exhaustive_optimum_within_its_budget(search, budget, seed):
    counting = Counting(bowl)
    result = search(SPACE, counting, seed=seed, **budget)
    assert result.best.point == exhaustive(SPACE, bowl).best.point
    assert result.evaluations == counting.calls == len(counting.seen) == len(result.trials)
    assert result.evaluations < 0.6 * SPACE.size, "found by search, not by enumerating the space"


def test_reinforce_policy_concentrates_on_the_best_option_of_a_deceptive_reward():
    # Choice "x": the reward falls from option 0 to option 3, then jumps at option 4, the best. A search
    # that follows neighbouring options walks to 0; the policy gradient must move probability to 4.
    # Choice "noise" adds a little reward unrelated to x.
    space = Space.of({"x": [0, 1, 2, 3, 4], "noise": [0, 1, 2, 3]})
    score = [0.6, 0.3, 0.1, 0.0, 1.0]
    result = reinforce(space, lambda p: Evaluation(score[p["x"]] + 0.05 * p["noise"], True), seed=3, episodes=60,
                       batch=16, learning_rate=0.3)
    x = result.policy[0]
    assert len(x) == 5 and math.isclose(sum(x), 1.0)
    assert x[4] > 0.8, f"probability of the best option stayed near its start 0.2: {x}"
    assert x[4] == max(x) and x[3] == min(x)
    assert result.best.point == {"x": 4, "noise": 3}


def test_reinforce_learns_around_points_that_cannot_be_built():
    space = Space.of({"x": [0, 1, 2, 3], "y": [0, 1, 2]})
    def evaluate(p):
        return Evaluation(-math.inf, False) if p["y"] == 0 else Evaluation(p["x"] + p["y"], True)

    result = reinforce(space, evaluate, seed=0, episodes=40, batch=8)
    assert result.best.point == {"x": 3, "y": 2}
    assert all(np.isfinite(result.policy[c]).all() for c in range(2))
    assert result.policy[1][0] < 0.1, "the option whose points cannot be built is avoided"


@pytest.mark.parametrize("search", [evolutionary, reinforce])
def test_same_seed_gives_the_identical_result_and_seeds_differ(search):
    first, again, other = (search(SPACE, bowl, seed=s) for s in (7, 7, 8))
    assert isinstance(first, SearchResult) and first == again
    assert first.seed == 7 and first.method == search.__name__
    assert [t.indices for t in first.trials] != [t.indices for t in other.trials]


@pytest.mark.parametrize("search", [evolutionary, reinforce])
def test_memoised_when_the_space_is_smaller_than_the_budget(search):
    space = Space.of({"x": [0, 1, 2], "y": [0, 1]})
    counting = Counting(lambda p: Evaluation(p["x"] - p["y"], True))
    result = search(space, counting, seed=0)
    assert counting.calls == len(counting.seen) == result.evaluations == len(result.trials) <= space.size
    assert result.best.point == {"x": 2, "y": 0}


@pytest.mark.parametrize("call, message", [
    (lambda: evolutionary(SPACE, bowl, seed=0, population=4, elite=4),
     "field 'elite' = 4: must be smaller than the population (4)"),
    (lambda: evolutionary(SPACE, bowl, seed=0, mutation=1.5), "field 'mutation' = 1.5: must be a number in [0, 1]"),
    (lambda: evolutionary(SPACE, bowl, seed=-1), "field 'seed' = -1: must be a whole number >= 0"),
    (lambda: reinforce(SPACE, bowl, seed=0, learning_rate=0), "field 'learning_rate' = 0: must be a number > 0"),
    (lambda: reinforce(SPACE, bowl, seed=0, batch=0), "field 'batch' = 0: must be a whole number >= 1"),
])
def test_search_settings_are_checked(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message


def test_an_evaluator_must_return_an_evaluation():
    with pytest.raises(TypeError, match="evaluate must return an Evaluation, got float"):
        exhaustive(SPACE, lambda p: 1.0)
