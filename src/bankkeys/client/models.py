"""The bank API's JSON shapes as the client reads them (docs/api.md). Unknown fields are ignored,
so a newer bank does not break an older client; status codes stay plain strings for the same
reason."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class LoginChallenge(Lenient):
    challenge: str
    expires_at: datetime
    message: str = "Введите одноразовый код"


class TokenResponse(Lenient):
    access_token: str
    expires_at: datetime
    role: str
    login: str


class NextAction(Lenient):
    code: str
    text: str
    request_id: int | None = None


class DisplayStatus(Lenient):
    code: str
    text: str
    detail: str | None = None
    request_id: int | None = None
    certificate_serial: str | None = None
    not_after: datetime | None = None


class Organization(Lenient):
    id: int
    name: str
    inn: str
    kpp: str | None = None
    ogrn: str
    address: str = ""


class CertificateSummary(Lenient):
    serial: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None = None


class Profile(Lenient):
    signer_id: int
    login: str
    surname: str
    given_name: str
    position: str
    snils: str = ""
    email: str = ""
    phone: str = ""
    organization: Organization
    status: DisplayStatus
    next_action: NextAction
    current_certificate: CertificateSummary | None = None

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.given_name}"


class SubjectTemplate(Lenient):
    fields: dict[str, str]


class Document(Lenient):
    kind: str
    title: str
    copies: int
    pdf_url: str
    printed_at: datetime | None = None
    received_at: datetime | None = None
    signed_electronically: bool = False


class RekeyRequest(Lenient):
    id: int
    signer_id: int
    kind: str
    path: str
    state: str
    status: DisplayStatus
    accepted_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None
    key_fingerprint: str
    documents: list[Document] = []
    certificate_serial: str | None = None
    certificate_url: str | None = None
    token_model: str | None = None  # the token the certificate was installed on
    token_serial: str | None = None


class IssuedCertificate(Lenient):
    serial: str
    not_before: datetime
    not_after: datetime
    certificate: str  # base64 DER
    pem: str
    chain: list[str]


class Chain(Lenient):
    certificates: list[str]
    crl_url: str = ""
    ca_url: str = ""


# Status codes of the API (docs/api.md) the client acts on.
INITIAL_GENERATION_REQUIRED = "INITIAL_GENERATION_REQUIRED"
RENEWAL_REQUIRED = "RENEWAL_REQUIRED"
ACCEPTED = "ACCEPTED"
ISSUED = "ISSUED"
SWITCHED = "SWITCHED"
ACTIVE = "ACTIVE"
EXPIRED = "EXPIRED"
OPEN_REQUEST_STATUSES = frozenset(
    {"ACCEPTED", "DOCUMENTS_RECEIVED", "AWAITING_SECOND_APPROVAL", "APPROVED", "ISSUED"}
)
