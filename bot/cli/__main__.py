"""`python -m bot.cli`: the `mulin` command, for subprocesses that must use this interpreter."""
import sys

from bot.cli.main import main

sys.exit(main())
