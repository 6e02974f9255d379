"""``python -m collapsecheck`` runs the command line."""

import sys

from collapsecheck.cli import main

sys.exit(main())
