"""``python -m simulators.github``: run the simulator (see simulators/github/app.py)."""

from simulators.github.app import main

raise SystemExit(main())
