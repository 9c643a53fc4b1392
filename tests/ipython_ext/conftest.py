"""Fixtures for the extension tests: a real IPython InteractiveShell per test (history in memory), with or
without the extension loaded; element ids restart for every test as they do in a fresh kernel."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import ipython_ext
import tfmini as tf
from ipython_ext import markup


@pytest.fixture
def bare_ip():
    """A fresh shell without the extension; the default graph and session stack are clean around it."""
    tf.reset_default_graph()
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    yield shell
    ipython_ext.unload_ipython_extension(shell)
    InteractiveShell.clear_instance()
    while tf.get_default_session() is not None:
        tf.get_default_session().close()
    tf.reset_default_graph()


@pytest.fixture
def ip(bare_ip):
    """A fresh shell with `%load_ext ipython_ext` done and tfmini imported as tf, NumPy as np."""
    bare_ip.run_cell("%load_ext ipython_ext\nimport tfmini as tf\nimport numpy as np", store_history=True)
    return bare_ip


@pytest.fixture(autouse=True)
def _fresh_ids():
    markup._id_counts.clear()
