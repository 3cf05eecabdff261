"""Where a profile's process stands, derived from the bank's status and the tokens' contents.

Nothing here is stored: closing the UI or losing the network at any step loses nothing, because
the next start asks the bank (status, open request) and looks at the tokens (which key, which
certificate) again. The local binding only adds hints the bank cannot know (a key generated but
not yet sent, the old token of a migration).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import StrEnum

from bankkeys.client import models as m
from bankkeys.client.devices import PresentToken
from bankkeys.client.home import ProfileBinding
from bankkeys.gost.streebog import streebog256
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.errors import PkiError
from bankkeys.tokens import Token, TokenError

OLD_DEVICE_ADVICE = (
    "После успешного прохождения первого платежного поручения, подписанного новым ключом, "
    "уничтожьте старый смарт-ключ!"
)
UNPLUG_WARNING = (
    "Ключевой носитель подключён, а операций с ним сейчас нет. Для предотвращения "
    "мошеннического списания средств извлеките его из компьютера (не оставляйте носитель "
    "подключённым к компьютеру)"
)
SWITCHED_TEXT = "Вы переведены на работу с новым комплектом ключей"


def key_fingerprint(public_key_info: bytes) -> str:
    """The bank's key fingerprint: Streebog-256 of the DER SubjectPublicKeyInfo, lower hex."""
    return streebog256(public_key_info).hexdigest()


@dataclass(frozen=True)
class TokenContents:
    """What a present token holds, read without a PIN (public objects only)."""

    token: PresentToken
    key_fingerprints: dict[str, bytes]  # fingerprint -> key id
    certificate_serials: dict[str, bytes]  # lower-hex certificate serial -> key id

    def has_key(self, key_id: bytes) -> bool:
        return key_id in self.key_fingerprints.values()

    def has_certificate_for(self, key_id: bytes) -> bool:
        return key_id in self.certificate_serials.values()


def read_contents(present: PresentToken, token: Token) -> TokenContents:
    keys = {key_fingerprint(k.public_key_info): k.id for k in token.key_pairs()}
    certs: dict[str, bytes] = {}
    for cert in token.certificates():
        with contextlib.suppress(PkiError):
            certs[format(parse_certificate(cert.der).serial, "x")] = cert.id
    return TokenContents(present, keys, certs)


def safe_contents(present: PresentToken, token: Token) -> TokenContents | None:
    try:
        return read_contents(present, token)
    except TokenError:
        return None


class Stage(StrEnum):
    NOTHING_TO_DO = "nothing_to_do"
    NEED_REQUEST = "need_request"  # generate a key and send a request
    SEND_PENDING = "send_pending"  # a key is on the token, the bank has no request yet
    PRINT_DOCUMENTS = "print_documents"
    SIGN_ACT = "sign_act"
    WAIT_FOR_BANK = "wait_for_bank"
    INSTALL_CERTIFICATE = "install_certificate"  # «Получить сертификат»
    SWITCHED = "switched"
    VISIT_BANK = "visit_bank"


ACTION_TITLES: dict[Stage, str] = {
    Stage.NOTHING_TO_DO: "Действий не требуется",
    Stage.NEED_REQUEST: "Создать запрос на генерацию",
    Stage.SEND_PENDING: "Подписать и отправить в банк",
    Stage.PRINT_DOCUMENTS: "Посмотреть Акт признания сертификата (ключа)",
    Stage.SIGN_ACT: "Подписать Акт признания действующим ключом",
    Stage.WAIT_FOR_BANK: "Ожидайте решения банка",
    Stage.INSTALL_CERTIFICATE: "Получить сертификат",
    Stage.SWITCHED: "Готово",
    Stage.VISIT_BANK: "Обратитесь в банк лично",
}

# Stages in which a plugged-in token has nothing to do (the seeds' advice against fraud).
IDLE_STAGES = frozenset(
    {Stage.NOTHING_TO_DO, Stage.WAIT_FOR_BANK, Stage.PRINT_DOCUMENTS, Stage.SWITCHED,
     Stage.VISIT_BANK}
)  # fmt: skip


@dataclass(frozen=True)
class Progress:
    stage: Stage
    status_text: str  # the bank's words («Принят банком», «Получен новый сертификат», …)
    action: str  # the one clear next action
    explanation: str  # what the bank waits for
    first_key: bool
    request: m.RekeyRequest | None
    current_key_on: TokenContents | None  # the present token with the current certificate
    new_key_on: TokenContents | None  # the present token with the request's (or pending) key
    new_certificate_installed: bool
    pending_key_id: bytes | None
    notes: tuple[str, ...]

    @property
    def token_idle_warning(self) -> bool:
        return self.stage in IDLE_STAGES and "unplug" in self.notes


def derive(
    profile: m.Profile,
    request: m.RekeyRequest | None,
    contents: list[TokenContents],
    binding: ProfileBinding,
) -> Progress:
    """The stage of one profile. ``request`` is the request the bank's status names, if any."""
    status, action = profile.status, profile.next_action
    current = profile.current_certificate
    current_on = None
    if current is not None:
        serial = current.serial.lower()
        current_on = next((c for c in contents if serial in c.certificate_serials), None)

    new_on: TokenContents | None = None
    new_installed = False
    pending: bytes | None = None
    if request is not None:
        fp = request.key_fingerprint.lower()
        new_on = next((c for c in contents if fp in c.key_fingerprints), None)
        if new_on is not None and request.certificate_serial:
            new_installed = request.certificate_serial.lower() in new_on.certificate_serials

    first_key = action.code == "generate_first_key" or (
        status.code == m.INITIAL_GENERATION_REQUIRED and current is None
    )
    notes: list[str] = []
    code = action.code
    if code in ("renew", "generate_first_key"):
        stage = Stage.NEED_REQUEST
        if binding.pending_key_id and binding.target_serial:
            target = next((c for c in contents if c.token.serial == binding.target_serial), None)
            key_id = bytes.fromhex(binding.pending_key_id)
            if (
                target is not None
                and target.has_key(key_id)
                and not target.has_certificate_for(key_id)
            ):
                stage, pending, new_on = Stage.SEND_PENDING, key_id, target
    elif code == "print_and_bring_documents":
        stage = Stage.PRINT_DOCUMENTS
    elif code == "sign_act_electronically":
        stage = Stage.SIGN_ACT
    elif code == "wait_for_bank":
        stage = Stage.WAIT_FOR_BANK
    elif code == "install_certificate":
        stage = Stage.INSTALL_CERTIFICATE
    elif code == "visit_bank":
        stage = Stage.VISIT_BANK
    elif status.code == m.SWITCHED:
        stage = Stage.SWITCHED
    else:
        stage = Stage.NOTHING_TO_DO

    if stage in (Stage.SWITCHED, Stage.NOTHING_TO_DO) and binding.old_token_serial:
        notes.append("destroy_old_token")
    if stage in IDLE_STAGES and contents:
        notes.append("unplug")
    title = ACTION_TITLES[stage]
    if stage is Stage.NEED_REQUEST and first_key:
        title = "Сформировать ключ по коду активации"
    return Progress(
        stage=stage,
        status_text=status.text,
        action=title,
        explanation=action.text,
        first_key=first_key,
        request=request,
        current_key_on=current_on,
        new_key_on=new_on,
        new_certificate_installed=new_installed,
        pending_key_id=pending,
        notes=tuple(notes),
    )
