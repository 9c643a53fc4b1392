"""Settings users may change for every display of the session: `ipython_ext.options.max_graph_nodes = 120`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Options:
    max_graph_nodes: int = 60  # graphs with more visible nodes collapse their deepest name scopes
    max_listing_rows: int = 300  # rows of op listings (graphs without `dot`, traces)
    top_ops: int = 10  # rows of the costliest-ops table
    trace_history: int = 10  # traced runs %run_graph --trace keeps for `ipython_ext.trace_history()`
    dot_timeout_s: float = 1.5  # a picture `dot` cannot draw in this time shows as a listing (and says so)


options = Options()
