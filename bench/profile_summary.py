"""The top costs of a profiled sync, with their share, for bench/PROFILE.md.

    python bench/scale.py --people 50000 --store sqlite --profile prof/   # writes prof/sqlite-50000.first.prof ...
    python bench/profile_summary.py prof/sqlite-50000.first.prof [...]

For each .prof file: the total (under cProfile, which slows Python code down about twofold:
shares, not seconds, are what to compare) and the cumulative time and share of the sync's
stages and of the library calls that dominate them.
"""

from __future__ import annotations

import pstats
import re
import sys

STAGES = [
    r"engine/sync\.py:\d+\(run_sync\)", r"\(_prepare\)", r"\(pull_entity\)", r"pull\.py:\d+\(take\)", r"\(_store\)", r"\(_write\)",
    r"\(_existing\)", r"mapping\.py:\d+\(apply\)", r"mapping\.py:\d+\(validate\)", r"\(reconcile_people\)", r"\(_link\)", r"\(_merge\)",
    r"\(_apply\)", r"http\.py:\d+\(paginate\)", r"\(content_hash\)", r"\(raw_text\)", r"\(jsonable\)", r"\(_mark_missing\)",
    r"plan\.py:\d+\(run\)", r"reconcile\.py:\d+\(run\)", r"\(claimed_twice\)", r"\(_deliver\)", r"_find_and_load'?\)?$",
    r"method 'executemany'", r"method 'execute' of 'sqlite3", r"method 'fetchall'", r"session\.py:\d+\(_flush\)", r"\(_strptime\)",
    r"method 'validate_python'",
]


def summary(path: str, rows: int = 24) -> str:
    stats = pstats.Stats(path)
    entries = stats.stats  # type: ignore[attr-defined]
    total = max(cumulative for (_, _, _, cumulative, _) in entries.values())
    found = []
    for (file, line, name), (_, calls, own, cumulative, _) in entries.items():
        label = f"{file.split('site-packages/')[-1].split('/connector/')[-1]}:{line}({name})"
        if any(re.search(stage, label) for stage in STAGES):
            found.append((cumulative, calls, own, label))
    found.sort(reverse=True)
    lines = [f"{path}: {total:.1f} s under cProfile", "", "| cumulative s | share | calls | own s | function |", "|---:|---:|---:|---:|---|"]
    lines += [f"| {c:.2f} | {100 * c / total:.1f}% | {n} | {o:.2f} | `{label}` |" for c, n, o, label in found[:rows]]
    return "\n".join(lines)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(summary(argument))
        print()
