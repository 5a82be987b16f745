"""Shared fixtures: the default scheme and small, valid RSS records built from it.

The records here are made directly from the data contract (not by the synthetic
generator), so loader and scoring tests do not depend on the generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.scheme import load_scheme


@pytest.fixture(scope="session")
def scheme():
    return load_scheme()


def make_records(scheme, n: int = 12, seed: int = 0, country: str = "SEN") -> pd.DataFrame:
    """Return ``n`` valid survey records (text-free, codes as ints)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        r = {
            "respondent_id": f"R{seed:02d}{i:05d}",
            "country": country,
            "wave": 1,
            "survey_date": "2020-06-15",
            "return_date": "2020-01-10",
            "sex": "F" if i % 3 == 0 else "M",
            "age": 20 + i % 30,
            "return_from": "EU",
            "mentored": i % 2,
            "mentoring_start": "2020-07-01" if i % 2 else "",
            "assist_economic": 1,
            "assist_social": 0,
            "assist_psychosocial": i % 2,
        }
        for q in scheme.questions:
            r[q.id] = int(rng.choice(sorted(q.scores)))
        rows.append(r)
    return pd.DataFrame(rows)


@pytest.fixture
def records(scheme):
    return make_records(scheme)
