"""Errors of the printed documents: each names the field and says what is wrong, in Russian."""

from __future__ import annotations


class DocumentError(Exception):
    """Base class: a document could not be produced or checked."""


class InvalidDocumentInput(DocumentError, ValueError):
    """A field of the document's input is missing or malformed.

    ``field`` is the Russian label of the field as it is printed on the form, so that the
    message can be shown to the operator or the client as it is.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class InvalidQrPayload(DocumentError, ValueError):
    """A scanned QR code is not a bankkeys document code (or is damaged)."""
