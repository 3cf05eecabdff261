"""What only the software container has: its file, its crypto, and crash safety of its writes."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from token_support import ADMIN_PIN, TEST_KDF, USER_PIN

from bankkeys.pki.signer import KeySpec
from bankkeys.tokens import (
    ContainerCorrupted,
    ContainerExists,
    KdfParams,
    SoftwareContainer,
    TokenNotFound,
    WrongPin,
)
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN, PinPolicy

P256 = KeySpec("ecdsa-p256", "P-256")


def make_ready(folder: Path, policy: PinPolicy | None = None) -> SoftwareContainer:
    kwargs = {"policy": policy} if policy else {}
    token = SoftwareContainer.create(folder, "test", kdf=TEST_KDF, **kwargs)
    token.change_user_pin(DEFAULT_USER_PIN, USER_PIN)
    token.change_admin_pin(DEFAULT_ADMIN_PIN, ADMIN_PIN)
    token.login(USER_PIN)
    return token


def state(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "container.json").read_text())  # type: ignore[no-any-return]


def test_file_holds_no_plaintext_secrets_and_names_its_kdf(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    token = make_ready(folder)
    token.generate_key(P256, "k")
    doc = state(folder)
    assert doc["pins"]["user"]["kdf"]["algorithm"] == "argon2id"
    assert doc["pins"]["user"]["kdf"]["memory_cost_kib"] == TEST_KDF.memory_cost_kib
    assert doc["pins"]["user"]["aead"] == "AES-256-GCM"
    assert len(base64.b64decode(doc["keys"][0]["private"])) == 32 + 16  # ciphertext + tag
    raw = (folder / "container.json").read_bytes()
    for secret in (USER_PIN, ADMIN_PIN):
        assert secret.encode() not in raw
    assert (folder / "container.json").stat().st_mode & 0o077 == 0


def test_default_kdf_is_memory_hard() -> None:
    assert KdfParams().memory_cost_kib >= 64 * 1024
    with pytest.raises(ValueError):
        KdfParams(memory_cost_kib=4)


def test_copy_to_flash_drive_keeps_working(tmp_path: Path) -> None:
    """Seed 004: the key folder is copied to a removable disk and used from there."""
    token = make_ready(tmp_path / "disk" / "AB12CD.000")
    key = token.generate_key(P256, "k")
    token.close()
    shutil.copytree(tmp_path / "disk" / "AB12CD.000", tmp_path / "flash" / "AB12CD.000")
    copy = SoftwareContainer(tmp_path / "flash" / "AB12CD.000")
    copy.login(USER_PIN)
    assert copy.signer(key.id).sign(b"x")


def test_tampered_key_blob_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    token = make_ready(folder)
    first = token.generate_key(P256, "a")
    token.generate_key(P256, "b")
    doc = state(folder)
    # Swap the encrypted private keys of the two entries: the AAD binds each blob to its key.
    doc["keys"][0]["private"], doc["keys"][1]["private"] = (
        doc["keys"][1]["private"],
        doc["keys"][0]["private"],
    )
    doc["keys"][0]["nonce"], doc["keys"][1]["nonce"] = (
        doc["keys"][1]["nonce"],
        doc["keys"][0]["nonce"],
    )
    (folder / "container.json").write_text(json.dumps(doc))
    with pytest.raises(ContainerCorrupted):
        token.signer(first.id).sign(b"x")


def test_garbage_file_is_a_typed_error(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    make_ready(folder).close()
    (folder / "container.json").write_text('{"format": "something else"}')
    with pytest.raises(ContainerCorrupted):
        SoftwareContainer(folder).info()


def test_missing_and_existing_containers(tmp_path: Path) -> None:
    with pytest.raises(TokenNotFound):
        SoftwareContainer(tmp_path / "nothing")
    SoftwareContainer.create(tmp_path / "K", "a", kdf=TEST_KDF)
    with pytest.raises(ContainerExists):
        SoftwareContainer.create(tmp_path / "K", "b", kdf=TEST_KDF)


def test_retry_counter_is_shared_by_every_opener(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    make_ready(folder).close()
    with pytest.raises(WrongPin):
        SoftwareContainer(folder).login("Neverno-1!")
    assert SoftwareContainer(folder).info().pins.user_tries_left == 9


def test_configurable_retry_limit(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    token = make_ready(folder, PinPolicy(min_length=8, user_max_tries=3))
    with pytest.raises(WrongPin) as caught:
        token.login("Neverno-1!")
    assert caught.value.tries_left == 2


def test_logout_wipes_the_data_key(tmp_path: Path) -> None:
    token = make_ready(tmp_path / "K.000")
    held = token._data_key
    assert held is not None and any(held)
    token.logout()
    assert held == bytearray(len(held))


# ------------------------------------------------------------------ crashes (SIGKILL mid-write)

CRASH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from bankkeys.pki.signer import KeySpec
    from bankkeys.tokens import SoftwareContainer

    folder, where, action = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    token = SoftwareContainer(folder)
    if action != "wrong-pin":
        token.login(sys.argv[4])

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if where == "before-rename":
        os.replace = die
    elif where == "mid-write":
        real_write = os.write
        def half(fd, data):
            real_write(fd, bytes(data[: len(data) // 2]))
            die()
        os.write = half
    elif where == "during-pin-check":
        import bankkeys.tokens.container as c
        c._unwrap = die

    if action == "generate":
        token.generate_key(KeySpec("ecdsa-p256", "P-256"), "new")
    elif action == "change-pin":
        token.change_user_pin(sys.argv[4], "Drugoi-PIN-5")
    elif action == "wrong-pin":
        token.login("Neverno-1!")
    print("not killed")
    """
)


def run_and_kill(folder: Path, where: str, action: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(folder), where, action, USER_PIN],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()


@pytest.mark.parametrize("where", ["before-rename", "mid-write"])
@pytest.mark.parametrize("action", ["generate", "change-pin"])
def test_crash_mid_write_leaves_old_container(tmp_path: Path, where: str, action: str) -> None:
    folder = tmp_path / "K.000"
    token = make_ready(folder)
    key = token.generate_key(P256, "old")
    token.close()
    before = (folder / "container.json").read_bytes()

    run_and_kill(folder, where, action)

    assert (folder / "container.json").read_bytes() == before
    survivor = SoftwareContainer(folder)
    survivor.login(USER_PIN)  # the old PIN still opens it
    assert [k.id for k in survivor.key_pairs()] == [key.id]
    assert survivor.signer(key.id).sign(b"x")
    survivor.generate_key(P256, "after the crash")  # and it is writable again
    assert len(survivor.key_pairs()) == 2
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "container.json"]


def test_killing_the_process_does_not_save_a_wrong_guess(tmp_path: Path) -> None:
    """The try is written off before the PIN is checked, so killing the process after seeing a
    wrong result (or before) still costs the try."""
    folder = tmp_path / "K.000"
    make_ready(folder).close()
    run_and_kill(folder, "during-pin-check", "wrong-pin")
    assert SoftwareContainer(folder).info().pins.user_tries_left == 9


def test_crafted_kdf_parameters_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "K.000"
    make_ready(folder).close()
    doc = state(folder)
    doc["pins"]["user"]["kdf"]["memory_cost_kib"] = 1 << 40
    (folder / "container.json").write_text(json.dumps(doc))
    with pytest.raises(ContainerCorrupted):
        SoftwareContainer(folder).login(USER_PIN)


def test_pin_is_unicode_normalised(tmp_path: Path) -> None:
    import unicodedata

    folder = tmp_path / "K.000"
    token = make_ready(folder)
    composed = unicodedata.normalize("NFC", "Йошкар-Ола-1")
    token.change_user_pin(USER_PIN, composed)
    token.login(unicodedata.normalize("NFD", composed))
