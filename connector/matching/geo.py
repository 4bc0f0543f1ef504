"""Travel distance between Belgian postcodes, offline.

Coordinates come from the PyPI package `countrystatecity-postal-codes` (data of the
countries-states-cities database, Open Database License 1.0): 1,145 Belgian postcodes with
the latitude and longitude of their locality, shipped inside the package and read from disk.
Nothing is fetched at run time. Distance is the great-circle (haversine) distance in
kilometres between the two localities: a lower bound of the road distance, which is what a
"maximum travel distance" should be compared with when only postcodes are known.
"""

from __future__ import annotations

from functools import cache, lru_cache
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


@cache
def coordinates() -> dict[str, tuple[float, float]]:
    """postcode -> (latitude, longitude) in degrees; the first locality of a shared postcode."""
    from countrystatecity_postal_codes import get_postcodes_of_country  # loaded on first use only

    found: dict[str, tuple[float, float]] = {}
    for entry in get_postcodes_of_country("BE"):
        if entry.latitude is not None and entry.longitude is not None:
            found.setdefault(str(entry.code), (float(entry.latitude), float(entry.longitude)))
    return found


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (latitude, longitude) points in degrees."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(h))


def distance_km(postcode_a: str | None, postcode_b: str | None) -> float | None:
    """Kilometres between two postcodes; None when either is missing or unknown."""
    if not postcode_a or not postcode_b:
        return None
    return _distance(postcode_a, postcode_b) if postcode_a <= postcode_b else _distance(postcode_b, postcode_a)


@lru_cache(maxsize=500_000)
def _distance(postcode_a: str, postcode_b: str) -> float | None:
    table = coordinates()
    if postcode_a not in table or postcode_b not in table:
        return None
    return haversine_km(table[postcode_a], table[postcode_b])


def known(postcode: str) -> bool:
    return postcode in coordinates()
