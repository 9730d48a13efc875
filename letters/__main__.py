import sys

from letters.cli import main

sys.exit(main())
