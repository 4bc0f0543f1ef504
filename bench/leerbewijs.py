"""Benchmark: signing and verifying leerbewijzen.

    python bench/leerbewijs.py [--count 200]

Signs --count leerbewijzen (Open Badges credential as VC-JWT, PDF with QR code, embedded
credential and PAdES signature) with a fresh key generation in a temporary folder, then
verifies every file as `st-connector leerbewijs verify` does. Prints the time per
leerbewijs for each step, the average PDF size and the peak memory, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.leerbewijs.credential import recipient_identity  # noqa: E402
from connector.leerbewijs.document import fingerprint  # noqa: E402
from connector.leerbewijs.issuer import IssuerProfile, KeyStore  # noqa: E402
from connector.leerbewijs.proof import signed_pdf, verify  # noqa: E402

PROFILE = IssuerProfile("https://lerenswitchen.be", "Netwerk Leren Switchen vzw", "https://lerenswitchen.be", "switch@lerenswitchen.be")


def content(index: int) -> dict:
    salt = f"{index:016x}"
    return {
        "number": f"LB-2027-{index:04d}", "issued_on": "2027-05-20", "language": ("nl", "fr", "en")[index % 3],
        "partner": {"name": PROFILE.name, "email": PROFILE.email},
        "switcher": {"name": f"Switcher {index}", "employee_number": f"E{index}"},
        "sender": {"name": "Atelier Groenkracht cv", "enterprise_number": "0423.456.789"},
        "host": {"name": "Kinderdagverblijf 't Zonneke vzw", "enterprise_number": "0412.345.678"},
        "place": "Leefgroep baby's", "coaches": ["Lotte Maes"], "question": "Hoe begeleid je nieuwe medewerkers?",
        "exchange": f"EX-{index}", "total_hours": 14.0,
        "days": [{"date": "2027-05-11", "hours": 7.0, "session": "D1"}, {"date": "2027-05-12", "hours": 7.0, "session": "D2"}],
        "recipient": {"salt": salt, "identity_hash": recipient_identity(f"switcher{index}@example.be", salt), "identity_type": "emailAddress"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    zone = ZoneInfo("Europe/Brussels")
    with tempfile.TemporaryDirectory() as folder:
        store = KeyStore(Path(folder) / "keys")
        store.init(PROFILE, datetime.now(UTC))
        keys = store.current()
        signed_pdf(content(0), fingerprint(content(0)), keys, PROFILE, zone)  # imports and fonts outside the timing
        paths, started = [], time.perf_counter()
        for index in range(args.count):
            document = content(index)
            path = Path(folder) / f"{document['number']}.pdf"
            path.write_bytes(signed_pdf(document, fingerprint(document), keys, PROFILE, zone))
            paths.append(path)
        signing = time.perf_counter() - started
        keyring, started = store.public_keys(), time.perf_counter()
        valid = sum(verify(str(path), keyring).ok for path in paths)
        verifying = time.perf_counter() - started
        size = sum(p.stat().st_size for p in paths) / len(paths)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"signed {args.count} leerbewijzen: {1000 * signing / args.count:.0f} ms each ({args.count / signing:.1f}/s), "
          f"average PDF {size / 1024:.1f} KiB")
    print(f"verified: {valid}/{args.count} valid, {1000 * verifying / args.count:.0f} ms each; peak memory {peak:.0f} MiB")
    print(json.dumps({"count": args.count, "sign_ms": round(1000 * signing / args.count, 1),
                      "verify_ms": round(1000 * verifying / args.count, 1), "valid": valid, "pdf_kib": round(size / 1024, 1),
                      "peak_mib": round(peak)}))


if __name__ == "__main__":
    main()
