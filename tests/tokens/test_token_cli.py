"""``bankkeys token …`` through Typer's CliRunner, on software containers and SoftHSM2."""

from __future__ import annotations

from pathlib import Path

from token_support import (  # noqa: F401
    ADMIN_PIN,
    SOFTHSM_MODULE,
    TEST_KDF,
    USER_PIN,
    init_softhsm_token,
    load_module,
    softhsm_env,
)
from typer.testing import CliRunner

from bankkeys.cli import app
from bankkeys.pki.signer import KeySpec
from bankkeys.tokens import SoftwareContainer
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN

runner = CliRunner()


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["token", *args], input=input, env={"COLUMNS": "200"})


def test_init_info_and_pin_changes(tmp_path: Path) -> None:
    folder = tmp_path / "AB12CD.000"
    result = invoke("init", "--container", str(folder), "--label", "Бухгалтерия")
    assert result.exit_code == 0, result.output
    assert "потенциально небезопасен" in result.output

    info = invoke("info", "--container", str(folder))
    assert info.exit_code == 0
    assert "Программный ключевой контейнер" in info.output
    assert "PIN-код по умолчанию" in info.output
    assert "Бухгалтерия" in info.output

    weak = invoke("change-pin", "-c", str(folder), input=f"{DEFAULT_USER_PIN}\nweak\nweak\n")
    assert weak.exit_code == 1
    assert "не соответствует требованиям" in weak.output

    ok = invoke(
        "change-pin", "-c", str(folder), input=f"{DEFAULT_USER_PIN}\n{USER_PIN}\n{USER_PIN}\n"
    )
    assert ok.exit_code == 0, ok.output
    admin = invoke(
        "change-pin", "-c", str(folder), "--admin",
        input=f"{DEFAULT_ADMIN_PIN}\n{ADMIN_PIN}\n{ADMIN_PIN}\n",
    )  # fmt: skip
    assert admin.exit_code == 0, admin.output
    info = invoke("info", "--container", str(folder))
    assert "готов" in info.output and "по умолчанию" not in info.output


def ready_container(folder: Path) -> SoftwareContainer:
    token = SoftwareContainer.create(folder, "cli", kdf=TEST_KDF)
    token.change_user_pin(DEFAULT_USER_PIN, USER_PIN)
    token.change_admin_pin(DEFAULT_ADMIN_PIN, ADMIN_PIN)
    token.login(USER_PIN)
    return token


def test_wrong_pin_blocked_and_unblock(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    ready_container(folder).close()
    wrong = invoke("change-pin", "-c", str(folder), input="Neverno-1!\nNovyi-PIN-1\nNovyi-PIN-1\n")
    assert wrong.exit_code == 1
    assert "Неверный PIN-код. Осталось попыток: 9" in wrong.output
    unblock = invoke("unblock", "-c", str(folder), input=f"{ADMIN_PIN}\nNovyi-PIN-1\nNovyi-PIN-1\n")
    assert unblock.exit_code == 0, unblock.output
    SoftwareContainer(folder).login("Novyi-PIN-1")


def test_keys_certs_delete_list(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    token = ready_container(folder)
    key = token.generate_key(KeySpec("ecdsa-p256", "P-256"), "Платежи")
    token.close()

    keys = invoke("keys", "-c", str(folder))
    assert keys.exit_code == 0
    assert key.id.hex() in keys.output and "Платежи" in keys.output and "нет" in keys.output
    certs = invoke("certs", "-c", str(folder))
    assert certs.exit_code == 0 and "Сертификаты" in certs.output

    listing = invoke("list", "-c", str(folder))
    assert listing.exit_code == 0 and "контейнер" in listing.output

    bad_id = invoke("delete", "zz", "-c", str(folder), "--yes", input=f"{USER_PIN}\n")
    assert bad_id.exit_code == 2
    refused = invoke("delete", key.id.hex(), "-c", str(folder), input=f"{USER_PIN}\nn\n")
    assert refused.exit_code == 1
    assert len(SoftwareContainer(folder).key_pairs()) == 1
    gone = invoke("delete", key.id.hex(), "-c", str(folder), "--yes", input=f"{USER_PIN}\n")
    assert gone.exit_code == 0, gone.output
    assert SoftwareContainer(folder).key_pairs() == []


def test_missing_container_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("info", "-c", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "Ключевой контейнер не найден" in result.output


def test_list_and_info_of_a_pkcs11_token(softhsm_env: Path) -> None:  # noqa: F811
    init_softhsm_token("cli-token")
    load_module()
    listing = invoke("list", "--module", SOFTHSM_MODULE)
    assert listing.exit_code == 0, listing.output
    assert "cli-token" in listing.output and "SoftHSM" in listing.output
    info = invoke("info", "--module", SOFTHSM_MODULE, "--label", "cli-token")
    assert info.exit_code == 0, info.output
    assert "SoftHSM" in info.output
