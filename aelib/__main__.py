import sys

from aelib.cli import main

sys.exit(main())
