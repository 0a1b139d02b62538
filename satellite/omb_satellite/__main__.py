"""python -m omb_satellite: the same as the omb-satellite command."""

import sys

from .cli import main

sys.exit(main())
