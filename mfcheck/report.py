"""The reports of a run: ``report.json``, ``junit.xml`` and ``report.md``.

The runner rewrites all three after every finished case, each one atomically
(a temporary file in the same folder, then ``os.replace``), so that a crash, a
timeout or Ctrl-C leaves every finished result on disk and never a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import signal
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .check import ERROR, FAIL, HARNESS, PASS, SKIP, XFAIL, CheckResult

JSON_NAME, JUNIT_NAME, MARKDOWN_NAME = "report.json", "junit.xml", "report.md"


@dataclass
class RunInfo:
    """What a run tested: the header of every report."""

    seed: int
    budget: str
    devices: list[str]
    suites: list[str]
    solvers: list[str]
    planned: int = 0  # cases the run meant to execute; fewer results = it was cut short
    #: The report's solver column: a solver's ``name`` by its spec (results keep the spec).
    solver_names: dict[str, str] = field(default_factory=dict)
    started: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    mfcheck_version: str = field(default_factory=lambda: _versions()[0])
    torch_version: str = field(default_factory=lambda: _versions()[1])


def _versions() -> tuple[str, str]:
    import torch

    from . import __version__
    return __version__, torch.__version__


def summary(results: Iterable[CheckResult]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "xfailed": 0}
    key = {PASS: "passed", FAIL: "failed", ERROR: "errors", SKIP: "skipped", XFAIL: "xfailed"}
    for r in results:
        counts[key[r.status]] += 1
    return counts


def split_summary(results: Iterable[CheckResult]) -> dict[str, dict[str, int]]:
    """`summary` of the solvers' checks and of mfcheck's checks of itself (solver
    ``HARNESS``), apart: a harness check says nothing about the solver."""
    results = list(results)
    return {"solvers": summary(r for r in results if r.solver != HARNESS),
            "mfcheck": summary(r for r in results if r.solver == HARNESS)}


def counts_text(c: dict[str, int]) -> str:
    """``3 passed, 1 failed, 0 errors, 2 skipped[, 1 expected failures]``."""
    return (f"{c['passed']} passed, {c['failed']} failed, {c['errors']} errors, "
            f"{c['skipped']} skipped" + (f", {c['xfailed']} expected failures"
                                         if c["xfailed"] else ""))


def summary_text(results: list[CheckResult]) -> str:
    """The headline of a run: the solvers' checks, then mfcheck's self-checks, apart."""
    split = split_summary(results)
    n_own, n_self = (sum(c.values()) for c in split.values())
    parts = []
    if n_own or not n_self:
        parts.append(f"solver checks: {counts_text(split['solvers'])}")
    if n_self:
        parts.append(f"mfcheck self-checks: {counts_text(split['mfcheck'])}")
    return "; ".join(parts)


def solver_label(spec: str, names: dict[str, str]) -> str:
    """What the solver column shows: the solver's ``name``, else the spec."""
    return names.get(spec, spec)


def write_reports(report_dir: Path, info: RunInfo, results: list[CheckResult], *,
                  complete: bool = False) -> None:
    """(Re)write the three reports for the results so far."""
    report_dir.mkdir(parents=True, exist_ok=True)
    with _ctrl_c_deferred():  # the three files always tell the same story
        atomic_write(report_dir / JSON_NAME,
                     json.dumps(to_json(info, results, complete=complete), indent=2,
                                default=repr) + "\n")
        atomic_write(report_dir / JUNIT_NAME, to_junit(info, results))
        atomic_write(report_dir / MARKDOWN_NAME, to_markdown(info, results, report_dir,
                                                             complete=complete))


@contextmanager
def _ctrl_c_deferred():
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block is done."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals, and only it may set handlers
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *args: received.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(*received[0])


def file_stem(text: str) -> str:
    """``text`` as a file-name part: letters, digits, ``-`` and ``_``; the rest becomes ``_``."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def new_figure(*args, **kwargs):
    """``matplotlib.pyplot.subplots(*args, **kwargs)`` on the file-only Agg backend (checks
    draw in worker processes with no display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt.subplots(*args, **kwargs)


def save_figure(fig, path: Path, *, dpi: int = 110) -> str:
    """Lay out ``fig``, write it to ``path`` (a PNG, its folder created) in one step, so
    that another case redrawing the same figure never leaves half a file, and close it."""
    import matplotlib.pyplot as plt
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    fig.tight_layout()
    fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    os.replace(tmp, path)
    return str(path)


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` in one step: readers see the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for everyone to read
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C mid-write included: leave no temporary file behind
        Path(tmp).unlink(missing_ok=True)
        raise


# -- report.json -----------------------------------------------------------------------

def to_json(info: RunInfo, results: list[CheckResult], *, complete: bool = False) -> dict:
    return {
        "mfcheck_version": info.mfcheck_version,
        "torch_version": info.torch_version,
        "seed": info.seed,
        "budget": info.budget,
        "devices": info.devices,
        "suites": info.suites,
        "solvers": info.solvers,
        "started": info.started,
        "solver_names": info.solver_names,
        "planned": info.planned,
        "complete": complete,
        "results": [_json_safe(r.to_dict()) for r in results],
        "summary": summary(results),
        "summary_split": split_summary(results),
    }


def _json_safe(x: Any) -> Any:
    """NaN and infinities as strings: strict JSON parsers (jq, JavaScript) reject them."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


# -- junit.xml -------------------------------------------------------------------------

# XML 1.0 forbids most control characters, even escaped; a solver's message may hold them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(s: Any) -> str:
    return _XML_ILLEGAL.sub("?", str(s))


def case_name(r: CheckResult) -> str:
    return f"{r.check}[{r.game}|{r.solver}|{r.device}]"


def to_junit(info: RunInfo, results: list[CheckResult]) -> str:
    root = ET.Element("testsuites", name="mfcheck")
    _junit_counts(root, results)
    for suite in _suites_in_order(info, results):
        rows = [r for r in results if r.suite == suite]
        ts = ET.SubElement(root, "testsuite", name=suite, timestamp=info.started,
                           hostname=platform.node())
        _junit_counts(ts, rows)
        props = ET.SubElement(ts, "properties")
        for key in ("mfcheck_version", "torch_version", "seed", "budget"):
            ET.SubElement(props, "property", name=key, value=_xml_text(getattr(info, key)))
        ET.SubElement(props, "property", name="devices", value=",".join(info.devices))
        for r in rows:
            tc = ET.SubElement(ts, "testcase", classname=f"mfcheck.{suite}",
                               name=_xml_text(case_name(r)), time=f"{r.duration_s:.3f}")
            details = _xml_text(r.message if r.status == ERROR else
                                f"{r.message}\nmeasured: {format_value(r.measured)}\n"
                                f"expected: {format_value(r.expected)}\n"
                                f"tolerance: {format_value(r.tolerance)}")
            message = _xml_text(first_line(r.message))
            if r.status == FAIL:
                ET.SubElement(tc, "failure", message=message, type="CheckFailed").text = details
            elif r.status == ERROR:
                ET.SubElement(tc, "error", message=message, type="CheckError").text = details
            elif r.status == SKIP:
                ET.SubElement(tc, "skipped", message=message)
            elif r.status == XFAIL:  # as pytest writes an xfail
                ET.SubElement(tc, "skipped", message=message, type="xfail").text = details
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_counts(el: ET.Element, rows: list[CheckResult]) -> None:
    c = summary(rows)
    el.set("tests", str(len(rows)))
    el.set("failures", str(c["failed"]))
    el.set("errors", str(c["errors"]))
    el.set("skipped", str(c["skipped"] + c["xfailed"]))
    el.set("time", f"{sum(r.duration_s for r in rows):.3f}")


def _suites_in_order(info: RunInfo, results: list[CheckResult]) -> list[str]:
    extra = [r.suite for r in results if r.suite not in info.suites]
    return list(dict.fromkeys([*info.suites, *extra]))


# -- report.md -------------------------------------------------------------------------

_STATUS_ORDER = {FAIL: 0, ERROR: 1, PASS: 2, XFAIL: 3, SKIP: 4}


def to_markdown(info: RunInfo, results: list[CheckResult], report_dir: Path | None = None,
                *, complete: bool = False) -> str:
    c = summary(results)
    state = "complete" if complete else f"in progress or interrupted: {len(results)} of " \
                                        f"{info.planned} cases finished"
    solvers = ", ".join(_solver_cell(s, info) for s in info.solvers) or "reference solvers"
    lines = [
        "# mfcheck report", "",
        "| | |", "| --- | --- |",
        f"| mfcheck | {info.mfcheck_version} |",
        f"| torch | {info.torch_version} |",
        f"| devices | {', '.join(info.devices)} |",
        f"| seed | {info.seed} |",
        f"| budget | {info.budget} |",
        f"| suites | {', '.join(info.suites)} |",
        f"| solvers | {markdown_cell(solvers)} |",
        f"| started | {info.started} |",
        f"| run | {state} |", "",
        f"**{summary_text(results) if results else counts_text(c)}**", "",
    ]
    bad = [r for r in results if r.status in (FAIL, ERROR)]
    if bad:
        lines += ["## Failures and errors", ""]
        for r in sorted(bad, key=lambda r: _STATUS_ORDER[r.status]):
            lines += [f"- **{r.status.upper()}** `{r.suite}::{case_name(r)}`: "
                      f"{markdown_cell(r.message)}{_artifact_links(r, report_dir)}"]
        lines.append("")
    for suite in _suites_in_order(info, results):
        rows = sorted((r for r in results if r.suite == suite),
                      key=lambda r: _STATUS_ORDER[r.status])
        lines += [f"## {suite}", ""]
        if not rows:
            lines += ["(no finished cases)", ""]
            continue
        lines += ["| status | check | game | solver | device | measured | expected | tolerance "
                  "| time | message |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | ---: | --- |"]
        for r in rows:
            lines.append(
                f"| {r.status.upper()} | {r.check} | {markdown_cell(r.game)} "
                f"| {markdown_cell(solver_label(r.solver, info.solver_names))} | {r.device} "
                f"| {markdown_cell(format_value(r.measured))} "
                f"| {markdown_cell(format_value(r.expected))} "
                f"| {markdown_cell(format_value(r.tolerance))} | {r.duration_s:.2f}s "
                f"| {markdown_cell(r.message)}{_artifact_links(r, report_dir)} |")
        lines.append("")
    return "\n".join(lines)


def _solver_cell(spec: str, info: RunInfo) -> str:
    name = info.solver_names.get(spec)
    return f"{name} (`{spec}`)" if name else f"`{spec}`"


def markdown_cell(s: Any) -> str:
    """Text that stays inside one Markdown table cell."""
    return str(s).replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace(
        "\n", "<br>")


def _artifact_links(r: CheckResult, report_dir: Path | None) -> str:
    links = []
    for a in r.artifacts:
        p = Path(a)
        if report_dir is not None and p.is_absolute():
            try:  # links relative to the report, so the folder can be moved or archived
                p = Path(os.path.relpath(p, report_dir))
            except ValueError:  # another drive (Windows)
                pass
        links.append(f"[{p.name}]({p.as_posix().replace(' ', '%20')})")
    return (" " + " ".join(links)) if links else ""


# -- values ----------------------------------------------------------------------------

def first_line(s: str) -> str:
    return s.strip().splitlines()[0] if s and s.strip() else ""


def format_vector(x: Any) -> str:
    """A vector (or scalar) with six decimals: ``[0.300000, 0.700000]``."""
    return "[" + ", ".join(f"{v:.6f}" for v in np.atleast_1d(np.asarray(x, dtype=float))) + "]"


def format_value(x: Any, max_items: int = 4) -> str:
    """A short, human-readable rendering of a measured/expected/tolerance value."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        items = [format_value(v, max_items) for v in x[:max_items]]
        return "[" + ", ".join(items) + (", …" if len(x) > max_items else "") + "]"
    if isinstance(x, dict):
        items = [f"{k}={format_value(v, max_items)}" for k, v in list(x.items())[:max_items]]
        return "{" + ", ".join(items) + (", …" if len(x) > max_items else "") + "}"
    return str(x)
