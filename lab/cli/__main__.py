"""`python -m lab.cli`: what the tests and the dashboard's matrix job run."""

import sys

from lab.cli.commands import main

sys.exit(main())
