"""Code examples of the README and docs/, run verbatim: a block is the ```python block whose
first line names its module (``# my_planner.py``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def example_block(markdown: Path, module: str) -> str:
    """The one ```python block of ``markdown`` that starts with ``# <module>.py``."""
    text = markdown.read_text(encoding="utf-8")
    blocks = re.findall(rf"```python\n(# {re.escape(module)}\.py\n.*?)```", text, flags=re.S)
    if len(blocks) != 1:
        raise AssertionError(f"{markdown.name}: expected one ```python block starting with "
                             f"'# {module}.py', found {len(blocks)}")
    return blocks[0]


def install_example(markdown: Path, module: str, folder: Path, monkeypatch) -> None:
    """Write the example as ``folder/<module>.py`` and make it importable (until
    `forget_example`)."""
    (folder / f"{module}.py").write_text(example_block(markdown, module), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))


def forget_example(module: str) -> None:
    sys.modules.pop(module, None)
