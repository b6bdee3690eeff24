"""``python -m balloonscript COMMAND ...``: the command line of balloonscript.cli (scenarios, explore, run,
sweep, demo; ``--help`` for each)."""
import sys

from balloonscript.cli import main

if __name__ == "__main__":
    sys.exit(main())
