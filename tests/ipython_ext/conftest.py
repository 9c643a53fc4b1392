"""Fixtures for the extension tests: a real IPython InteractiveShell per test (history in memory), with or
without the extension loaded; element ids restart for every test as they do in a fresh kernel; and the headless
Chromium the view tests drive (Debian's, through Playwright; never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path

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


CHROMIUM = Path(os.environ.get("TFMINI_CHROMIUM", "/usr/bin/chromium"))
# Headless, and nothing that reaches for the network (the machine's closed network refuses it, many at a time).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, for one test module; the test fails saying how to get it when it is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps` as root (apt-get install chromium)",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: `make venv` installs the dev extras; never "
                    "`playwright install`, the test drives Debian's chromium", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
