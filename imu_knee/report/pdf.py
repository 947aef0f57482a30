"""The report as a PDF, laid out with reportlab (pure Python; no browser involved).

Text uses the DejaVu Sans font that ships with matplotlib (wide Unicode coverage for names
and notes). Every text passed to a reportlab Paragraph is XML-escaped first (Paragraph
understands a small markup language). Three parts start on new pages: the summary (facts, findings,
exercise plan), the measurements (tables, trend, figures) and the part for the therapist.
Every page carries a one-line reminder that the report is not a diagnosis.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate,
                                Spacer, Table as RLTable, TableStyle)

from .content import Figure, ReportContent, Table

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
BLUE = colors.HexColor("#0072B2")
ORANGE = colors.HexColor("#E69F00")
VERMILLION = colors.HexColor("#D55E00")
MARGIN = 16 * mm
FOOTER = ("Not a diagnosis. If there is no improvement after 4-6 weeks, or pain increases, "
          "see a physical therapist.")

_fonts_ready = False
# Images go into the PDF as binary (Flate) streams: ASCII85 text on top makes the file a
# quarter larger, and reportlab's pure-Python ASCII85 encoder costs ~40 ms per report.
rl_config.useA85 = 0


def _register_fonts() -> None:
    global _fonts_ready
    if _fonts_ready:
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                  boldItalic=FONT_BOLD)
    _fonts_ready = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, alignment=TA_LEFT,
                          spaceAfter=4)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16,
                             spaceBefore=6, spaceAfter=6, textColor=BLUE, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=base, fontName=FONT_BOLD, fontSize=10.5, leading=13,
                             spaceBefore=6, spaceAfter=3, keepWithNext=1),
        "box": ParagraphStyle("box", parent=base, backColor=colors.HexColor("#EAF3FA"),
                              borderPadding=5, spaceBefore=4, spaceAfter=8),
        "warn": ParagraphStyle("warn", parent=base, fontSize=8.5, leading=11,
                               backColor=colors.HexColor("#FFF6E0"), borderPadding=4,
                               spaceBefore=3, spaceAfter=6),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9, spaceAfter=0),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6.2, leading=7.4, spaceAfter=0),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _pb(label: str, text: str, style) -> Paragraph:
    """A paragraph with a bold lead-in (both escaped)."""
    return Paragraph(f"<b>{escape(label)}</b> {escape(str(text))}", style)


def _table(t: Table, st: dict, width: float, tiny: bool = False) -> list:
    cell = st["tiny"] if tiny else st["cell"]
    data = [[_p(c, cell) for c in t.columns]] + [[_p(c, cell) for c in row] for row in t.rows]
    tbl = RLTable(data, repeatRows=1, hAlign="LEFT", colWidths=_col_widths(t, width))
    tbl.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#BBBBBB")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
    ]))
    out = []
    if t.caption:
        out.append(_p(t.caption, st["h3"]))
    out.append(tbl)
    if t.note:
        out.append(_p(t.note, st["small"]))
    out.append(Spacer(1, 4))
    return out


def _col_widths(t: Table, width: float) -> list[float]:
    """Widths from the text in each column: never narrower than its longest word, long cells
    wrap (headings count less: they wrap more easily)."""
    need = []
    for k, head in enumerate(t.columns):
        texts = [str(r[k]) for r in t.rows]
        word = max((len(w) for x in texts + [str(head)] for w in x.split()), default=1)
        longest = max((len(x) for x in texts), default=1)
        need.append(max(4.0, word + 1.0, min(32.0, 0.75 * longest), 0.5 * len(str(head))))
    total = sum(need)
    return [width * n / total for n in need]


def _figure(f: Figure, st: dict, width: float) -> list:
    if f.png is None:
        return [_p(f.title, st["h3"]), _p(f.note, st["small"])]
    w_px, h_px = ImageReader(io.BytesIO(f.png)).getSize()
    w = min(width, w_px * 72.0 / 110.0)
    h = w * h_px / w_px
    return [KeepTogether([_p(f.title, st["h3"]), Image(io.BytesIO(f.png), width=w, height=h),
                          _p(f.caption, st["small"])])]


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 7)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawString(MARGIN, 9 * mm, FOOTER)
    canvas.drawRightString(A4[0] - MARGIN, 9 * mm, f"page {doc.page}")
    canvas.restoreState()


def story(c: ReportContent, width: float) -> list:
    st = _styles()
    s: list = [_p(c.title, st["h1"]), _p(f"Made by imu-knee {c.version} on {c.generated}", st["small"])]
    facts = RLTable([[_p(k, ParagraphStyle("k", parent=st["cell"], fontName=FONT_BOLD, fontSize=9, leading=11)),
                      _p(v, ParagraphStyle("v", parent=st["cell"], fontSize=9, leading=11))]
                     for k, v in c.facts], colWidths=[32 * mm, width - 32 * mm], hAlign="LEFT")
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    s += [Spacer(1, 4), facts, Spacer(1, 6)]
    if c.notes:
        s += [_pb("Notes:", c.notes, st["body"])]
    s += [_p(" ".join(c.headline), st["box"])]
    s += [_p(w, st["warn"]) for w in c.warnings]
    s += [_pb("Please read:", c.disclaimer, st["small"])]
    s.append(_p("What stood out", st["h2"]))
    if not c.findings:
        s.append(_p("Nothing worth flagging in this session.", st["body"]))
    for f in c.findings:
        s.append(KeepTogether([
            _p(f"{f.title} — {f.side_words}", st["h3"]),
            _pb("What was measured:", f.evidence, st["body"]),
            _pb("Try right away:", f.cue, st["body"]),
            _pb("What this often goes with:", f.resembles, st["body"]),
            _p(f"How sure: {f.confidence_label}; based on {len(f.steps_s)} step(s), ringed in the plots.",
               st["small"])]))
    if c.not_assessed:
        s.append(_p("Not checked in this recording", st["h3"]))
        s += [_p("• " + n, st["small"]) for n in c.not_assessed]

    s += [_p("Your exercise plan", st["h2"])]
    if c.quick_fix:
        s.append(_p("Right away, when walking", st["h3"]))
        s += [_p("• " + q, st["body"]) for q in c.quick_fix]
    if c.plan:
        heading = [_p("Exercises (long-term fix)", st["h3"])]
        for e in c.plan:
            block = [_p(e.name, ParagraphStyle("exh", parent=st["body"], fontName=FONT_BOLD, spaceAfter=1)),
                     _p("for: " + "; ".join(e.helps_with), st["small"]), _p(e.instructions, st["body"]),
                     _pb("How much:", e.dosage, st["body"])]
            if e.progression:
                block.append(_pb("Next step:", e.progression, st["body"]))
            s.append(KeepTogether(heading + block + [Spacer(1, 4)]))
            heading = []
    else:
        s.append(_p("No exercises suggested from this session.", st["body"]))

    s += [PageBreak(), _p("Your measurements", st["h2"])]
    s += _table(c.activity_table, st, width)
    if c.side_table is not None:
        s += _table(c.side_table, st, width)
    s += [_p("Compared with earlier sessions", st["h3"]), _p(c.trend.message, st["body"])]
    if c.trend.figure is not None:
        s += _figure(c.trend.figure, st, width)
    if c.trend.table is not None:
        s += _table(c.trend.table, st, width)
    if c.trend.persisting:
        s.append(_p("Patterns seen in session after session:", st["h3"]))
        s += [_p("• " + m, st["body"]) for m in c.trend.persisting]
    for fig in c.figures:
        s += _figure(fig, st, width)

    s += [PageBreak(), _p("For the therapist", st["h2"])]
    for t in c.therapist_tables:
        s += _table(t, st, width, tiny=len(t.columns) > 8)
    s += _table(c.step_table_pdf, st, width, tiny=True)
    return s


def render_pdf(c: ReportContent) -> tuple[bytes, int]:
    """The PDF bytes and its number of pages."""
    _register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=14 * mm, bottomMargin=16 * mm, title=c.title,
                            author="imu-knee", subject="Walking and stairs report",
                            creator=f"imu-knee {c.version}")
    doc.build(story(c, doc.width), onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue(), doc.page
