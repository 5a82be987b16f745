"""Settings read from the environment, checked with messages that name the setting.

Kept free of heavy imports: the runner checks the settings before it starts any
notebook (a no-op ``rss run`` must stay fast), and the notebooks read them through
:mod:`helpers.outputs`.

Imports: no other helpers module.
"""

from __future__ import annotations

import math
import numbers
import os

__all__ = ["ENV_THRESHOLD", "DEFAULT_THRESHOLD", "SettingError", "disclosure_threshold"]

#: Environment variable overriding the disclosure threshold.
ENV_THRESHOLD = "RSS_DISCLOSURE_THRESHOLD"
#: Minimum number of respondents behind a published cell.
DEFAULT_THRESHOLD = 10


class SettingError(ValueError):
    """A setting (environment variable or option) has a value that cannot be used."""


def disclosure_threshold(threshold: int | None = None) -> int:
    """Return the disclosure threshold: ``threshold``, else ``RSS_DISCLOSURE_THRESHOLD``, else 10.

    Raises
    ------
    SettingError
        When the value is not a whole number >= 1 (``"abc"``, ``"0"``, ``"2.5"``,
        ``True``); the message names the environment variable when the value came
        from it.

    Examples
    --------
    >>> disclosure_threshold(5)
    5
    >>> disclosure_threshold(0)
    Traceback (most recent call last):
    ...
    helpers.settings.SettingError: disclosure threshold must be a whole number of respondents >= 1; found 0
    """
    if threshold is None:
        env = os.environ.get(ENV_THRESHOLD, "").strip()
        if not env:
            return DEFAULT_THRESHOLD
        try:
            value = int(env)
        except ValueError:
            value = None
        if value is None or value < 1:
            raise SettingError(f"{ENV_THRESHOLD} must be a whole number of respondents >= 1 (default "
                               f"{DEFAULT_THRESHOLD}); found {env!r}. Unset it or set e.g. "
                               f"{ENV_THRESHOLD}={DEFAULT_THRESHOLD}")
        return value
    ok = (not isinstance(threshold, bool) and isinstance(threshold, numbers.Real) and math.isfinite(threshold)
          and threshold == int(threshold) and threshold >= 1)
    if not ok:
        raise SettingError(f"disclosure threshold must be a whole number of respondents >= 1; found {threshold!r}")
    return int(threshold)
