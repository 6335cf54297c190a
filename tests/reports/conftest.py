"""Reports over the hand-counted set of the statistics tests."""

from tests.stats.conftest import known  # noqa: F401 - the fixture
