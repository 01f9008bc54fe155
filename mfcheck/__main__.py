"""``python -m mfcheck``: the same as the ``mfcheck`` command."""

import sys

from mfcheck.cli import main

if __name__ == "__main__":  # not when a spawned worker re-imports the main module
    sys.exit(main())
