"""``python -m npsloop.erasure``: see ``npsloop.erasure``."""

from npsloop.erasure import main

raise SystemExit(main())
