"""The leerbewijs' reference images: page 1 of each language rendered by poppler's pdftoppm.

Regenerate after an intended layout change, and look at every image before committing it:

    .venv/bin/python -m tests.reference.render

tests/test_documents.py renders the same content again and compares it with these images with
a tolerance (anti-aliasing differs a little between poppler versions; a moved block does not).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from connector.leerbewijs.document import Check, render_pdf
from tests.test_leerbewijs import CONTENT

HERE = Path(__file__).parent
DPI = 40  # coarse: layout, not glyph shapes
LANGUAGES = ("nl", "fr", "en")
# Long names in three scripts and two coaches: what used to run past the margin or share one label.
REFERENCE = {**CONTENT, "partner": {"name": "Netwerk Leren Switchen – Vlaams-Brabant en Brussel vzw", "email": "switch@lerenswitchen.be"},
             "switcher": {"name": "Łukasz Şükrü Dąbrowski-Yılmaz", "employee_number": "G7"},
             "coaches": ["Αλέξανδρος Παπαδόπουλος", "Дмитрий Иванов"]}
CHECK = Check(qr="ST1:LB-2027-0001:" + "0" * 64 + ":20270520-00000000:" + "A" * 86, code="ABCD-EFGH-IJKL")


def reference_path(language: str) -> Path:
    return HERE / f"leerbewijs-{language}.png"


def render_png(language: str) -> Image.Image:
    """Page 1 of the reference leerbewijs in `language`, in grey levels, as pdftoppm draws it."""
    pdf = render_pdf({**REFERENCE, "language": language}, "0" * 64, CHECK)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "leerbewijs.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", "-f", "1", "-l", "1",
                        str(source), str(Path(folder) / "page")], check=True, timeout=120)
        return Image.open(io.BytesIO((Path(folder) / "page.png").read_bytes())).convert("L")


if __name__ == "__main__":
    for language in LANGUAGES:
        render_png(language).save(reference_path(language), optimize=True)
        print(reference_path(language))
