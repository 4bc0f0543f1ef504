"""The leerbewijs: proof of learning for the switcher and the sending employer.

Its content is fixed when it is issued (stored with the leerbewijs) and fingerprinted with
SHA-256, so the same number always renders to the same bytes and a changed copy no longer
matches its fingerprint. The PDF is drawn with ReportLab in invariant mode: no creation
time or random document id inside, which keeps re-runs byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    HRFlowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from connector.core.texts import format_number, long_date, text

# Letters that Unicode does not decompose into a base letter plus an accent.
_BASE_LETTER = {"ı": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ŀ": "l", "Ŀ": "L"}
ACCENT = colors.HexColor("#1f5f8b")
MUTED = colors.HexColor("#5a6470")


def fingerprint(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _printable(value: str) -> str:
    """The PDF's standard fonts cover Windows-1252 (é, ü, ç, –); other letters lose their
    accent rather than becoming black boxes (Ł stays readable as L)."""
    out = []
    for char in value:
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            base = _BASE_LETTER.get(char) or unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?"
            out.append(base)
    return escape("".join(out))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="Helvetica", fontSize=10.5, leading=14.5, alignment=TA_LEFT)
    return {
        "issuer": ParagraphStyle("issuer", parent=base, fontName="Helvetica-Bold", fontSize=11, textColor=ACCENT),
        "title": ParagraphStyle("title", parent=base, fontName="Helvetica-Bold", fontSize=26, leading=31, spaceBefore=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12, textColor=MUTED, spaceAfter=4),
        "body": base,
        "question": ParagraphStyle("question", parent=base, fontName="Helvetica-Oblique", fontSize=12, leading=16,
                                   leftIndent=8 * mm, rightIndent=8 * mm, spaceBefore=4, spaceAfter=4),
        "label": ParagraphStyle("label", parent=base, fontSize=9.5, textColor=MUTED),
        "value": ParagraphStyle("value", parent=base, fontName="Helvetica-Bold"),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
    }


def render_pdf(content: dict[str, Any], digest: str, check: Check | None = None) -> bytes:
    """The leerbewijs as an unsigned PDF; with `check`, it carries the QR code and check code
    a reader verifies it with (see signed_pdf)."""
    language = content["language"]
    styles = _styles()
    t = lambda key, **values: text(language, key, **values)  # noqa: E731
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, invariant=1, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"{t('lb.title')} {content['number']}", author=content["partner"]["name"], subject=t("lb.subtitle"),
        creator="Switching Talent Connector",
    )
    P = lambda value, style="body": Paragraph(value, styles[style])  # noqa: E731
    story: list[Any] = [
        P(_printable(content["partner"]["name"]), "issuer"),
        HRFlowable(width="100%", thickness=2, color=ACCENT, spaceBefore=3, spaceAfter=10),
        P(_printable(t("lb.title")), "title"),
        P(_printable(t("lb.subtitle")), "subtitle"),
        Spacer(1, 5 * mm),
        P(_printable(t("lb.intro", partner=content["partner"]["name"], switcher=content["switcher"]["name"],
                       sender=content["sender"]["name"], host=content["host"]["name"]))),
        P(f"“{_printable(content['question'])}”", "question"),
        Spacer(1, 3 * mm),
    ]
    details = [
        (t("label.switcher"), content["switcher"]["name"]),
        (t("label.sender"), content["sender"]["name"] + (f" ({content['sender']['enterprise_number']})" if content["sender"].get("enterprise_number") else "")),
        (t("label.host"), content["host"]["name"]),
        (t("label.place"), content["place"]),
        (t("label.coach"), ", ".join(content["coaches"]) or "–"),
        (t("lb.number"), content["number"]),
        (t("lb.issued"), long_date(language, date.fromisoformat(content["issued_on"]))),
    ]
    story.append(_table([[P(_printable(k), "label"), P(_printable(v), "value")] for k, v in details], [48 * mm, None]))
    story += [Spacer(1, 6 * mm), P(f"<b>{_printable(t('lb.days'))}</b>")]
    rows = [[P(_printable(t("lb.date")), "label"), P(_printable(t("lb.hours")), "label")]]
    rows += [[P(_printable(long_date(language, date.fromisoformat(d["date"])))), P(_printable(format_number(language, d["hours"])))] for d in content["days"]]
    rows.append([P(f"<b>{_printable(t('lb.total'))}</b>"), P(f"<b>{_printable(format_number(language, content['total_hours']))}</b>")])
    story.append(_table(rows, [80 * mm, 30 * mm], header=True))
    if content.get("intro_call"):  # only when that call took place (issue 16)
        story += [Spacer(1, 3 * mm), P(_printable(t("lb.intro_call", switcher=content["switcher"]["name"],
                                                     date=long_date(language, date.fromisoformat(content["intro_call"])))))]
    story += [Spacer(1, 4 * mm), P(_printable(t("lb.kind")), "label")]
    if content.get("replaces"):  # a corrected leerbewijs names the revoked one
        story += [Spacer(1, 2 * mm), P(f"<b>{_printable(t('lb.replaces', number=content['replaces']))}</b>")]
    story += [Spacer(1, 16 * mm)]
    signatures = [[P(_printable(t("lb.sign_partner", partner=content["partner"]["name"])), "label"), P(_printable(t("lb.sign_coach")), "label")]]
    signature_table = Table(signatures, colWidths=[83 * mm, 83 * mm], hAlign="LEFT")
    signature_table.setStyle(TableStyle([("LINEABOVE", (0, 0), (0, 0), 0.6, MUTED), ("LINEABOVE", (1, 0), (1, 0), 0.6, MUTED),
                                         ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (0, 0), 10 * mm)]))
    story += [signature_table, Spacer(1, 14 * mm),
              HRFlowable(width="100%", thickness=0.5, color=MUTED, spaceAfter=4),
              P(f"{_printable(t('lb.fingerprint'))}: <font name='Courier'>{digest}</font>", "small"),
              P(_printable(t("lb.footer")), "small")]
    if check is not None:
        story += [Spacer(1, 3 * mm), _check_block(check, content, styles)]
    document.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class Check:
    """What lets a reader check a printed or PDF leerbewijs: the QR text (a signed statement
    of number and fingerprint) and a short code to quote on the phone."""

    qr: str
    code: str


def _check_block(check: Check, content: dict[str, Any], styles: dict[str, ParagraphStyle]) -> Table:
    size = 28 * mm
    drawing = Drawing(size, size)  # sized directly: measuring the widget would draw its modules twice
    drawing.add(QrCodeWidget(check.qr, barLevel="M", barWidth=size, barHeight=size))
    words = text(content["language"], "lb.verify", partner=content["partner"]["name"])
    label = text(content["language"], "lb.code")
    note = Paragraph(f"{_printable(words)}<br/>{_printable(label)}: <font name='Courier'>{check.code}</font>", styles["small"])
    table = Table([[drawing, note]], colWidths=[32 * mm, None], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _table(rows: list[list[Any]], widths: list[Any], header: bool = False) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    style: list[Any] = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("TOPPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style += [("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED), ("LINEABOVE", (0, -1), (-1, -1), 0.6, MUTED)]
    table.setStyle(TableStyle(style))
    return table
