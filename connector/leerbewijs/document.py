"""The leerbewijs: proof of learning for the switcher and the sending employer.

Its content is fixed when it is issued (stored with the leerbewijs) and fingerprinted with
SHA-256, so the same number always renders to the same bytes and a changed copy no longer
matches its fingerprint. The PDF is drawn with ReportLab in invariant mode: no creation
time or random document id inside, which keeps re-runs byte-identical.

Fonts: Fira Sans (regular, bold, italic, bold italic) and IBM Plex Mono from the PyPI
packages `fontpkg-fira-sans` and `fontpkg-ibm-plex-mono` (SIL OFL 1.1), embedded as subsets
with a ToUnicode map, so that every name in Latin, Greek or Cyrillic script prints, and is
copied or searched, exactly as the HR system has it ("Łukasz Şükrü Dąbrowski-Yılmaz",
"Αλέξανδρος", "Дмитрий"). The mono face is only used for the fingerprint and the check code
(hexadecimal and base32 letters).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import fontpkg
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing as _Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable as _HRFlowable
from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus import SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as _Table

from connector.core.texts import format_number, labelled, long_date, text, typeset

SANS = "STSans"  # the family name the paragraphs use; <b> and <i> map to its other faces
MONO = "STMono"
LANGUAGE_TAGS = {"nl": "nl-BE", "fr": "fr-BE", "en": "en"}  # BCP 47, as the texts' locales (nl_BE, fr_BE, en_150)
SIGNATURE_GAP = 10 * mm
ACCENT = colors.HexColor("#1f5f8b")
MUTED = colors.HexColor("#5a6470")


def fingerprint(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _printable(language: str, value: str) -> str:
    """`value` as paragraph markup: every character kept (the embedded fonts cover Latin,
    Greek and Cyrillic), set as `language` prints it (French no-break spaces, see
    core/texts.typeset: before escaping, so an entity's ; is never touched), then only the
    markup characters <, > and & escaped."""
    return escape(typeset(language, value))


def _labelled(language: str, key: str, markup: str) -> str:
    """'<label>: <markup>' with the separator of the catalog's "labelled" message (French: a
    no-break space before the colon), `markup` inserted as it is (a font change)."""
    marker = "\x00"  # survives escaping and typesetting, then takes the markup's place
    return _printable(language, labelled(language, key, marker)).replace(marker, markup)


def _quoted(language: str, t: Any, question: str) -> str:
    """The learning question in the catalog's quotes, typeset as the document's language asks,
    while the question itself keeps its own writing: on a coach's leerbewijs it is the
    switcher's question, maybe in another language (a Dutch question on a French coach's
    leerbewijs gets no French spaces); only the spaces it has before ? ! : ; are made no-break."""
    marker = "\x00"
    kept = escape(re.sub(r" (?=[?!:;»])", "\u00a0", question))
    return _printable(language, t("lb.quoted", question=marker)).replace(marker, kept)


@cache
def register_fonts() -> None:
    """Register the embedded faces with ReportLab once per process. ReportLab subsets each
    TrueType font per document and names the subset deterministically, so re-runs stay
    byte-identical. Raises fontpkg.FontpkgError when a font package is not installed."""
    faces = {SANS: ("Fira Sans", 400, "normal"), f"{SANS}-Bold": ("Fira Sans", 700, "normal"),
             f"{SANS}-Italic": ("Fira Sans", 400, "italic"), f"{SANS}-BoldItalic": ("Fira Sans", 700, "italic"),
             MONO: ("IBM Plex Mono", 400, "normal")}
    for name, (family, weight, style) in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(fontpkg.path(family, weight, style))))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=f"{SANS}-Bold", italic=f"{SANS}-Italic", boldItalic=f"{SANS}-BoldItalic")


def unprintable(text: str) -> str:
    """The characters of `text` the leerbewijs's typeface has no glyph for (emoji, scripts
    Fira Sans does not cover), each once in order of appearance; "" when it prints whole.
    Line breaks and other controls are not counted: the layout handles them."""
    register_fonts()
    glyphs = pdfmetrics.getFont(SANS).face.charToGlyph
    return "".join(dict.fromkeys(c for c in text if not c.isspace() and c.isprintable() and ord(c) not in glyphs))


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=SANS, fontSize=10.5, leading=14.5, alignment=TA_LEFT)
    return {
        "issuer": ParagraphStyle("issuer", parent=base, fontName=f"{SANS}-Bold", fontSize=11, textColor=ACCENT),
        "title": ParagraphStyle("title", parent=base, fontName=f"{SANS}-Bold", fontSize=26, leading=31, spaceBefore=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12, textColor=MUTED, spaceAfter=4),
        "body": base,
        "question": ParagraphStyle("question", parent=base, fontName=f"{SANS}-Italic", fontSize=12, leading=16,
                                   leftIndent=8 * mm, rightIndent=8 * mm, spaceBefore=4, spaceAfter=4),
        "label": ParagraphStyle("label", parent=base, fontSize=9.5, textColor=MUTED),
        "value": ParagraphStyle("value", parent=base, fontName=f"{SANS}-Bold"),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
    }


def render_pdf(content: dict[str, Any], digest: str, check: Check | None = None, tags: list[Tag] | None = None) -> bytes:
    """The leerbewijs as an unsigned PDF; with `check`, it carries the QR code and check code
    a reader verifies it with (see signed_pdf). With `tags`, its text is drawn as marked content
    (each paragraph a BDC/EMC sequence with an MCID, lines and the QR code as artifacts) and
    `tags` receives one Tag per sequence in reading order, for archive.tag to build the
    structure tree from."""
    language = content["language"]
    styles = _styles()
    t = lambda key, **values: text(language, key, **values)  # noqa: E731
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, invariant=1, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"{t('lb.title')} {content['number']}", author=content["partner"]["name"], subject=t("lb.subtitle"),
        creator="Switching Talent Connector",
        initialFontName=SANS,  # else the canvas names Helvetica, a font that is not embedded
        lang=LANGUAGE_TAGS.get(language, language),  # the catalog's /Lang: screen readers pick their voice by it
    )
    P = lambda value, style="body": Paragraph(value, styles[style])  # noqa: E731
    heading = P(f"<b>{_printable(language, t('lb.days'))}</b>")
    heading.path = ("H2",)
    story: list[Any] = [
        P(_printable(language, content["partner"]["name"]), "issuer"),
        HRFlowable(width="100%", thickness=2, color=ACCENT, spaceBefore=3, spaceAfter=10),
        P(_printable(language, t("lb.title")), "title"),
        P(_printable(language, t("lb.subtitle")), "subtitle"),
        Spacer(1, 5 * mm),
        P(_printable(language, _intro(content))),
        P(_quoted(language, t, content["question"]) if is_coach(content) else  # a coach's: the switcher's question
          _printable(language, t("lb.quoted", question=content["question"])), "question"),
        Spacer(1, 3 * mm),
    ]
    details = _coach_details(content) if is_coach(content) else [
        (t("label.switcher"), content["switcher"]["name"]),
        (t("label.sender"), content["sender"]["name"] + (f" ({content['sender']['enterprise_number']})" if content["sender"].get("enterprise_number") else "")),
        (t("label.host"), content["host"]["name"]),
        (t("label.place"), content["place"]),
        (t("label.coaches") if len(content["coaches"]) > 1 else t("label.coach"), ", ".join(content["coaches"]) or "–"),
        (t("lb.number"), content["number"]),
        (t("lb.issued"), long_date(language, date.fromisoformat(content["issued_on"]))),
    ]
    story.append(_table([[P(_printable(language, k), "label"), P(_printable(language, v), "value")] for k, v in details], [48 * mm, None]))
    story += [Spacer(1, 6 * mm), heading]
    rows = [[P(_printable(language, t("lb.date")), "label"), P(_printable(language, t("lb.hours")), "label")]]
    rows += [[P(_printable(language, long_date(language, date.fromisoformat(d["date"])))), P(_printable(language, format_number(language, d["hours"])))] for d in content["days"]]
    rows.append([P(f"<b>{_printable(language, t('lb.total'))}</b>"), P(f"<b>{_printable(language, format_number(language, content['total_hours']))}</b>")])
    story.append(_table(rows, [80 * mm, 30 * mm], header=True))
    if content.get("intro_call"):  # only when that call took place (issue 16)
        story += [Spacer(1, 3 * mm), P(_printable(language, t("lb.intro_call", switcher=content["switcher"]["name"],
                                                     date=long_date(language, date.fromisoformat(content["intro_call"])))))]
    if content.get("learned"):  # the switcher's own words, only when they consented (issue 17)
        story += [Spacer(1, 3 * mm), P(_printable(language, t("lb.learned", switcher=content["switcher"]["name"]))),
                  P(_quoted(language, t, content["learned"]), "question")]
    story += [Spacer(1, 4 * mm), P(_printable(language, t(coach_or(content, "lb.kind"))), "label")]
    if content.get("replaces"):  # a corrected leerbewijs names the revoked one
        story += [Spacer(1, 2 * mm), P(f"<b>{_printable(language, t('lb.replaces', number=content['replaces']))}</b>")]
    story += [Spacer(1, 16 * mm)]
    # a coach's own leerbewijs is signed for the partner only (the coach does not sign for themselves)
    story += _signature_block({**content, "coaches": []} if is_coach(content) else content, styles, document.width)
    story += [Spacer(1, 14 * mm),
              HRFlowable(width="100%", thickness=0.5, color=MUTED, spaceAfter=4),
              P(_labelled(language, "lb.fingerprint", f"<font name='{MONO}'>{digest}</font>"), "small"),
              P(_printable(language, t("lb.footer")), "small")]
    if check is not None:
        story += [Spacer(1, 3 * mm), _check_block(check, content, styles)]
    tagger = _Tagger(tags) if tags is not None else None
    document.build(story, onFirstPage=_with(tagger), onLaterPages=_with(tagger))
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
    drawing.initialFontName = SANS  # the renderer otherwise selects Helvetica, which is not embedded
    drawing.add(QrCodeWidget(check.qr, barLevel="M", barWidth=size, barHeight=size))
    language = content["language"]
    words = text(language, "lb.verify", partner=content["partner"]["name"])
    note = Paragraph(f"{_printable(language, words)}<br/>{_labelled(language, 'lb.code', f'<font name={MONO!r}>{check.code}</font>')}", styles["small"])
    table = Table([[drawing, note]], colWidths=[32 * mm, None], hAlign="LEFT")
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), SANS), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _signature_block(content: dict[str, Any], styles: dict[str, ParagraphStyle], width: float) -> list[Any]:
    """A line to sign for the partner and one per coach (labelled with the coach's name), two
    or three to a row, each row exactly as wide as the text frame, so no line runs past the margin."""
    language = content["language"]
    cells = [[Paragraph(_printable(language, text(language, "lb.sign_partner", partner=content["partner"]["name"])), styles["label"])]]
    cells += [[Paragraph(_printable(language, text(language, "lb.sign_coach")), styles["label"]), Paragraph(_printable(language, coach), styles["value"])]
              for coach in content["coaches"]]
    per_row = 3 if len(cells) >= 3 else 2  # three signers still fit one row, so the page stays one page
    column = (width - SIGNATURE_GAP * (per_row - 1)) / per_row
    block: list[Any] = []
    for start in range(0, len(cells), per_row):
        chunk = cells[start:start + per_row]
        row: list[Any] = []
        widths: list[float] = []
        for position in range(per_row):
            if position:
                row.append("")
                widths.append(SIGNATURE_GAP)
            row.append(chunk[position] if position < len(chunk) else "")
            widths.append(column)
        table = Table([row], colWidths=widths, hAlign="LEFT")
        style: list[Any] = [("FONT", (0, 0), (-1, -1), SANS), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
        style += [("LINEABOVE", (2 * position, 0), (2 * position, 0), 0.6, MUTED) for position in range(len(chunk))]
        table.setStyle(TableStyle(style))
        block += ([Spacer(1, 14 * mm)] if block else []) + [table]
    return block


def _table(rows: list[list[Any]], widths: list[Any], header: bool = False) -> Table:
    """A data table: tagged as Table, TR, TH (the header row) and TD, each cell's text a P."""
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    group = f"Table:{id(table)}"  # only groups the cells of one table; never written into the PDF
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if isinstance(cell, Paragraph):
                cell.path = (group, f"TR:{r}", f"{'TH' if header and r == 0 else 'TD'}:{c}", "P")
    style: list[Any] = [("FONT", (0, 0), (-1, -1), SANS), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("TOPPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style += [("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED), ("LINEABOVE", (0, -1), (-1, -1), 0.6, MUTED)]
    table.setStyle(TableStyle(style))
    return table


# -- a coach's leerbewijs (coach_learning) ------------------------------------------------------

def is_coach(content: dict[str, Any]) -> bool:
    """Whether the leerbewijs is a coach's own (role "coach", see engine/plan.coach_learning)."""
    return content.get("role") == "coach"


def coach_or(content: dict[str, Any], key: str) -> str:
    """`key`, or for a coach's leerbewijs its coach variant `<key>_coach` (lb.kind_coach, ob.narrative_coach)."""
    return f"{key}_coach" if is_coach(content) else key


def holder_name(content: dict[str, Any]) -> str:
    """The name of the person the leerbewijs is for: its coach, or (as always) its switcher."""
    return str((content.get("holder") if is_coach(content) else content["switcher"])["name"])


def _intro(content: dict[str, Any]) -> str:
    language, partner = content["language"], content["partner"]["name"]
    if is_coach(content):
        return text(language, "lb.intro_coach", partner=partner, coach=holder_name(content), employer=content["employer"]["name"],
                    place=f"{content['place']} ({content['host']['name']})")
    return text(language, "lb.intro", partner=partner, switcher=content["switcher"]["name"], sender=content["sender"]["name"],
                host=content["host"]["name"])


def _coach_details(content: dict[str, Any]) -> list[tuple[str, str]]:
    language = content["language"]
    employer = content["employer"]
    return [
        (text(language, "label.coach"), holder_name(content)),
        (text(language, "lb.employer"), employer["name"] + (f" ({employer['enterprise_number']})" if employer.get("enterprise_number") else "")),
        (text(language, "label.place"), content["place"]),
        (text(language, "lb.number"), content["number"]),
        (text(language, "lb.issued"), long_date(language, date.fromisoformat(content["issued_on"]))),
    ]


# -- tagged PDF: marked content for the structure tree (archive.tag) ---------------------------
# ReportLab's open-source edition writes no structure tree. The paragraphs here mark their own
# text (PDF 1.7, ISO 32000-1 section 14.6: "/P <</MCID n>> BDC ... EMC"), and what is only
# decoration (rules, table lines, the QR code beside its printed check code) is marked as an
# /Artifact (section 14.8.2.2), so that archive.tag can add the StructTreeRoot that points at
# the MCIDs in reading order, which is the order they are drawn in.

ROLES = {"title": "H1", "question": "BlockQuote"}  # paragraph style -> structure type; the rest are P


@dataclass(frozen=True)
class Tag:
    """One marked-content sequence: its page (0-based), its MCID on that page, and its place
    in the structure: the groups it sits in, outermost first, then its own structure type,
    e.g. ("Table:<key>", "TR:0", "TD:1", "P") or ("H1",). Only the part before ':' is a
    structure type; the rest tells groups apart."""

    page: int
    mcid: int
    path: tuple[str, ...]


class _Tagger:
    """Hands out MCIDs per page and remembers each Tag, in drawing order."""

    def __init__(self, tags: list[Tag]) -> None:
        self.tags = tags
        self.next: dict[int, int] = {}

    def begin(self, canvas: Any, path: tuple[str, ...]) -> None:
        page = canvas.getPageNumber() - 1
        mcid = self.next.get(page, 0)
        self.next[page] = mcid + 1
        self.tags.append(Tag(page, mcid, path))
        canvas.addLiteral(f"/{path[-1].split(':', 1)[0]} <</MCID {mcid}>> BDC")


def _with(tagger: _Tagger | None) -> Any:
    def on_page(canvas: Any, _document: Any) -> None:
        canvas.st_tagger = tagger  # the flowables below find it on the canvas they draw on
    return on_page


def _as_artifact(canvas: Any, draw: Any) -> None:
    tagged = getattr(canvas, "st_tagger", None) is not None
    if tagged:
        canvas.addLiteral("/Artifact BMC")
    draw()
    if tagged:
        canvas.addLiteral("EMC")


class Paragraph(_Paragraph):
    """A paragraph that marks its text as one structure element (P, or its style's role)."""

    path: tuple[str, ...] | None = None

    def draw(self) -> None:
        tagger: _Tagger | None = getattr(self.canv, "st_tagger", None)
        if tagger is None:
            super().draw()
            return
        tagger.begin(self.canv, self.path or (ROLES.get(self.style.name, "P"),))
        self._space_line_ends()
        super().draw()
        self.canv.addLiteral("EMC")

    def _space_line_ends(self) -> None:
        """A space after the last word of every line but the last: Tagged PDF separates words by
        space characters, also where a line breaks (ISO 32000-1 14.8.2.5), else a screen reader
        or text extraction reads "vanAtelier". Drawn at the line's end, where it is invisible."""
        para = getattr(self, "blPara", None)
        if para is None or getattr(para, "st_spaced", False):
            return
        para.st_spaced = True
        for line in para.lines[:-1]:
            if para.kind == 0:
                words = line[1]
                if words:
                    words[-1] += " "
            else:
                texts = [word for word in line.words if isinstance(getattr(word, "text", None), str)]
                if texts and not texts[-1].text.endswith(" "):
                    texts[-1].text += " "


class HRFlowable(_HRFlowable):
    """A rule: decoration, an artifact."""

    def draw(self) -> None:
        _as_artifact(self.canv, super().draw)


class Table(_Table):
    """A table whose backgrounds and lines are artifacts (its cells tag themselves)."""

    def _drawBkgrnd(self) -> None:  # noqa: N802 (ReportLab's name)
        _as_artifact(self.canv, super()._drawBkgrnd)

    def _drawLines(self) -> None:  # noqa: N802
        _as_artifact(self.canv, super()._drawLines)


class Drawing(_Drawing):
    """The QR code: an artifact, its content is printed beside it as the check code and text."""

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:  # noqa: N802, N803
        _as_artifact(canvas, lambda: super(Drawing, self).drawOn(canvas, x, y, _sW))
