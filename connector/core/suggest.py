"""Helping a person past a typo: "did you mean" and the list of what would have been valid."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

SHOWN = 12  # more valid ids than this are summarised: a list of 300 codes helps nobody


def did_you_mean(given: str, valid: Iterable[str]) -> str:
    """' (did you mean 'name'?)' for the closest valid word, or '' when none is close."""
    closest = get_close_matches(given, sorted(set(valid)), n=1, cutoff=0.7)  # 0.6 took EX-01 for EX-99: codes share their prefix
    return f" (did you mean '{closest[0]}'?)" if closest else ""


def known(valid: Iterable[str], noun: str = "known") -> str:
    """'; known: A, B, C' (the first SHOWN, sorted, then how many more), or '; none known yet'."""
    names = sorted(set(valid))
    if not names:
        return "; none known yet"
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"; {noun}: {', '.join(names[:SHOWN])}{more}"


def unknown(kind: str, given: str, valid: Iterable[str]) -> str:
    """"no learning place 'LP-C' (did you mean 'LP-B'?); known: LP-A, LP-B"."""
    valid = list(valid)
    return f"no {kind} '{given}'{did_you_mean(given, valid)}{known(valid)}"
