"""``python -m helpers.checks``: the same as ``rss check``.

Imports: helpers.checks.
"""

import sys

from . import main

sys.exit(main())
