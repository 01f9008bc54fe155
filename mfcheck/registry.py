"""The suites mfcheck knows, by name (imported lazily: a suite may pull in heavy code)."""

from __future__ import annotations

import importlib

from .check import Suite
from .errors import UsageError

SUITE_MODULES = {
    "two-route": "mfcheck.suites.two_route",
    "n-route": "mfcheck.suites.n_route",
    "multi-epoch": "mfcheck.suites.multi_epoch",
    "openspiel-parity": "mfcheck.suites.openspiel_parity",
    "ising": "mfcheck.suites.ising",
    "ising-mfq": "mfcheck.suites.ising_mfq",
    "contraction": "mfcheck.suites.contraction",
    "approximation-rate": "mfcheck.suites.approximation_rate",
    "sync-async": "mfcheck.suites.sync_async",
    "uniqueness": "mfcheck.suites.uniqueness",
    "gaussian-squeeze": "mfcheck.suites.gaussian_squeeze",
    "battle": "mfcheck.suites.battle",
}


def suite_names() -> list[str]:
    return list(SUITE_MODULES)


def get_suite(name: str) -> Suite:
    if name not in SUITE_MODULES:
        raise UsageError(f"unknown suite {name!r}; known suites: {', '.join(SUITE_MODULES)}")
    return importlib.import_module(SUITE_MODULES[name]).suite
