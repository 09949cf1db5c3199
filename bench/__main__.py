"""``python -m bench --db sqlite|postgresql [--cases N] [--reuse] [--smoke]``: see bench/runner.py."""
from bench.runner import main

raise SystemExit(main())
