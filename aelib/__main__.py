import sys

from aelib.pipeline.cli import main

sys.exit(main())
