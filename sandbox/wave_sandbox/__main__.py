"""``python -m wave_sandbox`` runs the ``wave-sandbox`` CLI."""

import sys

from .cli import main

sys.exit(main())
