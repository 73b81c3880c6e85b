"""`python -m riverbed ...`: the same as the `riverbed` command."""

from riverbed.cli import main

raise SystemExit(main())
