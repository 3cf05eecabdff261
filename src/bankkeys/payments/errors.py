"""The one error hierarchy of :mod:`bankkeys.payments`.

Messages are shown to the accountant, so they are in Russian; every error also carries its parts
(line, document, 1C key) as attributes for programs.
"""

from __future__ import annotations

from dataclasses import dataclass


class PaymentsError(ValueError):
    """Base class for every error of :mod:`bankkeys.payments`."""


class ExchangeFormatError(PaymentsError):
    """The bytes are not a well-formed 1CClientBankExchange file; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"строка {line}: {message}" if line is not None else message)


class EncodingError(ExchangeFormatError):
    """The declared encoding is missing, unknown, does not decode, or decodes into mojibake."""


class TruncatedFileError(ExchangeFormatError):
    """The file ends inside a section or without ``КонецФайла``."""


class JsonFormatError(PaymentsError):
    """The JSON form is not valid JSON or not a list (structure, not field values)."""


class ExportError(PaymentsError):
    """A value cannot be written into a 1CClientBankExchange file (line break, unencodable)."""


class CanonicalFormError(PaymentsError):
    """Bytes are not the canonical form of a payment order (wrong version, not canonical)."""


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Which document: its own number and its 1-based position in the file (or JSON list)."""

    number: str
    position: int
    line: int | None = None

    def __str__(self) -> str:
        where = f"позиция {self.position}"
        if self.line is not None:
            where += f", строка {self.line}"
        number = self.number or "без номера"
        return f"документ № {number} ({where})"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One failed check of one field; ``key`` is the 1C key (e.g. ``ПлательщикИНН``)."""

    document: DocumentRef
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.document}: поле {self.key}: {self.message}"


class ValidationError(PaymentsError):
    """A document failed the bank's checks; ``errors`` lists every failure, not only the first."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        if not errors:
            raise ValueError("ValidationError needs at least one FieldError")
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))
