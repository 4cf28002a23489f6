"""Network orders its layers and finds cycles without networkx, exactly as networkx would."""

from __future__ import annotations

import networkx as nx
from hypothesis import given
from hypothesis import strategies as st

from hwsim.workload.network import _find_cycle, _topological_order


@st.composite
def graphs(draw) -> tuple[dict[str, dict[str, None]], nx.DiGraph]:
    """Producer -> consumers in insertion order, and the networkx graph built in the same order."""
    names = draw(st.permutations([f"n{i}" for i in range(draw(st.integers(1, 9)))]))
    edges = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=20))
    if draw(st.booleans()):  # a DAG: edges only up a hidden ranking, so the given order need not be topological
        rank = {name: i for i, name in enumerate(draw(st.permutations(names)))}
        edges = [(source, target) for source, target in edges if rank[source] < rank[target]]
    consumers: dict[str, dict[str, None]] = {name: {} for name in names}
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for source, target in edges:
        consumers[source][target] = None
        graph.add_edge(source, target)
    return consumers, graph


@given(graphs())
def test_cycle_and_order_equal_networkx(case):
    consumers, graph = case
    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        assert _find_cycle(consumers) is None
        position = {name: i for i, name in enumerate(consumers)}
        assert _topological_order(consumers) == list(
            nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    else:
        assert _find_cycle(consumers) == [source for source, _ in edges] + [edges[0][0]]
