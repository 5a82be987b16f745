"""``python -m helpers.bench``: run the benchmarks (``make bench``)."""

import sys

from . import main

sys.exit(main())
