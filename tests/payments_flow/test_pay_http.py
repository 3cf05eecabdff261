"""Signed payments over real HTTP against a running bank (SQLite; the main flow on PostgreSQL
too): verdicts per document, keys that must be refused, two signatures, duplicates, replay, and
the first payment under a new key retiring the old certificate."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest
from pay_flow_support import (
    OPERATOR,
    OTHER_ACCOUNT,
    KeyHolder,
    RunningServer,
    add_organization,
    add_signer,
    director,
    issue,
    order,
    organization_id,
    post,
    renew_director,
    server,
    server_factory,
    signed_item,
    templates,
)

from bankkeys.bank.ca import RevocationReason
from bankkeys.bank.payments import PaymentDesk
from bankkeys.bank.payments_store import SigningRight
from bankkeys.gost.streebog import streebog256
from bankkeys.payments import Verdict, canonical_bytes, import_orders
from bankkeys.pki.certificates import (
    CertificateTemplate,
    build_certificate,
    parse_certificate,
)
from bankkeys.pki.crls import parse_crl
from bankkeys.pki.names import Name
from bankkeys.pki.software import SoftwareSigner
from bankkeys.server import bootstrap

__all__ = ["server", "server_factory", "templates"]


@pytest.fixture()
def db_kind() -> str:
    return "sqlite"


def statuses(body: dict[str, object]) -> list[tuple[str, str]]:
    results = body["results"]
    assert isinstance(results, list)
    return [(r["status"], r["reason"]) for r in results]


@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"])
def test_pay_accepted_listed_exported_replayed_and_duplicates(server: RunningServer) -> None:
    holder = director(server)
    batch = [signed_item(server, order(str(n)), holder) for n in (101, 102, 103)]
    body = post(server, "director", batch)
    assert statuses(body) == [("accepted", "")] * 3
    assert [r["number"] for r in body["results"]] == ["101", "102", "103"]
    assert [r["content_hash"] for r in body["results"]] == [
        streebog256(canonical_bytes(order(str(n)))).hexdigest() for n in (101, 102, 103)
    ]
    assert body["retired_certificates"] == []  # an imported certificate replaced nothing

    # The same signed batch again: the same verdicts, nothing stored twice.
    again = post(server, "director", batch)
    assert statuses(again) == [("accepted", "")] * 3
    with server.as_user("director") as c:
        listed = c.get("/api/v1/payments").json()
    assert sorted(p["number"] for p in listed) == ["101", "102", "103"]
    assert {p["status_text"] for p in listed} == {"Принят банком"}
    assert listed[0]["signatures"][0]["certificate_serial"] == holder.serial

    # Another document under a used number (same account, same year) is a duplicate; the same
    # number next year, or on another account of the organization, is not.
    dup = post(
        server,
        "director",
        [
            signed_item(server, order("102", amount_kopecks=999), holder),
            signed_item(server, order("102", on=date(2027, 1, 11)), holder),
            signed_item(server, order("102", payer_account=OTHER_ACCOUNT), holder),
        ],
    )
    (status, reason), *rest = statuses(dup)
    assert status == "refused" and "повтор номера" in reason and "102" in reason
    refused_bytes = canonical_bytes(order("102", amount_kopecks=999))
    assert dup["results"][0]["content_hash"] == streebog256(refused_bytes).hexdigest()
    assert rest == [("accepted", "")] * 2

    # Export: the bank's statuses in 1C form, readable by the 1C reader.
    with server.as_user("director") as c:
        r = c.get("/api/v1/payments/export", params={"until": "2026-12-31"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    docs = import_orders(r.content)
    assert sorted(d.ref.number for d in docs) == ["101", "102", "102", "103"]  # not 2027's
    assert all(d.status is not None and d.status.verdict is Verdict.ACCEPTED for d in docs)
    assert {canonical_bytes(d.order) for d in docs if d.order} >= {canonical_bytes(order("101"))}


def test_pay_refused_keys_each_with_reason(server: RunningServer) -> None:
    wf = server.ctx.workflow
    me = director(server)
    me_id = me.signer_id
    revoked = issue(server, me_id)
    wf.revoke(OPERATOR, revoked.serial, RevocationReason.KEY_COMPROMISE)
    now = server.clock()
    expired = issue(
        server, me_id, not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
    )
    not_yet = issue(server, me_id, not_before=now + timedelta(days=2))
    other_org, other_inn = add_organization(server)
    foreigner = issue(server, add_signer(server, "pay-foreigner", org_id=other_org))
    # A certificate from another CA, and another CA's certificate claiming a bank serial.
    rogue_ca = SoftwareSigner.generate(bootstrap.key_spec())
    rogue_key = SoftwareSigner.generate(bootstrap.key_spec())

    rogue_root = parse_certificate(
        build_certificate(
            CertificateTemplate(
                Name(common_name="Чужой УЦ"),
                now - timedelta(days=10),
                now + timedelta(days=900),
                serial=1,
                is_ca=True,
                key_usage=frozenset({"key_cert_sign", "crl_sign"}),
            ),
            rogue_ca.public_key_info,
            rogue_ca,
        )
    )

    def rogue(serial: int) -> KeyHolder:
        template = CertificateTemplate(
            Name(common_name="Петров П. П."), now - timedelta(days=1), now + timedelta(days=30),
            serial=serial,
        )  # fmt: skip
        der = build_certificate(template, rogue_key.public_key_info, rogue_ca, rogue_root)
        return KeyHolder(me_id, rogue_key, parse_certificate(der))

    tampered = signed_item(server, order("207"), me)
    tampered["document"] = base64.b64encode(
        canonical_bytes(order("207", amount_kopecks=1))
    ).decode()
    not_canonical = signed_item(server, canonical_bytes(order("208")) + b" ", me)
    backdated = signed_item(server, order("209"), expired, signing_time=now - timedelta(days=3))
    batch = [
        signed_item(server, order("201"), me),
        signed_item(server, order("202"), revoked),
        signed_item(server, order("203"), expired),
        signed_item(server, order("204"), foreigner),
        signed_item(server, order("205"), rogue(0x7E57)),
        signed_item(server, order("206"), rogue(me.certificate.serial)),
        tampered,
        not_canonical,
        backdated,
        signed_item(server, order("210"), not_yet),
        signed_item(server, order("211", payer_inn=other_inn), foreigner),
    ]
    got = statuses(post(server, "director", batch))
    assert got[0] == ("accepted", "")
    expected = [
        "отозван",  # revoked (key compromise)
        "истёк",  # expired
        "не относится к организации-плательщику",  # another organization's signer
        "не выпущен УЦ банка",  # another CA
        "подпись неверна",  # another CA's certificate with a bank serial
        "подпись неверна",  # document changed after signing
        "не в канонической форме",  # bytes not canonical
        "истёк",  # signing time claimed inside the validity does not revive it
        "ещё не действовал",
        "не организация отправителя",  # payer is another organization
    ]
    for (status, reason), part in zip(got[1:], expected, strict=True):
        assert status == "refused" and part in reason, (part, reason)
    assert "компрометация ключа" in got[1][1]
    with server.as_user("director") as c:
        assert [p["number"] for p in c.get("/api/v1/payments").json()] == ["201"]


def test_pay_two_signatures(server: RunningServer) -> None:
    desk = PaymentDesk(server.ctx.workflow)
    org = organization_id(server)
    desk.set_signatures_required(OPERATOR, org, 2)
    first = director(server)
    second = issue(server, add_signer(server, "pay-second"))
    desk.set_signing_right(OPERATOR, second.signer_id, SigningRight.SECOND)
    nobody = issue(server, add_signer(server, "pay-nobody"))
    desk.set_signing_right(OPERATOR, nobody.signer_id, SigningRight.NONE)
    also_second = issue(server, add_signer(server, "pay-second-b"))
    desk.set_signing_right(OPERATOR, also_second.signer_id, SigningRight.SECOND)

    doc = order("301")
    assert statuses(post(server, "director", [signed_item(server, doc, first)])) == [
        ("awaiting_second", "")
    ]
    # Resent by the same signer (a fresh signature): still waiting, not a duplicate.
    assert statuses(post(server, "director", [signed_item(server, doc, first)])) == [
        ("awaiting_second", "")
    ]
    with server.as_user("director") as c:
        export = c.get("/api/v1/payments/export").content
    (waiting,) = import_orders(export)
    assert waiting.status is None  # no verdict yet in the 1C file
    got = statuses(
        post(
            server,
            "pay-second",
            [signed_item(server, doc, second), signed_item(server, order("302"), second)],
        )
    )
    assert got == [("accepted", ""), ("awaiting_second", "")]
    with server.as_user("pay-second") as c:
        listed = {p["number"]: p for p in c.get("/api/v1/payments").json()}
    assert {s["signing_right"] for s in listed["301"]["signatures"]} == {"first", "second"}
    assert listed["301"]["status"] == "accepted"  # the stored document moved on
    assert listed["302"]["status"] == "awaiting_second"
    # A resend answers the stored state: accepted, and nothing is stored again.
    resent = post(server, "director", [signed_item(server, doc, first)])
    assert statuses(resent) == [("accepted", "")]

    refused = statuses(
        post(
            server,
            "pay-second-b",
            [
                signed_item(server, order("302"), also_second),
                signed_item(server, order("303"), also_second),
            ],
        )
    )
    assert refused[0][0] == "refused" and "второй подписи под документом уже есть" in refused[0][1]
    assert refused[1] == ("awaiting_second", "")
    none = statuses(post(server, "pay-nobody", [signed_item(server, order("304"), nobody)]))
    assert none[0][0] == "refused" and "нет права подписи" in none[0][1]
    assert statuses(post(server, "director", [signed_item(server, order("302"), first)])) == [
        ("accepted", "")
    ]
    with server.as_user("director") as c:
        accepted = {p["number"]: p["status"] for p in c.get("/api/v1/payments").json()}
    assert accepted == {"301": "accepted", "302": "accepted", "303": "awaiting_second"}

    # Back to one signature: a signer with only the second right cannot sign alone.
    desk.set_signatures_required(OPERATOR, org, 1)
    alone = statuses(post(server, "pay-second", [signed_item(server, order("305"), second)]))
    assert alone[0][0] == "refused" and "право второй подписи" in alone[0][1]


def test_pay_first_payment_under_new_key_retires_old(server: RunningServer) -> None:
    old = director(server)
    new = renew_director(server)
    assert new.serial != old.serial
    # Installed, not yet used: the old key still signs (the switch completes with a payment).
    assert statuses(post(server, "director", [signed_item(server, order("401"), old)])) == [
        ("accepted", "")
    ]
    body = post(server, "director", [signed_item(server, order("402"), new)])
    assert statuses(body) == [("accepted", "")]
    assert body["retired_certificates"] == [old.serial]
    crl = parse_crl(server.client().get("/ca/crl.crl").content)
    entry = crl.find(old.certificate.serial)
    assert entry is not None and entry.reason == "superseded"

    late = statuses(post(server, "director", [signed_item(server, order("403"), old)]))
    assert late[0][0] == "refused" and "заменён новым" in late[0][1]
    again = post(server, "director", [signed_item(server, order("404"), new)])
    assert statuses(again) == [("accepted", "")] and again["retired_certificates"] == []
    with server.as_user("director") as c:
        profile = c.get("/api/v1/profiles").json()[0]
    assert profile["current_certificate"]["serial"] == new.serial


def test_pay_batch_refused_as_a_whole(server: RunningServer) -> None:
    holder = director(server)
    with server.as_user("director") as c:
        assert c.post("/api/v1/payments", json={"documents": []}).status_code == 422
        good = signed_item(server, order("501"), holder)
        for broken in ("не base64", "QUJD RA==", "QUJDRA=", "QUJDRA==QQ==", "QUJD\nRA==", "=QUJD"):
            bad = {**good, "signature": broken}
            r = c.post("/api/v1/payments", json={"documents": [good, bad]})
            assert r.status_code == 422, broken
            assert r.json()["error"]["message"] == "документ 2: signature не base64", broken
        assert c.get("/api/v1/payments").json() == []  # nothing of a refused batch was kept
    with server.client() as anonymous:
        r = anonymous.post(
            "/api/v1/payments", json={"documents": [signed_item(server, order("502"), holder)]}
        )
        assert r.status_code == 401
    with server.as_user("operator") as staff:
        r = staff.post(
            "/api/v1/payments", json={"documents": [signed_item(server, order("503"), holder)]}
        )
        assert r.status_code == 403


@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"])
def test_pay_racing_batches_keep_numbers_unique(server: RunningServer) -> None:
    """Two clients send different documents under the same numbers at the same time: the
    database's unique key decides, one is accepted per number, the other is a duplicate; and
    the same signed batch sent twice at once is accepted once, answered twice."""
    import threading

    from sqlalchemy import select

    from bankkeys.bank import audit
    from bankkeys.bank.payments import SignedPayment
    from bankkeys.bank.store.models import AuditEvent
    from bankkeys.bank.workflow import Actor

    holder = director(server)
    desk = PaymentDesk(server.ctx.workflow)
    actor = Actor.client(holder.signer_id, "director")
    numbers = [str(600 + i) for i in range(8)]

    def batch(amount: int) -> list[SignedPayment]:
        items = [signed_item(server, order(n, amount_kopecks=amount), holder) for n in numbers]
        return [
            SignedPayment(
                base64.b64decode(i["document"]),
                base64.b64decode(i["signature"]),
                i["certificate_serial"],
            )
            for i in items
        ]

    batches = [batch(1000), batch(2000), batch(3000)]
    batches.append(list(batches[2]))  # the same signed documents, sent again at once
    results: list[list[str]] = [[] for _ in batches]
    gate = threading.Barrier(len(batches))

    def send(index: int) -> None:
        gate.wait()
        outcome = desk.submit(actor, batches[index])
        results[index] = [v.state.value for v in outcome.verdicts]

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(len(r) == len(numbers) for r in results), results
    for position in range(len(numbers)):
        column = [r[position] for r in results]
        # The twin batches answer alike; across the three different documents one wins.
        assert column[2] == column[3], column
        assert column[:3].count("accepted") == 1, column
    with server.as_user("director") as c:
        listed = c.get("/api/v1/payments").json()
    assert sorted(p["number"] for p in listed) == numbers
    with server.ctx.db.transaction() as session:
        assert audit.verify(session) == []
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "payments_batch"))
            .scalars()
            .all()
        )
        assert len(events) == len(batches)
        assert any("повтор номера" in e.details for e in events)
