"""`python -m actors.cli`: the `socius` command line."""

import sys

from actors.cli.main import main

sys.exit(main())
