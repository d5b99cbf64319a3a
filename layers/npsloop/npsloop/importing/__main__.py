"""``python -m npsloop.importing``: see ``npsloop.importing.cli``."""

from npsloop.importing.cli import main

raise SystemExit(main())
