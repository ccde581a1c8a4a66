"""Where and when the five issues are active, planned per tambon so that the plan's indicator K1
comes out near its targets, whichever way its rule is read.

K1 counts a tambon from the first fiscal year with activity in at least two of the five issues.
Each tambon gets such a year S (or none). Before S it has activity in at most one issue; in S
itself it has activity in two or three issues; afterwards anything. So "two issues within the
year" and "two issues so far" both give S."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .areas import Areas
from .common import noisy, rng_for

ISSUES = ("housing", "welfare", "finance", "disaster", "environment")
# Disaster events and environment sites carry points: not in the 14 subdistricts without a polygon.
POINT_ISSUES = frozenset({"disaster", "environment"})
FIRST_YEAR = {"housing": 2550, "welfare": 2547, "finance": 2552, "disaster": 2551,
              "environment": 2547}
LAST_YEAR = 2560

K1_TARGETS = {2555: 2000, 2556: 3000, 2557: 4000, 2558: 5000, 2559: 6000}
# Weights of the issues in the year a tambon starts; of the one issue some tambons have before;
# and the yearly chance of more activity afterwards.
START_WEIGHTS = {"housing": 0.10, "welfare": 0.34, "finance": 0.26, "disaster": 0.13,
                 "environment": 0.17}
PRIOR_WEIGHTS = {"housing": 0.06, "welfare": 0.56, "finance": 0.18, "disaster": 0.08,
                 "environment": 0.12}
LATER_RATE = {"housing": 0.012, "welfare": 0.20, "finance": 0.10, "disaster": 0.06,
              "environment": 0.05}


@dataclass
class Plan:
    start_year: dict[str, int]
    activities: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    k1_planned: dict[int, int] = field(default_factory=dict)

    def count(self, issue: str) -> int:
        return len(self.activities[issue])


def _choose(rng: np.random.Generator, weights: dict[str, float], allowed: list[str], k: int) -> list[str]:
    w = np.array([weights[i] for i in allowed])
    picked = rng.choice(len(allowed), size=min(k, len(allowed)), replace=False, p=w / w.sum())
    return [allowed[int(i)] for i in picked]


def make_plan(areas: Areas, seed: int) -> Plan:
    rng = rng_for(seed, "plan")
    cumulative = noisy(rng, K1_TARGETS, spread=0.06, monotonic=True)
    before = round(cumulative[2555] * 0.45)
    per_year: dict[int, int] = {}
    for year, share in zip(range(2551, 2555), (0.1, 0.2, 0.3, 0.4)):
        per_year[year] = round(before * share)
    previous = sum(per_year.values())
    for year in sorted(cumulative):
        per_year[year] = round(cumulative[year]) - previous
        previous = round(cumulative[year])
    per_year[2560] = round(len(areas.codes) * 0.07)

    order = [areas.codes[int(i)] for i in rng.permutation(len(areas.codes))]
    start: dict[str, int] = {}
    position = 0
    for year in sorted(per_year):
        for code in order[position:position + per_year[year]]:
            start[code] = year
        position += per_year[year]

    acts: dict[str, list[tuple[str, int]]] = {i: [] for i in ISSUES}
    has_fund: set[str] = set()

    def allowed(code: str, year: int, weights: dict[str, float]) -> list[str]:
        poly = areas.has_polygon(code)
        return [i for i in weights if FIRST_YEAR[i] <= year and (poly or i not in POINT_ISSUES)
                and not (i == "welfare" and code in has_fund)]

    def add(code: str, issue: str, year: int) -> None:
        if issue == "welfare":
            has_fund.add(code)
        acts[issue].append((code, year))

    for code in areas.codes:
        s = start.get(code)
        if s is None:
            # Tambons that never reach two issues: activity in one issue or none.
            if rng.random() < 0.55:
                issue = _choose(rng, PRIOR_WEIGHTS, allowed(code, LAST_YEAR, PRIOR_WEIGHTS), 1)[0]
                for _ in range(1 if issue == "welfare" else int(rng.integers(1, 3))):
                    add(code, issue, int(rng.integers(FIRST_YEAR[issue], LAST_YEAR + 1)))
            continue
        k = 3 if rng.random() < 0.3 else 2
        chosen = _choose(rng, START_WEIGHTS, allowed(code, s, START_WEIGHTS), k)
        if rng.random() < 0.4 and s > 2548:
            year = int(rng.integers(max(2547, s - 5), s))
            options = [i for i in allowed(code, year, PRIOR_WEIGHTS)
                       if not (i == "welfare" and "welfare" in chosen)]
            if options:
                add(code, _choose(rng, PRIOR_WEIGHTS, options, 1)[0], year)
        for issue in chosen:
            add(code, issue, s)
        for issue in ISSUES:
            if issue in POINT_ISSUES and not areas.has_polygon(code):
                continue
            for year in range(max(s, FIRST_YEAR[issue]), LAST_YEAR + 1):
                if rng.random() < LATER_RATE[issue] and not (issue == "welfare" and code in has_fund):
                    add(code, issue, year)
    for issue in ISSUES:
        acts[issue].sort()
    running, k1 = 0, {}
    for year in sorted(per_year):
        running += per_year[year]
        k1[year] = running
    return Plan(start, acts, k1)
