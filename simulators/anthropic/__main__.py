"""``python -m simulators.anthropic``: run the simulator (see simulators/anthropic/app.py)."""

from simulators.anthropic.app import main

raise SystemExit(main())
