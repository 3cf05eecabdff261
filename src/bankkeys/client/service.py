"""The one facade the CLI and the local web UI both use: connect, sign in, the home page, and
every step of the re-key wizard. Each method does one step to completion or raises a typed error
having changed nothing it cannot redo; where the process stands is always re-derived."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bankkeys.client import models as m
from bankkeys.client import pins, rekey
from bankkeys.client.api import BankApi
from bankkeys.client.devices import Devices, PresentToken, open_present, pin_policy
from bankkeys.client.errors import (
    BankRefused,
    CertificateRefused,
    NotSignedIn,
    TokenNeeded,
    WizardError,
)
from bankkeys.client.fields import RequestField, build_subject, request_fields
from bankkeys.client.home import BankEntry, ClientHome, ProfileBinding, Session, bank_id_for
from bankkeys.client.progress import (
    SWITCHED_TEXT,
    Progress,
    Stage,
    TokenContents,
    derive,
    safe_contents,
)
from bankkeys.client.trust import check_pinned, fingerprint, parse_ca
from bankkeys.pki.certificates import Certificate
from bankkeys.tokens import KdfParams, KeyInfo, SoftwareContainer, Token
from bankkeys.tokens.policy import RUTOKEN_ECP_3


@dataclass(frozen=True)
class ConnectResult:
    bank_id: str
    ca_fingerprint: str
    ca_subject: str
    newly_pinned: bool


TRANSFER_ACT = "transfer_act"
_MODEL_PUNCTUATION = frozenset(" .,-_()/№+")


@dataclass(frozen=True)
class TransferAct:
    """«Акт приема-передачи» of a certificate written to a new token (seed 003, step 21)."""

    request_id: int
    document: m.Document
    token_model: str
    token_serial: str


@dataclass(frozen=True)
class ProfileState:
    bank_id: str
    profile: m.Profile
    progress: Progress
    binding: ProfileBinding
    transfer_act: TransferAct | None = None  # after a migration, once the bank has it


def token_details(present: PresentToken) -> tuple[str | None, str | None]:
    """The token's model and serial as the bank accepts them (what the user reads on the token),
    or nothing when they do not fit: the installation is confirmed all the same."""
    model, serial = present.model.strip(), present.serial.strip()
    model_ok = 0 < len(model) <= 100 and all(
        ch.isalnum() or ch in _MODEL_PUNCTUATION for ch in model
    )
    serial_ok = 0 < len(serial) <= 64 and serial.isascii() and serial.replace("-", "").isalnum()
    return (model, serial) if model_ok and serial_ok else (None, None)


def find_transfer_act(requests: list[m.RekeyRequest], signer_id: int) -> TransferAct | None:
    """The signer's newest request whose transfer act the bank offers."""
    for request in requests:
        if request.signer_id != signer_id:
            continue
        for doc in request.documents:
            if doc.kind == TRANSFER_ACT and request.token_model and request.token_serial:
                return TransferAct(request.id, doc, request.token_model, request.token_serial)
    return None


class ClientService:
    def __init__(
        self,
        home: ClientHome | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.home = home or ClientHome()
        self.clock = clock
        self._transport = transport

    # ----------------------------------------------------------------- the bank

    def _api(self, entry: BankEntry, access_token: str | None = None) -> BankApi:
        return BankApi(
            entry.url,
            access_token=access_token,
            proxy=entry.proxy,
            tls_ca_file=entry.tls_ca_file,
            transport=self._transport,
        )

    def _presented_ca(self, api: BankApi) -> Certificate:
        chain = api.ca_chain()
        if not chain.certificates:
            raise CertificateRefused("Банк не прислал сертификат своего УЦ")
        return parse_ca(chain.certificates[0])

    def connect(
        self,
        url: str,
        *,
        ca_file: Path | None = None,
        proxy: str | None = None,
        tls_ca_file: str | None = None,
    ) -> ConnectResult:
        """Remember the bank and pin its CA: the given file, else what the bank presents now
        (first use). A bank already pinned must present the same CA."""
        bank_id = bank_id_for(url)
        config = self.home.load()
        known = config.banks.get(bank_id)
        entry = BankEntry(url.rstrip("/"), known.ca_der if known else None, proxy, tls_ca_file)
        with self._api(entry) as api:
            presented = self._presented_ca(api)
        pinned = entry.ca_der
        if ca_file is not None:
            given = parse_ca(Path(ca_file).read_bytes())
            check_pinned(given.der, presented.der)
            if pinned is not None:
                check_pinned(pinned, given.der)
            pinned = given.der
        elif pinned is not None:
            check_pinned(pinned, presented.der)
        newly = entry.ca_der is None
        self.home.set_bank(
            bank_id, BankEntry(entry.url, pinned or presented.der, proxy, tls_ca_file)
        )
        return ConnectResult(bank_id, fingerprint(presented.der), str(presented.subject), newly)

    def _pinned_ca(self, api: BankApi, entry: BankEntry) -> Certificate:
        """The pinned CA, after checking the bank still presents it."""
        presented = self._presented_ca(api)
        if entry.ca_der is None:
            raise WizardError("Сертификат УЦ банка не сохранён: подключитесь к банку заново")
        check_pinned(entry.ca_der, presented.der)
        return parse_ca(entry.ca_der)

    def sign_in_start(self, login: str, password: str, bank_id: str | None = None) -> str:
        _, entry = self.home.bank(bank_id)
        with self._api(entry) as api:
            return api.login(login, password).challenge

    def sign_in_finish(self, challenge: str, code: str, bank_id: str | None = None) -> str:
        chosen, entry = self.home.bank(bank_id)
        with self._api(entry) as api:
            self._pinned_ca(api, entry)
            answer = api.second_factor(challenge, code.strip())
        self.home.save_session(
            chosen, Session(answer.access_token, answer.expires_at, answer.login)
        )
        return answer.login

    def sign_out(self, bank_id: str | None = None) -> None:
        chosen, entry = self.home.bank(bank_id)
        session = self.home.load_session(chosen)
        if session is not None:
            with (
                contextlib.suppress(NotSignedIn, BankRefused),
                self._api(entry, session.access_token) as api,
            ):
                api.logout()
        self.home.drop_session(chosen)

    @contextlib.contextmanager
    def session(self, bank_id: str | None = None) -> Iterator[tuple[str, BankEntry, BankApi]]:
        chosen, entry = self.home.bank(bank_id)
        stored = self.home.load_session(chosen)
        if stored is None or stored.expires_at <= self.clock():
            raise NotSignedIn()
        api = self._api(entry, stored.access_token)
        try:
            yield chosen, entry, api
        except NotSignedIn:
            self.home.drop_session(chosen)
            raise
        finally:
            api.close()

    def signed_in(self, bank_id: str | None = None) -> bool:
        try:
            chosen, _ = self.home.bank(bank_id)
        except WizardError:
            return False
        stored = self.home.load_session(chosen)
        return stored is not None and stored.expires_at > self.clock()

    # ----------------------------------------------------------------- tokens

    def devices(self) -> Devices:
        return Devices(self.home.load())

    def tokens(self) -> list[PresentToken]:
        return self.devices().present()

    def contents(self, devices: Devices | None = None) -> list[TokenContents]:
        devices = devices or self.devices()
        found = []
        for present in devices.present():
            with self._opened(devices, present) as token:
                item = safe_contents(present, token)
            if item is not None:
                found.append(item)
        return found

    @contextlib.contextmanager
    def _opened(self, devices: Devices, present: PresentToken) -> Iterator[Token]:
        token = open_present(present, devices._pkcs11())
        try:
            yield token
        finally:
            token.close()

    @contextlib.contextmanager
    def open_token(self, serial: str) -> Iterator[tuple[PresentToken, Token]]:
        devices = self.devices()
        present = devices.find(serial)
        if present is None:
            raise TokenNeeded(
                f"Подключите к компьютеру ключевой носитель № {serial}", serial=serial
            )
        with self._opened(devices, present) as token:
            yield present, token

    def create_container(
        self, folder: Path, label: str, *, kdf: KdfParams | None = None
    ) -> PresentToken:
        """A software key container in ``folder`` (a flash drive, seed 004) with factory PINs,
        registered so that it is found like a token."""
        container = SoftwareContainer.create(Path(folder), label, policy=RUTOKEN_ECP_3, kdf=kdf)
        self.home.add_container(Path(folder))
        info = container.info()
        container.close()
        found = self.devices().find(info.serial)
        assert found is not None
        return found

    def add_container(self, folder: Path) -> PresentToken:
        container = SoftwareContainer(Path(folder))
        serial = container.info().serial
        container.close()
        self.home.add_container(Path(folder))
        found = self.devices().find(serial)
        assert found is not None
        return found

    def change_default_pins(
        self, serial: str, new_user: str, new_user_again: str, new_admin: str, new_admin_again: str
    ) -> None:
        with self.open_token(serial) as (present, token):
            policy = pin_policy(present, token)
            pins.replace_defaults(
                token, policy, new_user, new_user_again, new_admin, new_admin_again
            )

    # ----------------------------------------------------------------- profiles

    def overview(self, bank_id: str | None = None) -> list[ProfileState]:
        with self.session(bank_id) as (chosen, _entry, api):
            profiles = api.profiles()
            contents = self.contents()
            return [self._state(chosen, api, p, contents) for p in profiles]

    def state(self, signer_id: int, bank_id: str | None = None) -> ProfileState:
        with self.session(bank_id) as (chosen, _entry, api):
            return self._state(chosen, api, api.profile(signer_id), self.contents())

    def _state(
        self, bank_id: str, api: BankApi, profile: m.Profile, contents: list[TokenContents]
    ) -> ProfileState:
        request_id = profile.status.request_id or profile.next_action.request_id
        request = api.request(request_id) if request_id else None
        binding = self.home.binding(bank_id, profile.signer_id)
        progress = derive(profile, request, contents, binding)
        if progress.stage not in (Stage.NEED_REQUEST, Stage.SEND_PENDING) and (
            binding.pending_key_id or binding.pending_request
        ):
            # The bank has the request (its answer may have been lost): the hint is spent.
            binding = self.home.update_binding(
                bank_id, profile.signer_id, pending_key_id=None, pending_request=None
            )
        if progress.current_key_on is not None and (
            binding.token_serial != progress.current_key_on.token.serial
        ):
            binding = self.home.update_binding(
                bank_id, profile.signer_id, token_serial=progress.current_key_on.token.serial
            )
        act = None
        if "destroy_old_token" in progress.notes:
            # A migration: the certificate went to a new token; the act is printed for the bank.
            act = find_transfer_act(api.requests(), profile.signer_id)
        return ProfileState(bank_id, profile, progress, binding, act)

    def fields(self, signer_id: int, bank_id: str | None = None) -> list[RequestField]:
        with self.session(bank_id) as (_chosen, _entry, api):
            return request_fields(api.subject_template(signer_id).fields)

    # ----------------------------------------------------------------- the wizard

    def generate(
        self,
        signer_id: int,
        target_serial: str,
        pin: str,
        corrections: Mapping[str, str] | None = None,
        bank_id: str | None = None,
    ) -> ProfileState:
        """Generate the new key on the chosen token and build its PKCS#10 (kept as a hint, it is
        public), so that sending needs only the current token (seed 003, step 10)."""
        with self.session(bank_id) as (chosen, _entry, api):
            profile = api.profile(signer_id)
            state = self._state(chosen, api, profile, self.contents())
            if state.progress.stage not in (Stage.NEED_REQUEST, Stage.SEND_PENDING):
                raise WizardError(
                    f"Новый запрос сейчас не нужен: статус «{state.progress.status_text}»"
                )
            subject = build_subject(api.subject_template(signer_id).fields, corrections or {})
        with self.open_token(target_serial) as (_present, token):
            pins.login_for_work(token, pin)
            old = state.binding
            if old.pending_key_id and old.target_serial == target_serial:
                with contextlib.suppress(Exception):
                    token.delete(bytes.fromhex(old.pending_key_id))
            key = rekey.generate_key(token, f"{profile.full_name}")
            pkcs10 = rekey.build_pkcs10(token, key.id, subject)
        self.home.update_binding(
            chosen,
            signer_id,
            target_serial=target_serial,
            pending_key_id=key.id.hex(),
            pending_request=base64.b64encode(pkcs10).decode("ascii"),
        )
        return self.state(signer_id, chosen)

    def send(
        self,
        signer_id: int,
        *,
        pin: str | None = None,
        activation_code: str | None = None,
        bank_id: str | None = None,
    ) -> m.RekeyRequest:
        """Sign the request with the current key (or bind it to the activation code) and send it.
        Success is «Принят банком»."""
        with self.session(bank_id) as (chosen, _entry, api):
            state = self._state(chosen, api, api.profile(signer_id), self.contents())
            progress, binding = state.progress, state.binding
            if progress.stage is not Stage.SEND_PENDING or not binding.pending_request:
                raise WizardError("Сначала сформируйте ключ и запрос на сертификат")
            pkcs10 = base64.b64decode(binding.pending_request)
            if progress.first_key:
                if not activation_code:
                    raise WizardError("Введите код активации из «Реквизитов»")
                answer = api.submit(signer_id, pkcs10, activation_code=activation_code.strip())
            else:
                current = state.profile.current_certificate
                assert current is not None
                holder = progress.current_key_on
                if holder is None:
                    raise TokenNeeded(
                        self._swap_to_current_text(state), serial=binding.token_serial
                    )
                with self.open_token(holder.token.serial) as (_p, token):
                    pins.login_for_work(token, pin or "")
                    signed = rekey.wrap_with_current_key(token, current.serial, pkcs10)
                answer = api.submit(signer_id, signed)
        self.home.update_binding(chosen, signer_id, pending_key_id=None, pending_request=None)
        return answer

    @staticmethod
    def _swap_to_current_text(state: ProfileState) -> str:
        where = f" № {state.binding.token_serial}" if state.binding.token_serial else ""
        target = state.binding.target_serial
        unplug = f"Отключите от компьютера ключевой носитель № {target}, " if target else ""
        return (
            f"{unplug}вставьте в компьютер действующий (устаревший) ключевой носитель{where} "
            "с текущим сертификатом и нажмите «ОК»"
        ).capitalize()

    def _document_request(
        self, chosen: str, api: BankApi, signer_id: int, kind: str
    ) -> m.RekeyRequest | TransferAct:
        if kind == TRANSFER_ACT:
            act = find_transfer_act(api.requests(), signer_id)
            if act is None:
                raise WizardError(
                    "Акт приема-передачи формируется после записи сертификата на новый "
                    "ключевой носитель («Получить сертификат»)"
                )
            return act
        state = self._state(chosen, api, api.profile(signer_id), [])
        if state.progress.request is None:
            raise WizardError("Нет запроса, по которому печатаются документы")
        return state.progress.request

    def document_pdf(self, signer_id: int, kind: str, bank_id: str | None = None) -> bytes:
        """The PDF of a request's document: the open request's acceptance act or application,
        or the transfer act of the latest certificate written to a new token."""
        with self.session(bank_id) as (chosen, _entry, api):
            found = self._document_request(chosen, api, signer_id, kind)
            request_id = found.request_id if isinstance(found, TransferAct) else found.id
            return api.document_pdf(request_id, kind)

    def mark_printed(
        self, signer_id: int, kind: str, copies: int, bank_id: str | None = None
    ) -> m.RekeyRequest:
        with self.session(bank_id) as (chosen, _entry, api):
            found = self._document_request(chosen, api, signer_id, kind)
            request_id = found.request_id if isinstance(found, TransferAct) else found.id
            return api.mark_printed(request_id, kind, copies)

    def transfer_act(self, signer_id: int, bank_id: str | None = None) -> TransferAct | None:
        """The «Акт приема-передачи» the bank offers for this profile's latest new token."""
        with self.session(bank_id) as (_chosen, _entry, api):
            return find_transfer_act(api.requests(), signer_id)

    def sign_act(self, signer_id: int, pin: str, bank_id: str | None = None) -> m.RekeyRequest:
        """Remote renewal: sign the acceptance act with the still-valid current key and send it."""
        with self.session(bank_id) as (chosen, _entry, api):
            state = self._state(chosen, api, api.profile(signer_id), self.contents())
            progress = state.progress
            if progress.stage is not Stage.SIGN_ACT or progress.request is None:
                raise WizardError(f"Подписывать акт сейчас не нужно: «{progress.status_text}»")
            current = state.profile.current_certificate
            holder = progress.current_key_on
            if holder is None or current is None:
                raise TokenNeeded(
                    self._swap_to_current_text(state), serial=state.binding.token_serial
                )
            act = api.document_pdf(progress.request.id, "acceptance_act")
            with self.open_token(holder.token.serial) as (_p, token):
                pins.login_for_work(token, pin)
                signature = rekey.sign_document(token, current.serial, act)
            return api.sign_act(progress.request.id, signature)

    def install(self, signer_id: int, pin: str, bank_id: str | None = None) -> str:
        """«Получить сертификат»: download, check against the key on the token and the pinned CA,
        write it next to the key, confirm to the bank. Safe to repeat after any interruption."""
        with self.session(bank_id) as (chosen, entry, api):
            state = self._state(chosen, api, api.profile(signer_id), self.contents())
            progress, binding = state.progress, state.binding
            if progress.stage is not Stage.INSTALL_CERTIFICATE or progress.request is None:
                raise WizardError(f"Получать сертификат сейчас не нужно: «{progress.status_text}»")
            holder = progress.new_key_on
            if holder is None:
                where = f" № {binding.target_serial}" if binding.target_serial else ""
                raise TokenNeeded(
                    f"Подключите к компьютеру ключевой носитель{where} с новым ключом",
                    serial=binding.target_serial,
                )
            ca = self._pinned_ca(api, entry)
            issued = api.certificate(progress.request.id)
            der = base64.b64decode(issued.certificate)
            fp = progress.request.key_fingerprint.lower()
            key_id = holder.key_fingerprints[fp]
            with self.open_token(holder.token.serial) as (_p, token):
                key = _key(token, key_id)
                rekey.check_issued(der, key, ca, self.clock())
                pins.login_for_work(token, pin)
                if not progress.new_certificate_installed:
                    token.import_certificate(der, key_id=key_id)
            model, serial = token_details(holder.token)
            api.confirm_installation(progress.request.id, model, serial)
        old = binding.token_serial
        new = holder.token.serial
        self.home.update_binding(
            chosen,
            signer_id,
            token_serial=new,
            old_token_serial=old if old and old != new else binding.old_token_serial,
            pending_key_id=None,
            pending_request=None,
        )
        return SWITCHED_TEXT


def _key(token: Token, key_id: bytes) -> KeyInfo:
    for key in token.key_pairs():
        if key.id == key_id:
            return key
    raise TokenNeeded("Новый ключ не найден на ключевом носителе")
