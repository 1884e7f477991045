import sys

from aelib.pipeline.cli import main

if __name__ == "__main__":  # not when a spawned worker (aelib.training.processes) imports the parent's main module
    sys.exit(main())
