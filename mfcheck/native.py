"""Small C kernels, compiled on first use and loaded with ctypes (CPU only).

Users: the Ising samplers' checkerboard sweep (`mfcheck.reference.ising._native`) and the
N-player simulator's draws (`mfcheck.nplayer._native`). Each kernel computes bit for bit
what its torch reference computes; this module only builds and loads it.

Build: with ``$CC`` (else ``cc``), ``-O3 -march=native -std=c99 -shared -fPIC -pthread``
(retried without ``-pthread`` for compilers that reject it) plus ``$MFCHECK_NATIVE_CFLAGS``;
once per (source, compiler, CPU, flags), into ``$MFCHECK_CACHE_DIR``, else
``$XDG_CACHE_HOME/mfcheck`` or ``~/.cache/mfcheck``. The library is written to a temporary
file and renamed, so concurrent processes (pytest-xdist) never load a half-written one.
Without a compiler, or with ``MFCHECK_NATIVE=0``, a library is unavailable (``load()``
returns None and ``reason()`` says why) and its users fall back to torch.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """Where compiled kernels are kept (see the module docstring)."""
    if os.environ.get("MFCHECK_CACHE_DIR"):
        return Path(os.environ["MFCHECK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mfcheck"


def cpu_signature() -> str:
    """The CPU's model and flags: a build for one CPU (``-march=native``) is not reused on
    another."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
        return "".join(lines)
    except OSError:
        return platform.processor() + platform.machine()


def extra_flags() -> list[str]:
    """``$MFCHECK_NATIVE_CFLAGS``, appended to the compiler's flags (e.g. ``-mno-avx512f``
    to build the portable loop on an AVX-512 machine, as the tests do)."""
    return os.environ.get("MFCHECK_NATIVE_CFLAGS", "").split()


def disabled() -> bool:
    """Whether ``$MFCHECK_NATIVE`` turns the kernels off."""
    return os.environ.get("MFCHECK_NATIVE", "1").strip().lower() in ("0", "false", "no", "off")


class CompiledLibrary:
    """A C source built on first use (see the module docstring) and loaded with ctypes;
    ``declare(lib)`` sets its functions' signatures. Thread-safe; the build is cached in
    ``cache_dir()`` as ``{name}_{hash}.so``."""

    def __init__(self, name: str, source: str, declare: Callable[[ctypes.CDLL], None]) -> None:
        self.name, self.source, self.declare = name, source, declare
        self._lock = threading.Lock()
        self._loaded: tuple | None = None  # (library or None, why not)

    def _build(self, target: Path, cc: str) -> str | None:
        """Compile into ``target``; return None, or why it could not."""
        target.parent.mkdir(parents=True, exist_ok=True)
        errors = []
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            src, out = Path(tmp) / f"{self.name}.c", Path(tmp) / target.name
            src.write_text(self.source)
            base = [cc, "-O3", "-march=native", "-std=c99", "-shared", "-fPIC", str(src),
                    "-o", str(out)] + extra_flags()
            for cmd in (base + ["-pthread"], base):
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                                          stdin=subprocess.DEVNULL)
                except (OSError, subprocess.TimeoutExpired) as exc:
                    errors.append(f"{cc}: {exc}")
                    continue
                if proc.returncode == 0:
                    os.replace(out, target)
                    return None
                errors.append(proc.stderr.strip()[-500:])
        return "; ".join(errors) or "compilation failed"

    def _open(self) -> tuple:
        if disabled():
            return None, "disabled by MFCHECK_NATIVE=0"
        cc = os.environ.get("CC") or "cc"
        if shutil.which(cc) is None:
            return None, f"no C compiler ({cc!r} not found)"
        key = hashlib.sha256("\0".join([self.source, cc, cpu_signature(),
                                        *extra_flags()]).encode()).hexdigest()[:16]
        target = cache_dir() / f"{self.name}_{key}.so"
        try:
            why = None if target.exists() else self._build(target, cc)
            if why:
                return None, why
            lib = ctypes.CDLL(str(target))
            self.declare(lib)
            return lib, None
        except OSError as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def load(self) -> ctypes.CDLL | None:
        """The ctypes library, or None (see `reason`)."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._open()
            return self._loaded[0]

    def reason(self) -> str | None:
        """Why the library is unavailable (None when it loaded)."""
        self.load()
        return self._loaded[1]
