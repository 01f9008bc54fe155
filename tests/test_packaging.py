"""The non-editable install: one top-level package, ``mfcheck``, and nothing else.

``reference/`` and ``suites/`` live at the top of the repository but must install as
``mfcheck.reference`` and ``mfcheck.suites``; a top-level ``reference`` or ``suites``
in site-packages would collide with other projects. Built from a copy of the source
tree (so that a stale ``build/`` in the checkout cannot hide or add anything), once per
test session (per xdist worker).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".asv",
                                ".venv*", ".pytest_cache", ".hypothesis", "mfcheck-report",
                                "*.pyc")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(tmp)]
    if importlib.util.find_spec("setuptools") is not None:
        # The installed setuptools builds it: no index needed (pyproject asks setuptools>=68).
        cmd.insert(4, "--no-build-isolation")
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600)
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}"
    wheels = list(tmp.glob("mfcheck-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_has_only_mfcheck_at_the_top(wheel):
    top = {name.split("/", 1)[0] for name in _names(wheel)}
    assert "mfcheck" in top
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert len(dist_info) == 1 and next(iter(dist_info)).startswith("mfcheck-")
    assert top - {"mfcheck"} - dist_info == set(), f"unexpected top-level entries: {top}"
    assert "reference" not in top and "suites" not in top


def test_wheel_maps_reference_and_suites_into_mfcheck(wheel):
    names = set(_names(wheel))
    assert "mfcheck/__init__.py" in names
    assert "mfcheck/reference/__init__.py" in names
    assert "mfcheck/suites/__init__.py" in names
    assert "mfcheck/suites/perf/__init__.py" in names
    assert any(n.startswith("mfcheck/suites/perf/bench_") for n in names)
    # every Python file of reference/ and suites/ in the checkout made it in
    for folder, package in (("reference", "mfcheck/reference"), ("suites", "mfcheck/suites")):
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO / folder).as_posix()
            assert f"{package}/{rel}" in names, f"{folder}/{rel} is missing from the wheel"


def test_wheel_declares_the_console_script(wheel):
    with zipfile.ZipFile(wheel) as zf:
        entry_points = next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = zf.read(entry_points).decode()
    assert "mfcheck = mfcheck.cli:main" in text


def test_python_m_mfcheck_help():
    if not (REPO / "mfcheck" / "cli.py").exists():
        pytest.skip("mfcheck/cli.py is not there yet")
    proc = subprocess.run([sys.executable, "-m", "mfcheck", "--help"], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "usage" in proc.stdout.lower()
    assert "bench" in proc.stdout


def test_the_pytest_plugin_does_not_import_torch():
    """Every pytest run on a machine with mfcheck installed imports the plugin."""
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", "import sys, mfcheck.pytest_plugin; "
                    "assert 'torch' not in sys.modules, 'torch was imported'"], check=True)
