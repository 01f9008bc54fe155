"""Importing an optional peer (MFGLib, OpenSpiel, Bench-MFG) when an adapter needs it.

`import mfcheck` never imports a peer, and neither does importing an adapter module: each
adapter calls `require_peer` when a game is converted or a solver runs. A missing peer is
a `MissingPeerError`, both a `UsageError` (the command line's exit code 2, no traceback)
and an ``ImportError`` (code that guards a peer with ``except ImportError`` keeps working),
whose message names the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import UsageError


class MissingPeerError(UsageError, ImportError):
    """An optional peer an adapter needs is not installed."""


def require_peer(module: str, *, extra: str, tested: str) -> ModuleType:
    """``module`` imported, or `MissingPeerError` saying ``pip install 'mfcheck[extra]'``
    (``tested``: the peer's version the adapter is tested with)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingPeerError(f"this adapter needs {tested}, which is not importable here "
                               f"({exc}): pip install 'mfcheck[{extra}]'") from None
