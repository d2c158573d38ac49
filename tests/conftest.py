"""Shared fixtures live in `tests/plugins/`, one module per concern."""

pytest_plugins = [
    "tests.plugins.data",
    "tests.plugins.cli",
    "tests.plugins.database",
    "tests.plugins.djp_api",
    "tests.plugins.osv_api",
    "tests.plugins.discord",
    "tests.plugins.app",
    "tests.plugins.pypi",
    "tests.plugins.memory",
]
