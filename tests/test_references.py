"""docs/references.md is the one place expected values come from, and it stays citable.

- No tracked file cites the project's private reading list (a file outside the
  repository that users cannot read): every figure cites docs/references.md instead.
- Every ``docs/references.md#<anchor>`` cited anywhere in the repository (and every
  ``(#anchor)`` link inside the page) resolves to a heading of docs/references.md.
- Every test function (``tests/test_x.py::test_name``) and suite check (``suite::check``)
  that the page names as re-deriving a figure exists, so the page stays true when tests move.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "docs" / "references.md"

#: The private reading list's base name, joined from two parts so this file does not cite it.
PRIVATE_NAME = "FAC" + "TS"
#: The name as a word: "<name>.md", "<name>'s", "<name>:" — but not identifiers "<name>_UNIFORM".
PRIVATE_CITATION = re.compile(r"\b" + PRIVATE_NAME + r"\b")
#: A citation of an entry, from any file: docs/references.md#<anchor> or references.md#<anchor>.
CITED_ANCHOR = re.compile(r"references\.md#([A-Za-z0-9_-]+)")
#: A link to an entry inside the page itself.
LOCAL_ANCHOR = re.compile(r"\]\(#([A-Za-z0-9_-]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".json", ".txt", ".cfg", ".ini", ".yml", ".yaml",
                 ".rst", ".c", ".h", ".sh", ".in"}
SKIP_DIRS = {".git", "__pycache__", "build", "dist", ".asv", "mfcheck-report", ".hypothesis"}


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped
    (hyphens and underscores kept), spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> list[str]:
    """Every anchor a Markdown page defines, in order (GitHub numbers repeated slugs)."""
    found: list[str] = []
    seen: dict[str, int] = {}
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        found += HTML_ANCHOR.findall(line)
        match = HEADING.match(line)
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.append(slug if count == 0 else f"{slug}-{count}")
    return found


def repository_files() -> list[Path]:
    """The tracked text files (git ls-files), or every text file when there is no git."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True, timeout=60).stdout.decode().split("\0")
        paths = [ROOT / p for p in listed if p]
    except (OSError, subprocess.SubprocessError):
        paths = [p for p in ROOT.rglob("*")
                 if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
                 and not any(part.endswith(".egg-info") for part in p.parts)]
    return sorted(p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file())


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    texts = {str(p.relative_to(ROOT)): read(p) for p in repository_files()}
    assert "docs/references.md" in texts, "docs/references.md is not in the repository"
    return texts


@pytest.fixture(scope="module")
def defined() -> set[str]:
    return set(anchors(read(REFERENCES)))


# -- the helpers can fail ----------------------------------------------------------------

def test_private_citations_are_found_in_every_spelling_but_not_in_identifiers():
    text = "\n".join([f"a ({PRIVATE_NAME}.md)", f"{PRIVATE_NAME}'s table",
                      f"expected ({PRIVATE_NAME}: 1, 0)", f"{PRIVATE_NAME}_UNIFORM = {{}}"])
    assert len(PRIVATE_CITATION.findall(text)) == 3


def test_anchors_follow_github_and_skip_code_blocks():
    page = ("# Title\n### congestion-logit\n## Ising model\n### Exact `L = 16` values!\n"
            "### congestion-logit\n```\n### not-a-heading\n```\n<a id=\"extra\"></a>\n")
    assert anchors(page) == ["title", "congestion-logit", "ising-model",
                             "exact-l--16-values", "congestion-logit-1", "extra"]
    cited = CITED_ANCHOR.findall("see docs/references.md#ising-onsager and "
                                 "(references.md#yang2018).")
    assert cited == ["ising-onsager", "yang2018"]


# -- the repository --------------------------------------------------------------------

def test_no_tracked_file_cites_the_private_reading_list(files):
    hits = [f"{path}:{i}: {line.strip()}"
            for path, text in files.items()
            for i, line in enumerate(text.splitlines(), 1)
            if PRIVATE_CITATION.search(line)]
    assert not hits, (f"{len(hits)} line(s) cite {PRIVATE_NAME}.md, a file users cannot "
                      "read; cite the matching entry of docs/references.md instead "
                      "(add the entry if it is missing):\n" + "\n".join(hits))


def test_every_cited_anchor_exists(files, defined):
    missing = sorted({f"{path}: #{anchor}"
                      for path, text in files.items()
                      for anchor in CITED_ANCHOR.findall(text)
                      if anchor not in defined})
    local = sorted({f"docs/references.md: #{anchor}"
                    for anchor in LOCAL_ANCHOR.findall(read(REFERENCES))
                    if anchor not in defined})
    assert not missing + local, ("cited anchors that docs/references.md does not define "
                                 "(add the entry, or fix the citation):\n"
                                 + "\n".join(missing + local))


def test_every_entry_has_a_stable_unique_anchor():
    """Entries are ``### anchor`` headings whose text is already a slug, so renaming an
    entry's prose never moves its anchor; no two entries share one."""
    entries = [m.group(2) for line in read(REFERENCES).splitlines()
               if (m := HEADING.match(line)) and len(m.group(1)) == 3]
    assert entries, "docs/references.md has no ### entries"
    not_slugs = [e for e in entries if github_slug(e) != e]
    assert not not_slugs, f"entry headings that are not plain anchors: {not_slugs}"
    duplicates = sorted({e for e in entries if entries.count(e) > 1})
    assert not duplicates, f"entries defined twice: {duplicates}"


def test_every_named_test_and_check_exists():
    """The page says which test or check re-derives each figure: those must exist."""
    from mfcheck.registry import get_suite

    text = read(REFERENCES)
    missing = []
    current = None
    for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`", text):
        current = match.group(1) or current
        if current is None or f"def {match.group(2)}(" not in read(ROOT / current):
            missing.append(f"{current}::{match.group(2)}")
    for suite, check in sorted(set(re.findall(r"`([a-z][a-z0-9-]*)::([a-z0-9][a-z0-9-]*)`",
                                              text))):
        try:
            known = get_suite(suite).checks
        except Exception as exc:  # noqa: BLE001 - any failure to find it is the finding
            missing.append(f"suite {suite}: {exc}")
            continue
        if check not in known:
            missing.append(f"{suite}::{check}")
    assert not missing, "docs/references.md names tests or checks that do not exist:\n" + \
        "\n".join(missing)
