"""Hard constraints: which (question, place, coach) candidates a proposal may use at all.

Each constraint has a key (the reason shown to the partner, through the text catalogs as
"reason.<key>") and is checked in the order of CONSTRAINTS; a candidate is removed by the
first one it breaks, and that is recorded, so a question without a proposal can list, for
every place, what ruled it out. Capacity is counted after the FIXED exchanges (confirmed
ones keep what they use); the competition for what is left is the solver's business.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from connector.matching.geo import EARTH_RADIUS_KM, coordinates, distance_km
from connector.matching.model import Coach, Cohort, Place, Question

# In the order they are checked. rejected .. host_full look at the place, coach_full ..
# weekdays at each of its coaches; send_full removes a question before any place is looked at.
CONSTRAINTS = ("send_full", "rejected", "own_employer", "competitor", "excluded_department", "distance", "place_full", "host_full",
               "no_coach", "coach_full", "language", "weekdays")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A feasible (question, place, coach); `distance` in km when both postcodes are known."""

    question: str
    place: str
    coach: str
    distance: float | None


@dataclass(frozen=True)
class Removal:
    """One place (or one coach of it) a constraint removed for a question, with the detail shown."""

    constraint: str
    place: str
    coach: str | None
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class Feasible:
    """Per open question its candidates; the capacities left for the solver. What the
    constraints removed is worked out on demand (`removals`): only questions left without a
    proposal need it, and a cohort of thousands need not keep millions of reasons."""

    cohort: Cohort
    max_distance_km: float | None
    candidates: dict[str, list[Candidate]]
    place_left: dict[str, int]
    coach_left: dict[tuple[str, str], int]
    host_left: dict[str, int | None]
    send_left: dict[str, int | None]
    _coaches_at: dict[str, list[Coach]] | None = None

    def removals(self, question_code: str) -> list[Removal]:
        """Every place (or coach) the constraints removed for one open question, with the first
        constraint each broke, in CONSTRAINTS order of checking."""
        question = next(q for q in self.cohort.open_questions if q.code == question_code)
        return _explained(self, question)

    @property
    def coaches_at(self) -> dict[str, list[Coach]]:
        """place code -> its coaches (all of them: the slow path names every reason)."""
        if self._coaches_at is None:
            self._coaches_at = {}
            for coach in self.cohort.coaches:
                self._coaches_at.setdefault(coach.place, []).append(coach)
        return self._coaches_at

    def removed_by(self, constraint: str) -> list[tuple[str, Removal]]:
        """(question, removal) pairs of one constraint: what it took away."""
        return [(q.code, r) for q in self.cohort.open_questions for r in _explained(self, q) if r.constraint == constraint]


def capacities_left(cohort: Cohort) -> tuple[dict[str, int], dict[tuple[str, str], int], dict[str, int | None], dict[str, int | None]]:
    """Place, coach, hosting and sending capacity minus what the fixed exchanges use."""
    owner = {q.code: q.organisation for q in cohort.questions}
    at_place = Counter(f.place for f in cohort.fixed)
    with_coach = Counter((f.place, c) for f in cohort.fixed for c in f.coaches)
    hosted = Counter(cohort.places[f.place].organisation for f in cohort.fixed if f.place in cohort.places)
    sent = Counter(owner[f.question] for f in cohort.fixed if f.question in owner)
    place_left = {code: max(0, p.capacity - at_place[code]) for code, p in cohort.places.items()}
    coach_left = {c.key: max(0, c.capacity - with_coach[c.key]) for c in cohort.coaches}
    host_left = {o.id: None if o.hosts is None else max(0, o.hosts - hosted[o.id]) for o in cohort.organisations.values()}
    send_left = {o.id: None if o.sends is None else max(0, o.sends - sent[o.id]) for o in cohort.organisations.values()}
    return place_left, coach_left, host_left, send_left


def feasible(cohort: Cohort, max_distance_km: float | None) -> Feasible:
    """Every open question against every place and coach, under the hard constraints.

    The fast path: places and coaches without capacity (or without a common weekday) are
    dropped once, not per question; per question the place rules are applied to all places at
    once as arrays, so the Python work grows with the candidates kept rather than with
    questions x places. `Feasible.removals` checks the same rules one by one (the tests hold
    both to the same answer)."""
    place_left, coach_left, host_left, send_left = capacities_left(cohort)
    result = Feasible(cohort, max_distance_km, {}, place_left, coach_left, host_left, send_left)
    bits: dict[str, int] = {}

    def language_bits(languages: frozenset[str]) -> int:
        return sum(1 << bits.setdefault(language, len(bits)) for language in languages)

    open_coaches: dict[str, list[tuple[Coach, int]]] = {}
    for coach in cohort.coaches:
        place = cohort.places.get(coach.place)
        if place is not None and coach_left.get(coach.key, 0) > 0 and place.weekdays & coach.weekdays:
            open_coaches.setdefault(coach.place, []).append((coach, language_bits(coach.languages)))
    places = [p for p in cohort.places.values()
              if place_left.get(p.code, 0) > 0 and host_left.get(p.organisation) != 0 and p.code in open_coaches]
    table = PlaceTable(places)
    rivals = {o: set(org.competitors) for o, org in cohort.organisations.items()}
    for o, org in cohort.organisations.items():
        for other in org.competitors:
            rivals.setdefault(other, set()).add(o)
    for question in cohort.open_questions:
        kept: list[Candidate] = []
        result.candidates[question.code] = kept
        if send_left.get(question.organisation) == 0 or not places:
            continue
        allowed = table.allowed(rivals.get(question.organisation, set()) | {question.organisation}, question.department,
                                question.postcode, max_distance_km)
        wanted = language_bits(question.languages)
        for index in np.flatnonzero(allowed):
            place = places[index]
            if (question.code, place.code) in cohort.rejected:
                continue
            distance = distance_km(question.postcode, place.postcode)
            kept.extend(Candidate(question.code, place.code, coach.person, distance)
                        for coach, spoken in open_coaches[place.code] if wanted & spoken)
    return result


class PlaceTable:
    """The open places as arrays: organisation, coordinates, and per department who excludes it."""

    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self.codes = {o: i for i, o in enumerate(sorted({p.organisation for p in places}))}
        self.organisations = np.array([self.codes[p.organisation] for p in places], dtype=np.int64)
        table = coordinates()
        located = [table.get(p.postcode or "") for p in places]
        self.lat = np.radians(np.array([c[0] if c else np.nan for c in located], dtype=float))
        self.lon = np.radians(np.array([c[1] if c else np.nan for c in located], dtype=float))
        self._excluding: dict[str, np.ndarray] = {}

    def excluding(self, department: str) -> np.ndarray:
        key = department.casefold()
        if key not in self._excluding:
            self._excluding[key] = np.array([key in p.excluded_departments for p in self.places], dtype=bool)
        return self._excluding[key]

    def allowed(self, barred: set[str], department: str | None, postcode: str | None, max_km: float | None) -> np.ndarray:
        """Places neither barred (own employer, competitors), nor excluding the department, nor too far."""
        barred_codes = np.zeros(len(self.codes) + 1, dtype=bool)
        barred_codes[[self.codes[o] for o in barred if o in self.codes]] = True
        keep = ~barred_codes[self.organisations]
        if department:
            keep &= ~self.excluding(department)
        origin = coordinates().get(postcode or "")
        if max_km is not None and origin is not None:
            lat, lon = np.radians(origin[0]), np.radians(origin[1])
            h = np.sin((self.lat - lat) / 2) ** 2 + np.cos(lat) * np.cos(self.lat) * np.sin((self.lon - lon) / 2) ** 2
            with np.errstate(invalid="ignore"):
                too_far = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)) > max_km  # NaN (no postcode) is never too far
            keep &= ~too_far
        return keep


def _explained(result: Feasible, question: Question) -> list[Removal]:
    """The slow path: every rule in order, for one question, keeping the first one broken."""
    cohort = result.cohort
    if result.send_left.get(question.organisation) == 0:
        return [Removal("send_full", "", None, {"organisation": question.organisation})]
    kept: list[Candidate] = []
    removed: list[Removal] = []
    for place in cohort.places.values():
        _check(cohort, question, place, result.coaches_at.get(place.code, []), result, result.max_distance_km, kept, removed)
    return removed


def _check(cohort: Cohort, question: Question, place: Place, coaches: Iterable[Coach], result: Feasible,
           max_distance_km: float | None, kept: list[Candidate], removed: list[Removal]) -> None:
    distance = distance_km(question.postcode, place.postcode)
    reason = _place_reason(cohort, question, place, result, max_distance_km, distance)
    if reason is not None:
        removed.append(Removal(reason[0], place.code, None, reason[1]))
        return
    coaches = list(coaches)
    if not coaches:
        removed.append(Removal("no_coach", place.code, None))
        return
    for coach in coaches:
        coach_reason = _coach_reason(question, place, coach, result)
        if coach_reason is None:
            kept.append(Candidate(question.code, place.code, coach.person, distance))
        else:
            removed.append(Removal(coach_reason[0], place.code, coach.person, coach_reason[1]))


def _place_reason(cohort: Cohort, question: Question, place: Place, result: Feasible,
                  max_distance_km: float | None, distance: float | None) -> tuple[str, dict[str, object]] | None:
    if (question.code, place.code) in cohort.rejected:
        return "rejected", {"place": place.code}
    if place.organisation == question.organisation:
        return "own_employer", {"organisation": place.organisation}
    if place.organisation in cohort.organisations[question.organisation].competitors \
            or question.organisation in cohort.organisations[place.organisation].competitors:
        return "competitor", {"organisation": place.organisation}
    if question.department and question.department.casefold() in place.excluded_departments:
        return "excluded_department", {"department": question.department}
    if max_distance_km is not None and distance is not None and distance > max_distance_km:
        return "distance", {"km": round(distance), "max": round(max_distance_km)}
    if result.place_left.get(place.code, 0) <= 0:
        return "place_full", {"capacity": place.capacity}
    if result.host_left.get(place.organisation) == 0:
        return "host_full", {"organisation": place.organisation}
    return None


def _coach_reason(question: Question, place: Place, coach: Coach, result: Feasible) -> tuple[str, dict[str, object]] | None:
    if result.coach_left.get(coach.key, 0) <= 0:
        return "coach_full", {"coach": coach.name or coach.person, "capacity": coach.capacity}
    if not (question.languages & coach.languages):
        return "language", {"coach": coach.name or coach.person, "switcher": ", ".join(sorted(question.languages)),
                            "spoken": ", ".join(sorted(coach.languages))}
    if not (place.weekdays & coach.weekdays):
        return "weekdays", {"coach": coach.name or coach.person}
    return None
