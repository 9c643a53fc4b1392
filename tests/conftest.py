"""Fixtures shared by the whole suite: every test starts and ends with a fresh default graph, and `sess` is a
Session on it, closed afterwards."""

import pytest

import tfmini as tf


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


@pytest.fixture
def sess():
    with tf.Session() as s:
        yield s
