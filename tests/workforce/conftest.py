"""The hand-built network of tests/network is used here too."""

from tests.network.conftest import network  # noqa: F401
