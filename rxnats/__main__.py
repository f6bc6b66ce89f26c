"""``python -m rxnats ...`` runs the ``rxnats`` command line (see :mod:`rxnats.cli`)."""

from __future__ import annotations

import sys

from rxnats.cli import main

if __name__ == "__main__":
    sys.exit(main())
