"""The JSON shapes of the client API (``/api/v1``); they are the OpenAPI schema.

Binary values (DER) travel as standard base64 strings. Times are UTC, ISO 8601. Statuses carry a
stable ``code`` for programs and the Russian ``text`` users see (the seeds' words).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# A base64 DER blob; 1 MiB of DER is far beyond any request or certificate.
MAX_B64 = 1_400_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors --------------------------------------------------------------------------------------


class ErrorBody(Strict):
    code: str = Field(description="Machine-readable error class, e.g. SignatureInvalid")
    message: str = Field(description="What went wrong, in Russian, for the user")
    current_status: str | None = Field(
        default=None, description="For refused transitions: the status the object is in"
    )


class ErrorResponse(Strict):
    error: ErrorBody


# --- sign-in -------------------------------------------------------------------------------------


class LoginRequest(Strict):
    login: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class LoginChallenge(Strict):
    """The password was right: the second factor («Дополнительная авторизация») is next."""

    second_factor: Literal["totp"] = "totp"
    challenge: str = Field(description="Opaque, single use; pass it to /auth/second-factor")
    expires_at: datetime
    message: str = "Введите одноразовый код из приложения-аутентификатора"


class SecondFactorRequest(Strict):
    challenge: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=6, max_length=8, pattern=r"^\d{6,8}$")


class TokenResponse(Strict):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_at: datetime
    role: str
    login: str


class ChangePasswordRequest(Strict):
    old_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=12, max_length=200)


# --- profiles ------------------------------------------------------------------------------------


class StatusCode(StrEnum):
    INITIAL_GENERATION_REQUIRED = "INITIAL_GENERATION_REQUIRED"
    RENEWAL_REQUIRED = "RENEWAL_REQUIRED"
    ACCEPTED = "ACCEPTED"
    DOCUMENTS_RECEIVED = "DOCUMENTS_RECEIVED"
    AWAITING_SECOND_APPROVAL = "AWAITING_SECOND_APPROVAL"
    APPROVED = "APPROVED"
    ISSUED = "ISSUED"
    SWITCHED = "SWITCHED"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    REQUEST_EXPIRED = "REQUEST_EXPIRED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


class NextActionCode(StrEnum):
    GENERATE_FIRST_KEY = "generate_first_key"  # activation-code form
    RENEW = "renew"  # re-key signed with the current key
    PRINT_AND_BRING_DOCUMENTS = "print_and_bring_documents"
    SIGN_ACT_ELECTRONICALLY = "sign_act_electronically"
    WAIT_FOR_BANK = "wait_for_bank"
    INSTALL_CERTIFICATE = "install_certificate"
    NONE = "none"
    VISIT_BANK = "visit_bank"


class NextAction(Strict):
    code: NextActionCode
    text: str = Field(description="What to do, in Russian")
    request_id: int | None = None


class DisplayStatusView(Strict):
    code: StatusCode
    text: str = Field(description="Russian display text, with its detail if any")
    detail: str | None = None
    request_id: int | None = None
    certificate_serial: str | None = None
    not_after: datetime | None = None


class OrganizationView(Strict):
    id: int
    name: str
    inn: str
    kpp: str | None
    ogrn: str
    address: str


class CertificateSummary(Strict):
    serial: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None = None


class Profile(Strict):
    """One signer (владелец сертификата) of one organization, as the client sees it."""

    signer_id: int
    login: str
    surname: str
    given_name: str
    position: str
    snils: str
    email: str
    phone: str
    organization: OrganizationView
    status: DisplayStatusView
    next_action: NextAction
    current_certificate: CertificateSummary | None


class SubjectTemplate(Strict):
    """The certificate subject the bank expects in the PKCS#10 (the wizard's fields to check).

    Attribute names follow :class:`bankkeys.pki.names.Name`.
    """

    fields: dict[str, str]


class Me(Strict):
    login: str
    role: str
    signer_id: int | None


# --- requests ------------------------------------------------------------------------------------


class SubmitRequest(Strict):
    """A re-key request: ``request`` is base64 DER of a CMS SignedData (attached) over the PKCS#10,
    signed with the current valid key; for a first key, the bare PKCS#10 with the one-time
    ``activation_code`` from the paper «Реквизиты»."""

    request: str = Field(min_length=4, max_length=MAX_B64, description="base64 DER")
    activation_code: str | None = Field(default=None, min_length=1, max_length=64)


class DocumentKindCode(StrEnum):
    ACCEPTANCE_ACT = "acceptance_act"
    CERTIFICATE_APPLICATION = "certificate_application"
    # «Акт приема-передачи» of the certificate written to a token (seed 003): available once the
    # installation was confirmed with the token's model and serial.
    TRANSFER_ACT = "transfer_act"


class DocumentView(Strict):
    kind: DocumentKindCode
    title: str
    copies: int = Field(description="How many copies to print")
    pdf_url: str
    printed_at: datetime | None
    received_at: datetime | None
    signed_electronically: bool


class RequestView(Strict):
    id: int
    signer_id: int
    kind: Literal["initial", "renewal"]
    path: str = Field(description="old-key, activation-code or remote-signed-act")
    state: str = Field(description="Stored lifecycle state of the request")
    status: DisplayStatusView = Field(description="The signer's derived display status")
    accepted_at: datetime
    documents_received_at: datetime | None
    approved_at: datetime | None
    issued_at: datetime | None
    installed_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    key_fingerprint: str
    documents: list[DocumentView]
    certificate_serial: str | None
    certificate_url: str | None
    token_model: str | None = Field(
        default=None, description="The token the certificate was installed on: its model"
    )
    token_serial: str | None = Field(
        default=None, description="The token the certificate was installed on: its serial"
    )


class ConfirmInstallationRequest(Strict):
    """The token the certificate was written to (seed 003: «Рутокен ЭЦП 3.0», the serial printed
    on it). Both or neither; the bank refuses a model longer than 100 characters or with other
    than letters, digits, spaces and ``. , - _ ( ) / № +``, and a serial longer than 64
    characters or with other than Latin letters, digits and hyphens. With them the bank renders
    the «Акт приема-передачи» (``…/documents/transfer_act.pdf``)."""

    token_model: str | None = Field(default=None, max_length=200, examples=["Рутокен ЭЦП 3.0"])
    token_serial: str | None = Field(default=None, max_length=200, examples=["3220000777"])


class PrintedRequest(Strict):
    copies: int = Field(default=1, ge=1, le=10)


class SignedActRequest(Strict):
    """Remote renewal: a detached CMS SignedData over the acceptance act PDF exactly as
    ``GET …/documents/acceptance_act.pdf`` returned it, signed with the current key."""

    signature: str = Field(min_length=4, max_length=MAX_B64, description="base64 DER")


class CertificateView(Strict):
    serial: str
    not_before: datetime
    not_after: datetime
    certificate: str = Field(description="base64 DER of the issued certificate")
    pem: str
    chain: list[str] = Field(description="PEM certificates from the issuer up to the root")


class ChainView(Strict):
    certificates: list[str] = Field(description="PEM, the bank's CA first")
    crl_url: str
    ca_url: str
