"""The page furniture shared by every document: A4, fonts, rows of fields, signature lines, the QR.

A thin layer over fpdf2. Automatic page breaks are off: each document decides its pages, and a
page that would overflow is refused (:class:`DocumentError`) rather than silently split, because a
copy of an act that runs onto a second sheet is no longer one signed page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Final

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from bankkeys.bank.documents.errors import DocumentError
from bankkeys.bank.documents.qr import qr_modules

PAGE_WIDTH: Final = 210.0
PAGE_HEIGHT: Final = 297.0
MARGIN_LEFT: Final = 20.0
MARGIN_RIGHT: Final = 15.0
MARGIN_TOP: Final = 15.0
MARGIN_BOTTOM: Final = 15.0
CONTENT_WIDTH: Final = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

SANS: Final = "DejaVuSans"
MONO: Final = "DejaVuSansMono"
BODY_SIZE: Final = 9.5
LINE: Final = 4.4  # mm per line of body text
LABEL_WIDTH: Final = 58.0
QR_SIZE: Final = 30.0


def _font_path(name: str) -> Path:
    # The fonts ship inside the package; as_file gives a real path even from a zipped install.
    resource = resources.files("bankkeys.bank.documents") / "fonts" / name
    with resources.as_file(resource) as path:
        return path


class DocumentPdf:
    """One PDF document being laid out."""

    def __init__(self, *, title: str, author: str, subject: str, created: date) -> None:
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
        pdf.set_auto_page_break(False)
        pdf.add_font(SANS, "", str(_font_path("DejaVuSans.ttf")))
        pdf.add_font(SANS, "B", str(_font_path("DejaVuSans-Bold.ttf")))
        pdf.add_font(MONO, "", str(_font_path("DejaVuSansMono.ttf")))
        # Fixed metadata, so the same input gives the same bytes (the act is signed as bytes).
        pdf.set_creation_date(datetime.combine(created, time(0, 0), tzinfo=UTC))
        pdf.set_title(title)
        pdf.set_author(author)
        pdf.set_subject(subject)
        pdf.set_creator("bankkeys")
        pdf.set_lang("ru-RU")
        pdf.set_line_width(0.2)
        self._pdf = pdf

    # -- pages -------------------------------------------------------------------------------

    def new_page(
        self, *, qr_payload: str, corner_note: str, title: tuple[str, ...], subtitle: str
    ) -> None:
        """Start a page: the QR code top right; beside it a note, the title, a subtitle."""
        self._check_fits()
        pdf = self._pdf
        pdf.add_page()
        self._draw_qr(qr_payload, PAGE_WIDTH - MARGIN_RIGHT - QR_SIZE, MARGIN_TOP)
        width = CONTENT_WIDTH - QR_SIZE - 4
        pdf.set_xy(MARGIN_LEFT, MARGIN_TOP)
        pdf.set_font(SANS, "", 8.5)
        pdf.set_text_color(60, 60, 60)
        pdf.multi_cell(width, 4.0, corner_note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(2)
        pdf.set_font(SANS, "B", 12)
        for line in title:
            pdf.multi_cell(width, 5.5, line, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        pdf.set_font(SANS, "", BODY_SIZE)
        pdf.multi_cell(width, LINE, subtitle, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), MARGIN_TOP + QR_SIZE) + 3)

    def _draw_qr(self, payload: str, x: float, y: float) -> None:
        modules = qr_modules(payload)
        count = len(modules)
        quiet = 2  # modules of quiet zone kept inside the QR_SIZE square
        size = QR_SIZE / (count + 2 * quiet)
        pdf = self._pdf
        pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(modules):
            c = 0
            while c < count:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < count and row[c]:
                    c += 1
                # Runs are drawn as one rectangle each: fewer operators, no hairline seams.
                pdf.rect(
                    x + (start + quiet) * size,
                    y + (r + quiet) * size,
                    (c - start) * size,
                    size,
                    "F",
                )

    def _check_fits(self) -> None:
        if self._pdf.page > 0 and self._pdf.get_y() > PAGE_HEIGHT - MARGIN_BOTTOM:
            raise DocumentError(
                "документ не помещается на страницу A4: "
                "сократите длинные поля (адрес, наименование)"
            )

    # -- text --------------------------------------------------------------------------------

    def paragraph(self, text: str, *, size: float = BODY_SIZE) -> None:
        pdf = self._pdf
        pdf.set_font(SANS, "", size)
        pdf.multi_cell(
            CONTENT_WIDTH, LINE, text, align=Align.J, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.ln(1.5)

    def section(self, heading: str) -> None:
        pdf = self._pdf
        pdf.ln(1)
        pdf.set_font(SANS, "B", BODY_SIZE + 0.5)
        pdf.multi_cell(CONTENT_WIDTH, 5.5, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = pdf.get_y()
        pdf.line(MARGIN_LEFT, y, MARGIN_LEFT + CONTENT_WIDTH, y)
        pdf.ln(1)

    def field(self, label: str, value: str, *, mono: bool = False) -> None:
        """A row: the label on the left, the value (wrapped) on the right."""
        pdf = self._pdf
        top = pdf.get_y()
        pdf.set_font(SANS, "", BODY_SIZE - 0.5)
        pdf.set_text_color(70, 70, 70)
        pdf.set_xy(MARGIN_LEFT, top)
        pdf.multi_cell(
            LABEL_WIDTH - 2, LINE, label, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        label_bottom = pdf.get_y()
        pdf.set_text_color(0, 0, 0)
        if mono:
            pdf.set_font(MONO, "", BODY_SIZE - 0.5)
        else:
            pdf.set_font(SANS, "", BODY_SIZE)
        pdf.set_xy(MARGIN_LEFT + LABEL_WIDTH, top)
        pdf.multi_cell(
            CONTENT_WIDTH - LABEL_WIDTH,
            LINE,
            value,
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_y(max(label_bottom, pdf.get_y()) + 0.4)

    def mono_lines(self, label: str, lines: list[str]) -> None:
        """A label, then fixed lines of monospace text (the key in hex) across the full width."""
        pdf = self._pdf
        pdf.set_font(SANS, "", BODY_SIZE - 0.5)
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(
            CONTENT_WIDTH, LINE, label, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(MONO, "", BODY_SIZE)
        for line in lines:
            pdf.set_x(MARGIN_LEFT + 4)
            pdf.cell(CONTENT_WIDTH - 4, LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.6)

    def signature(self, role: str, name: str, *, stamp: bool = False) -> None:
        """«Role ______________ / И. И. Иванов /», with «М.П.» for the stamp when asked."""
        pdf = self._pdf
        pdf.ln(3)
        top = pdf.get_y()
        pdf.set_font(SANS, "", BODY_SIZE)
        role_width = 72.0
        pdf.set_xy(MARGIN_LEFT, top)
        pdf.multi_cell(role_width, LINE, role, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        role_bottom = pdf.get_y()
        line_x = MARGIN_LEFT + role_width + 2
        base = max(top + LINE, role_bottom) - 0.6
        pdf.line(line_x, base, line_x + 45, base)
        pdf.set_font(SANS, "", 6.5)
        pdf.set_xy(line_x, base + 0.3)
        pdf.cell(45, 3, "(подпись)", align=Align.C)
        pdf.set_font(SANS, "", BODY_SIZE)
        pdf.set_xy(line_x + 47, base - LINE + 0.6)
        pdf.cell(CONTENT_WIDTH - role_width - 49, LINE, f"/ {name} /")
        if stamp:
            pdf.set_xy(line_x + 5, base + 3.5)
            pdf.cell(20, LINE, "М.П.")
        pdf.set_y(max(role_bottom, base + 3.5) + (LINE + 1 if stamp else 1))

    def boxed(self, heading: str, lines: list[str]) -> None:
        """The bank's part: a framed block the bank fills in by hand."""
        pdf = self._pdf
        pdf.ln(3)
        top = pdf.get_y()
        pdf.set_xy(MARGIN_LEFT + 2, top + 1.5)
        pdf.set_font(SANS, "B", BODY_SIZE)
        pdf.cell(CONTENT_WIDTH - 4, 5, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(SANS, "", BODY_SIZE)
        for line in lines:
            pdf.set_x(MARGIN_LEFT + 2)
            pdf.multi_cell(CONTENT_WIDTH - 4, LINE + 1.4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottom = pdf.get_y() + 1.5
        pdf.rect(MARGIN_LEFT, top, CONTENT_WIDTH, bottom - top)
        pdf.set_y(bottom)

    def space(self, mm: float) -> None:
        self._pdf.ln(mm)

    # -- output ------------------------------------------------------------------------------

    def output(self) -> bytes:
        self._check_fits()
        return bytes(self._pdf.output())
