"""1CClientBankExchange (format 1.03) files: bytes → documents, and the bank's statuses → bytes.

Reading is two steps. :func:`read_exchange` checks the *file* (encoding, header, sections, the end
marker) and raises a typed :class:`~bankkeys.payments.errors.ExchangeFormatError` naming the line;
:func:`import_orders` then checks every *document* and returns one result per document, good or bad,
so nothing is lost.

Encoding: the header's ``Кодировка=`` decides — ``Windows`` → Windows-1251, ``DOS`` → CP866,
and (our extension) ``UTF-8``; a UTF-8 byte-order mark means UTF-8. The line ``Кодировка=…`` must
itself be written in the declared encoding, the whole file must decode strictly, a file declared as
an 8-bit code page must not be valid non-ASCII UTF-8, and the decoded text may hold only characters
that occur in payment documents — otherwise :class:`~bankkeys.payments.errors.EncodingError`
(mojibake is refused, never imported). Lines end in CRLF or LF; values are stripped of spaces.

Keys: the payment-order keys of :mod:`bankkeys.payments.keys` are read; ``Плательщик1..4``
(joined with a space) take precedence over ``Плательщик`` (1C writes ``Плательщик=ИНН … name``
beside them), and ``НазначениеПлатежа`` over ``НазначениеПлатежа1..`` (joined with a line break).
Statement-only keys (``IGNORED_KEYS``) are dropped. Any other key is **kept** in
``ImportedDocument.unknown`` for display and audit, but is not part of the payment order and is
never signed: the bank executes exactly what it validated. A key repeated inside one document is an
error (which value would be meant?). Account sections (``СекцияРасчСчет … КонецРасчСчет``,
statements) are checked for closure and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from bankkeys.payments import keys as k
from bankkeys.payments.errors import (
    DocumentRef,
    EncodingError,
    ExchangeFormatError,
    ExportError,
    FieldError,
    TruncatedFileError,
    ValidationError,
)
from bankkeys.payments.model import DocumentStatus, ImportedDocument, PaymentOrder, Verdict
from bankkeys.payments.validate import order_from_fields, parse_date

MAGIC: Final = "1CClientBankExchange"
FORMAT_VERSION: Final = "1.03"
BOM: Final = b"\xef\xbb\xbf"
DOCUMENT_SECTION: Final = "СекцияДокумент"
DOCUMENT_END: Final = "КонецДокумента"
ACCOUNT_SECTION: Final = "СекцияРасчСчет"
ACCOUNT_END: Final = "КонецРасчСчет"
FILE_END: Final = "КонецФайла"
ENCODING_KEY: Final = "Кодировка"

# Declared name → Python codec, and back for writing.
DECLARED_CODECS: Final = {"windows": "cp1251", "dos": "cp866", "utf-8": "utf-8", "utf8": "utf-8"}
CODEC_DECLARATIONS: Final = {"cp1251": "Windows", "cp866": "DOS", "utf-8": "UTF-8"}
CODEC_NAMES: Final = {"cp1251": "Windows-1251", "cp866": "CP866 (DOS)", "utf-8": "UTF-8"}

# Characters a payment file may hold besides printable ASCII and Russian letters; what is outside
# (box drawing, Ђ/Ѓ/Љ…, control characters) is what a wrong code page produces. CR and LF are line
# ends; a stray CR inside a value is left to the field checks.
_IMPLAUSIBLE = re.compile("[^\t\r\n -~А-яЁё№«»–—…‘’‚“”„•§©®°±·\u00a0]")
_NUMBERED = re.compile(r"(Плательщик|Получатель|НазначениеПлатежа)([0-9]+)")


@dataclass(frozen=True, slots=True)
class RawField:
    key: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One ``СекцияДокумент`` as written: kind, 1-based position among documents, its lines."""

    kind: str
    position: int
    line: int
    fields: tuple[RawField, ...]

    def value(self, key: str) -> str:
        return next((f.value for f in self.fields if f.key == key), "")

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(self.value(k.NUMBER), self.position, self.line)

    def logical_fields(self) -> dict[str, str]:
        """The document's payment-order fields with multi-line keys joined (see module doc)."""
        plain: dict[str, str] = {}
        numbered: dict[str, list[tuple[int, str]]] = {}
        for f in self.fields:
            match = _NUMBERED.fullmatch(f.key)
            if match is not None:
                numbered.setdefault(match.group(1), []).append((int(match.group(2)), f.value))
            elif f.key in _MODEL_KEYS:
                plain[f.key] = f.value
        for base, parts in numbered.items():
            lines = [value for _, value in sorted(parts) if value]
            if base == k.PURPOSE:
                if k.PURPOSE not in plain:
                    plain[k.PURPOSE] = "\n".join(lines)
            elif lines:
                plain[base] = " ".join(lines)
        return plain

    def unknown(self) -> tuple[tuple[str, str], ...]:
        known = _MODEL_KEYS | k.IGNORED_KEYS | {k.BANK_STATUS, k.REFUSAL_REASON}
        return tuple(
            (f.key, f.value)
            for f in self.fields
            if f.key not in known and _NUMBERED.fullmatch(f.key) is None
        )

    def status(self) -> DocumentStatus | None:
        """The bank's verdict when this is a file the bank exported (our ``СтатусБанка`` key)."""
        fields = {f.key: f for f in self.fields}
        status = fields.get(k.BANK_STATUS)
        if status is None:
            return None
        reason = fields[k.REFUSAL_REASON].value if k.REFUSAL_REASON in fields else ""
        try:
            if status.value == k.STATUS_ACCEPTED:
                return DocumentStatus(Verdict.ACCEPTED, reason)
            if status.value == k.STATUS_REFUSED:
                return DocumentStatus(Verdict.REFUSED, reason)
        except ValueError as exc:
            raise ExchangeFormatError(
                f"{self.ref}: статус и причина не согласованы", status.line
            ) from exc
        raise ExchangeFormatError(f"{self.ref}: неизвестный статус {status.value!r}", status.line)


def _model_keys() -> frozenset[str]:
    party = {prefix + suffix for prefix in (k.PAYER, k.PAYEE) for suffix in k.PARTY_SUFFIXES}
    document = {
        k.NUMBER,
        k.DATE,
        k.AMOUNT,
        k.PAYMENT_KIND,
        k.OPERATION_KIND,
        k.UIN,
        k.PRIORITY,
        k.DUE_DATE,
        k.PURPOSE,
    }
    return frozenset(party | document | set(k.BUDGET_KEYS))


_MODEL_KEYS: Final = _model_keys()


@dataclass(frozen=True, slots=True)
class ExchangeFile:
    """A well-formed file: its codec, header lines (in order, repeats kept) and documents."""

    codec: str
    header: tuple[RawField, ...]
    documents: tuple[RawDocument, ...]

    def header_values(self, key: str) -> tuple[str, ...]:
        return tuple(f.value for f in self.header if f.key == key)


# --- decoding -------------------------------------------------------------------------------


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _find_declaration(body: bytes, line_offset: int) -> tuple[str, str, int] | None:
    """(declared value, codec the key itself is written in, line) of the first ``Кодировка=``."""
    for index, raw in enumerate(body.split(b"\n")):
        for codec in CODEC_NAMES:
            prefix = f"{ENCODING_KEY}=".encode(codec)
            if raw.startswith(prefix):
                value = raw[len(prefix) :].rstrip(b"\r").decode("ascii", "replace").strip()
                return value, codec, index + 1 + line_offset
    return None


def decode(data: bytes) -> tuple[str, str]:
    """The text of a 1C file and the codec it was in; raises ``EncodingError`` (see module doc)."""
    has_bom = data.startswith(BOM)
    body = data[len(BOM) :] if has_bom else data
    if not body.startswith(MAGIC.encode("ascii")):
        raise ExchangeFormatError(f"это не файл 1CClientBankExchange: первая строка не {MAGIC}", 1)
    found = _find_declaration(body, 0)
    if found is None:
        if not has_bom:
            raise EncodingError("в заголовке нет строки Кодировка= (Windows или DOS)")
        codec = "utf-8"
    else:
        value, written_in, line = found
        declared = DECLARED_CODECS.get(value.lower())
        if declared is None:
            raise EncodingError(f"неизвестная кодировка {value!r}: ожидается Windows или DOS", line)
        if has_bom and declared != "utf-8":
            raise EncodingError(
                f"файл начинается с метки UTF-8, а объявлена кодировка {value}", line
            )
        if written_in != declared:
            raise EncodingError(
                f"объявлена кодировка {CODEC_NAMES[declared]}, а файл записан в "
                f"{CODEC_NAMES[written_in]}",
                line,
            )
        codec = declared
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"байты не читаются в кодировке {CODEC_NAMES[codec]}", _line_of(body, exc.start)
        ) from None
    if codec != "utf-8" and not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            first = next(i for i, b in enumerate(body) if b > 0x7F)
            raise EncodingError(
                f"объявлена кодировка {CODEC_NAMES[codec]}, а текст записан в UTF-8",
                _line_of(body, first),
            )
    odd = _IMPLAUSIBLE.search(text)
    if odd is not None:
        line = text.count("\n", 0, odd.start()) + 1
        shown = " ".join(f"U+{ord(ch):04X}" for ch in sorted(set(_IMPLAUSIBLE.findall(text)))[:5])
        raise EncodingError(
            f"символы, которых не бывает в платежных документах ({shown}): "
            f"файл не в кодировке {CODEC_NAMES[codec]}?",
            line,
        )
    return text, codec


# --- structure ------------------------------------------------------------------------------


def _split(line: str, number: int) -> tuple[str, str]:
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise ExchangeFormatError(f"ожидается строка вида Ключ=Значение, а не {line!r}", number)
    return key.strip(), value.strip()


def read_exchange(data: bytes) -> ExchangeFile:
    """Parse the file structure; raises ``ExchangeFormatError`` (or a subclass) naming the line."""
    text, codec = decode(data)
    lines = [line.rstrip("\r").strip() for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    if lines[0] != MAGIC:
        raise ExchangeFormatError(f"первая строка должна быть ровно {MAGIC}", 1)
    header: list[RawField] = []
    documents: list[RawDocument] = []
    current: tuple[str, int, list[RawField]] | None = None  # kind, opening line, fields
    account_open: int | None = None
    seen_section = False
    ended_at: int | None = None
    for number, line in enumerate(lines[1:], start=2):
        if ended_at is not None:
            if line:
                raise ExchangeFormatError(f"текст после {FILE_END} (строка {ended_at})", number)
            continue
        if not line:
            continue
        if current is not None:
            kind, opened, fields = current
            if line == DOCUMENT_END:
                position = len(documents) + 1
                documents.append(RawDocument(kind, position, opened, tuple(fields)))
                current = None
            elif line in (FILE_END, ACCOUNT_SECTION) or line.startswith(DOCUMENT_SECTION + "="):
                raise TruncatedFileError(
                    f"документ из строки {opened} не закрыт строкой {DOCUMENT_END}", number
                )
            else:
                key, value = _split(line, number)
                if any(f.key == key for f in fields):
                    raise ExchangeFormatError(f"ключ {key} повторяется в документе", number)
                fields.append(RawField(key, value, number))
        elif account_open is not None:
            if line == ACCOUNT_END:
                account_open = None
            elif line in (FILE_END, ACCOUNT_SECTION) or line.startswith(DOCUMENT_SECTION + "="):
                raise TruncatedFileError(
                    f"секция из строки {account_open} не закрыта строкой {ACCOUNT_END}", number
                )
            else:
                _split(line, number)
        elif line == FILE_END:
            ended_at = number
        elif line == ACCOUNT_SECTION:
            account_open, seen_section = number, True
        elif line in (DOCUMENT_END, ACCOUNT_END):
            raise ExchangeFormatError(f"{line} без открытой секции", number)
        else:
            key, value = _split(line, number)
            if key == DOCUMENT_SECTION:
                current, seen_section = (value, number, []), True
            elif seen_section:
                raise ExchangeFormatError(f"строка {key}= вне секции после начала секций", number)
            else:
                header.append(RawField(key, value, number))
    last = len(lines)
    if current is not None:
        raise TruncatedFileError(
            f"файл обрывается внутри документа из строки {current[1]}: нет {DOCUMENT_END}", last
        )
    if account_open is not None:
        raise TruncatedFileError(
            f"файл обрывается внутри секции из строки {account_open}: нет {ACCOUNT_END}", last
        )
    if ended_at is None:
        raise TruncatedFileError(f"нет строки {FILE_END}: файл обрезан?", last)
    return ExchangeFile(codec, tuple(header), tuple(documents))


def import_document(document: RawDocument) -> ImportedDocument:
    """Validate one parsed document into an order, or its errors."""
    ref = document.ref
    status = document.status()
    if document.kind != k.PAYMENT_ORDER_KIND:
        error = FieldError(
            ref, DOCUMENT_SECTION, f"вид документа «{document.kind}» не поддерживается"
        )
        return ImportedDocument(ref, None, (error,), document.unknown(), status)
    try:
        order = order_from_fields(document.logical_fields(), ref)
    except ValidationError as exc:
        return ImportedDocument(ref, None, exc.errors, document.unknown(), status)
    return ImportedDocument(ref, order, (), document.unknown(), status)


def import_orders(data: bytes) -> tuple[ImportedDocument, ...]:
    """Read a 1C file and check every document; file-level faults raise, document faults return."""
    return tuple(import_document(document) for document in read_exchange(data).documents)


# --- writing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """A document to write back: logical 1C fields in writing order, and the bank's verdict."""

    fields: tuple[tuple[str, str], ...]
    status: DocumentStatus | None = None

    @classmethod
    def of_order(cls, order: PaymentOrder, status: DocumentStatus | None = None) -> ExportEntry:
        return cls(tuple(k.order_fields(order).items()), status)

    @classmethod
    def of_raw(cls, document: RawDocument, status: DocumentStatus | None = None) -> ExportEntry:
        """A document that did not validate is answered with its own fields, as received."""
        return cls(tuple(document.logical_fields().items()), status)


def _document_lines(entry: ExportEntry) -> Iterable[tuple[str, str]]:
    for key, value in entry.fields:
        if key in (k.PAYER, k.PAYEE):
            # 1C shows the numbered line; the plain key is what old readers look at.
            yield key, value
            yield key + "1", value
        elif key == k.PURPOSE and "\n" in value:
            for index, part in enumerate(value.split("\n"), start=1):
                yield f"{k.PURPOSE}{index}", part
        elif value or key in (k.NUMBER, k.DATE, k.AMOUNT):
            yield key, value
    if entry.status is not None:
        accepted = entry.status.verdict is Verdict.ACCEPTED
        yield k.BANK_STATUS, k.STATUS_ACCEPTED if accepted else k.STATUS_REFUSED
        if not accepted:
            yield k.REFUSAL_REASON, entry.status.reason


def _dates(entries: Sequence[ExportEntry]) -> list[date]:
    found = []
    for entry in entries:
        value = dict(entry.fields).get(k.DATE, "")
        try:
            found.append(parse_date(value))
        except ValueError:
            continue
    return found


def write_exchange(
    entries: Sequence[ExportEntry],
    *,
    created: datetime,
    sender: str = "bankkeys",
    receiver: str = "",
    codec: str = "cp1251",
) -> bytes:
    """A 1CClientBankExchange file (CRLF) of payment orders with the bank's statuses.

    Readable by :func:`read_exchange`; 1C itself ignores the status keys it does not know.
    Raises ``ExportError`` for a value with a line break or a character the codec cannot hold.
    """
    if codec not in CODEC_DECLARATIONS:
        raise ExportError(f"кодировка {codec!r} не поддерживается: cp1251, cp866 или utf-8")
    dates = _dates(entries) or [created.date()]
    accounts = dict.fromkeys(dict(e.fields).get(k.PAYER + k.ACCOUNT, "") for e in entries)
    head: list[tuple[str, str]] = [
        ("ВерсияФормата", FORMAT_VERSION),
        (ENCODING_KEY, CODEC_DECLARATIONS[codec]),
        ("Отправитель", sender),
        ("Получатель", receiver),
        ("ДатаСоздания", created.strftime("%d.%m.%Y")),
        ("ВремяСоздания", created.strftime("%H:%M:%S")),
        ("ДатаНачала", k.format_date(min(dates))),
        ("ДатаКонца", k.format_date(max(dates))),
    ]
    head += [("РасчСчет", account) for account in accounts if account]
    head.append(("Документ", k.PAYMENT_ORDER_KIND))
    out: list[str] = [MAGIC]
    out += [_line(key, value) for key, value in head]
    for position, entry in enumerate(entries, start=1):
        out.append(_line(DOCUMENT_SECTION, k.PAYMENT_ORDER_KIND))
        out += [_line(key, value, position) for key, value in _document_lines(entry)]
        out.append(DOCUMENT_END)
    out.append(FILE_END)
    text = "\r\n".join(out) + "\r\n"
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise ExportError(
            f"строка {line}: символ U+{ord(text[exc.start]):04X} не записать в {CODEC_NAMES[codec]}"
        ) from None


def _line(key: str, value: str, position: int | None = None) -> str:
    if "\n" in value or "\r" in value:
        where = f"документ на позиции {position}: " if position else ""
        raise ExportError(f"{where}значение {key} содержит перевод строки")
    return f"{key}={value}"
