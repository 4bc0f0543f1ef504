"""Soft criteria: a score from 0 to 1 per criterion and candidate, and their weighted sum.

CRITERIA, each from 0 (worst) to 1 (best); 0.5 where the data to judge is missing, so that
a blank cell neither helps nor hurts:
    content      0.7 x BM25 relevance (divided by that of the network's best place for the
                 question, feasible or not) + 0.3 x the
                 share of the question's keywords the place also lists; BM25 alone without
                 keywords
    preference   rank 1 of the switcher's top 3: 1, rank 2: 2/3, rank 3: 1/3, otherwise 0
    reciprocity  the switcher's organisation's hosting minus sending balance, scaled over the
                 network (the organisation that gives most is served first)
    sectors      1 when the two organisations' sectors differ (crossing), 0 when equal
    distance     1 - km / max_distance_km (0 at the limit); 0.5 without postcodes
    size         the smaller organisation's size divided by the larger's
    staff        1 for the same staff composition, 0.5 when one is mixed, 0 otherwise
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from connector.core.config import MatchingWeights
from connector.matching.constraints import Candidate, Feasible
from connector.matching.model import Cohort, Organisation, Place, Question
from connector.matching.relevance import BM25, keyword_stems, tokens

CRITERIA = ("content", "preference", "reciprocity", "sectors", "distance", "size", "staff")
UNKNOWN = 0.5
SCALE = 1000  # scores are compared as whole thousandths, so the solver works in integers


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate with its criteria (shared by the coaches of one place), its total (the
    weighted sum of the criteria) and `points`, the total in whole thousandths: what the
    solver maximises."""

    candidate: Candidate
    criteria: dict[str, float]
    total: float
    points: int

    def shown(self) -> dict[str, float]:
        """The criteria rounded for people (three decimals)."""
        return {k: round(v, 3) for k, v in self.criteria.items()}


def score(cohort: Cohort, feasible: Feasible, weights: MatchingWeights, max_distance_km: float | None) -> dict[str, list[Scored]]:
    """Every candidate of every open question, scored; keyed by question code."""
    content = _content(cohort, feasible)
    balance = _reciprocity(cohort)
    questions = {q.code: q for q in cohort.questions}
    scored: dict[str, list[Scored]] = {}
    weighted = [(name, getattr(weights, name)) for name in CRITERIA]
    for code, candidates in feasible.candidates.items():
        question = questions[code]
        home = cohort.organisations[question.organisation]
        per_place: dict[str, tuple[dict[str, float], float, int]] = {}  # a place's coaches share its scores
        rows = []
        for candidate in candidates:
            if candidate.place not in per_place:
                place = cohort.places[candidate.place]
                host = cohort.organisations[place.organisation]
                criteria = {
                    "content": content[(code, place.code)],
                    "preference": _preference(question, place),
                    "reciprocity": balance[question.organisation],
                    "sectors": _sectors(home, host),
                    "distance": _distance(candidate.distance, max_distance_km),
                    "size": _size(home, host),
                    "staff": _staff(home, host),
                }
                total = sum(weight * criteria[name] for name, weight in weighted)
                per_place[candidate.place] = (criteria, total, round(total * SCALE))
            criteria, total, points = per_place[candidate.place]
            rows.append(Scored(candidate, criteria, total, points))
        scored[code] = rows
    return scored


def max_total(weights: MatchingWeights) -> float:
    return sum(getattr(weights, name) for name in CRITERIA)


def _content(cohort: Cohort, feasible: Feasible) -> dict[tuple[str, str], float]:
    """(question, place) -> content fit, for the places each question still has."""
    places = list(cohort.places.values())
    index = BM25([tokens(p.text + " " + " ".join(sorted(p.keywords)), _language(cohort, p)) for p in places])
    position = {p.code: i for i, p in enumerate(places)}
    place_keywords = {p.code: frozenset().union(*(keyword_stems(k) for k in p.keywords)) for p in places}
    result: dict[tuple[str, str], float] = {}
    questions = {q.code: q for q in cohort.questions}
    for code, candidates in feasible.candidates.items():
        if not candidates:
            continue
        question = questions[code]
        language = sorted(question.languages)[0] if question.languages else cohort.organisations[question.organisation].language
        raw = index.scores_array(tokens(question.text + " " + " ".join(sorted(question.keywords)), language))
        wanted = {c.place for c in candidates}
        best = float(raw.max()) if len(raw) else 0.0  # the network's best place for this question, feasible or not
        question_keywords = [keyword_stems(k) for k in question.keywords]
        for place in wanted:
            text_fit = float(raw[position[place]]) / best if best > 0 else 0.0
            if question_keywords:
                shared = sum(1 for k in question_keywords if k & place_keywords[place])
                result[(code, place)] = 0.7 * text_fit + 0.3 * shared / len(question_keywords)
            else:
                result[(code, place)] = text_fit
    return result


def _language(cohort: Cohort, place: Place) -> str:
    return cohort.organisations[place.organisation].language


def _preference(question: Question, place: Place) -> float:
    if place.organisation not in question.preferences:
        return 0.0
    return 1.0 - question.preferences.index(place.organisation) / 3


def _reciprocity(cohort: Cohort) -> dict[str, float]:
    """organisation -> 0..1: hosting (committed, else its places' capacity) minus sending
    (committed, else its learning questions), scaled from the lowest to the highest balance."""
    capacity = Counter({p.organisation: 0 for p in cohort.places.values()})
    for place in cohort.places.values():
        capacity[place.organisation] += place.capacity
    questions = Counter(q.organisation for q in cohort.questions)
    balance = {o.id: (o.hosts if o.hosts is not None else capacity[o.id]) - (o.sends if o.sends is not None else questions[o.id])
               for o in cohort.organisations.values()}
    low, high = min(balance.values(), default=0), max(balance.values(), default=0)
    return {k: (v - low) / (high - low) if high > low else UNKNOWN for k, v in balance.items()}


def _sectors(home: Organisation, host: Organisation) -> float:
    if not home.sector or not host.sector:
        return UNKNOWN
    return 0.0 if home.sector.casefold() == host.sector.casefold() else 1.0


def _distance(km: float | None, max_distance_km: float | None) -> float:
    if km is None or not max_distance_km:
        return UNKNOWN
    return max(0.0, 1.0 - km / max_distance_km)


def _size(home: Organisation, host: Organisation) -> float:
    if not home.size or not host.size:
        return UNKNOWN
    return min(home.size, host.size) / max(home.size, host.size)


def _staff(home: Organisation, host: Organisation) -> float:
    if not home.staff or not host.staff:
        return UNKNOWN
    if home.staff == host.staff:
        return 1.0
    return 0.5 if "mixed" in (home.staff, host.staff) else 0.0
