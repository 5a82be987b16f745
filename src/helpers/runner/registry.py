"""The notebooks of the pipeline (:data:`REGISTRY`, :class:`Notebook`), the runner's settings
(timeouts, parameters, pooled prefixes) and :class:`RunError`.

Imports: no other helpers module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_TIMEOUT = 1800.0


#: Lines of an exception message shown in the failure summary (the rest is in the FAILED_ notebook).
MAX_MESSAGE_LINES = 12


#: Environment variables the notebooks read (besides RSS_ROOT/RSS_DATA): a change reruns every notebook.
NOTEBOOK_ENV = ("RSS_DISCLOSURE_THRESHOLD", "RSS_REPORT_LANG")


#: Column prefixes whose pooled medians every country profile shows (see the module notes).
POOLED_PREFIXES = ("ind_", "score_")


ISO3 = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Notebook:
    """One analysis notebook of the pipeline.

    Parameters
    ----------
    name
        File stem in ``notebooks/`` (the ``.ipynb`` papermill executes).
    kind
        ``"prepare"``: runs first, on the raw input; ``"country"``: runs once per
        country of the scored data (parameter ``country``); ``"once"``: runs once
        after ``prepare``.
    params
        Names of the parameters the runner passes; each must be declared in the
        notebook's cell tagged ``parameters`` (checked with ``papermill.inspect_notebook``).
    needs
        Names of other notebooks whose outputs this one reads (they run first, and
        a change of theirs reruns it).
    pooled
        For ``"country"`` notebooks: column prefixes whose pooled (all-country)
        medians the notebook uses; a change of them reruns every country.
    """

    name: str
    kind: Literal["prepare", "country", "once"]
    params: tuple[str, ...]
    needs: tuple[str, ...] = ()
    pooled: tuple[str, ...] = ()


REGISTRY: tuple[Notebook, ...] = (
    Notebook("00_prepare", "prepare", ("data", "scheme", "processed")),
    Notebook("10_country_profile", "country", ("country", "processed"), pooled=POOLED_PREFIXES),
    Notebook("20_cross_country", "once", ("processed",)),
    Notebook("30_mentoring", "once", ("processed",)),
    Notebook("40_weight_sensitivity", "once", ("processed",)),
)


class RunError(RuntimeError):
    """The pipeline cannot start as configured (the message says why and what to do)."""
