"""Generated cohorts for the matching tests and bench/matching.py: organisations, places,
coaches and learning questions drawn from a seeded random generator, so a failure can be
replayed. Postcodes are real Belgian ones (from the coordinates table), texts are words of a
small work vocabulary, so BM25 has something to find."""

from __future__ import annotations

import random
from datetime import date, timedelta

from connector.matching.geo import coordinates
from connector.matching.model import Cohort, Coach, Organisation, Place, Question

WORDS = ("planning ploegen onthaal nieuwe medewerkers begeleiden coaching diversiteit keuken voedselverspilling "
         "ouders betrokkenheid werf onderhoud klanten communicatie digitale tools verlof veiligheid preventie "
         "opleiding leren mentor feedback administratie kwaliteit zorg kinderen dagritme productie logistiek "
         "aankoop voorraad duurzaamheid energie welzijn teamwerk leiderschap vergadering rapportering").split()
SECTORS = ("331", "327", "149.01", "332", "200", "319")
DEPARTMENTS = ("Financiën", "HR", "Administratie", "Productie", "Zorg", "Logistiek")


def generate(questions: int, seed: int, places: int | None = None, organisations: int | None = None,
             commitments: bool = True) -> Cohort:
    """A cohort of `questions` open questions and about one place per two questions."""
    rng = random.Random(seed)
    codes = sorted(coordinates())
    organisation_count = organisations or max(3, questions // 20)
    place_count = places or max(2, questions // 2)
    orgs: dict[str, Organisation] = {}
    ids = [f"org-{i}" for i in range(organisation_count)]
    for ident in ids:
        rivals = frozenset(o for o in ids if o != ident and rng.random() < 0.1)
        orgs[ident] = Organisation(
            id=ident, language=rng.choice(("nl", "nl", "fr")), sector=rng.choice(SECTORS), size=rng.choice((8, 15, 24, 46, 120)),
            staff=rng.choice(("white", "blue", "mixed")), competitors=rivals,
            sends=rng.choice((None, rng.randint(1, 4))) if commitments else None,
            hosts=rng.choice((None, rng.randint(1, 4))) if commitments else None, postcode=rng.choice(codes))
    place_list: dict[str, Place] = {}
    coaches: list[Coach] = []
    for index in range(place_count):
        owner = rng.choice(ids)
        code = f"LP-{index}"
        place_list[code] = Place(
            code=code, organisation=owner, name=" ".join(rng.sample(WORDS, 2)), text=" ".join(rng.choices(WORDS, k=12)),
            keywords=frozenset(rng.sample(WORDS, 2)), languages=frozenset({orgs[owner].language}),
            weekdays=frozenset(rng.sample(range(5), rng.randint(2, 5))), capacity=rng.randint(1, 3),
            postcode=rng.choice(codes), excluded_departments=frozenset(d.casefold() for d in rng.sample(DEPARTMENTS, 1)))
        for n in range(rng.randint(1, 2)):
            coaches.append(Coach(place=code, person=f"C{index}-{n}", capacity=rng.randint(1, 2),
                                 languages=frozenset(rng.sample(("nl", "fr", "en"), rng.randint(1, 2))),
                                 weekdays=frozenset(rng.sample(range(5), rng.randint(3, 5)))))
    question_list = []
    start = date(2027, 2, 1)
    for index in range(questions):
        owner = rng.choice(ids)
        first = start + timedelta(days=rng.randint(0, 60))
        question_list.append(Question(
            code=f"LV-{index:05d}", organisation=owner, switcher=f"S{index}", title=" ".join(rng.sample(WORDS, 4)),
            text=" ".join(rng.choices(WORDS, k=15)), keywords=frozenset(rng.sample(WORDS, 2)),
            languages=frozenset(rng.sample(("nl", "fr", "en"), rng.randint(1, 2))),
            preferences=tuple(rng.sample(ids, min(3, len(ids)))) if rng.random() < 0.5 else (),
            period=(first, first + timedelta(days=45)), postcode=rng.choice(codes), department=rng.choice(DEPARTMENTS)))
    return Cohort(question_list, place_list, coaches, orgs)
