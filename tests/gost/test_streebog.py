"""Streebog (GOST R 34.11-2012): the standard's vectors, streaming and copying, threads, bad input,
and two outside judges — gostcrypto (pure Python, hypothesis) and OpenSSL 3 + gost-engine."""

from __future__ import annotations

import array
import random
import sys
import threading
import time

import gostcrypto
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankkeys.gost import streebog
from bankkeys.gost.errors import GostError
from conftest import OpenSSL

NAMES = ("streebog256", "streebog512")
OPENSSL_MD = {"streebog256": "-md_gost12_256", "streebog512": "-md_gost12_512"}

M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M2 = bytes.fromhex(
    "d1e520e2e5f2f0e82c20d1f2f0e8e1eee6e820e2edf3f6e82c20e2e5fef2fa20f120eceef0ff20f1f2f0e5ebe0"
    "ece820ede020f5f0e0e1f0fbff20efebfaeafb20c8e3eef0e5e2fb"
)

# GOST R 34.11-2012 examples 1 and 2 (RFC 6986 section 10), bytes as `openssl dgst` prints them.
STANDARD_VECTORS = [
    ("streebog256", M1, "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"),
    (
        "streebog512",
        M1,
        "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
        "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48",
    ),
    ("streebog256", M2, "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50"),
    (
        "streebog512",
        M2,
        "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
        "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28",
    ),
]


def reference(name: str, data: bytes) -> bytes:
    """The digest according to gostcrypto, an independent pure-Python implementation."""
    digest: bytes = gostcrypto.gosthash.new(name, data=data).digest()
    return digest


def one_shot(name: str, data: bytes) -> bytes:
    return streebog.new(name, data).digest()


def sample(size: int) -> bytes:
    return random.Random(size).randbytes(size)


# --- the standard -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message", "expected"), STANDARD_VECTORS)
def test_standard_vectors(name: str, message: bytes, expected: str) -> None:
    assert streebog.new(name, message).hexdigest() == expected
    assert streebog.new(name, message).digest() == bytes.fromhex(expected)
    constructor = streebog.streebog256 if name == "streebog256" else streebog.streebog512
    assert constructor(message).hexdigest() == expected
    fed = constructor()
    fed.update(message)
    assert fed.hexdigest() == expected


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\xff" * 64,  # the checksum wraps modulo 2^512 when the padding block is added
        b"\xff" * 128,
        b"\xff" * 63,
        b"\x00" * 64,
        bytes(range(256)) * 5,
    ],
    ids=["empty", "ff64", "ff128", "ff63", "zero64", "counting1280"],
)
def test_edge_messages_match_gostcrypto(name: str, message: bytes) -> None:
    assert one_shot(name, message) == reference(name, message)


# --- streaming, copying ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 127, 128, 129, 200])
def test_split_at_every_offset_equals_one_shot(name: str, size: int) -> None:
    data = sample(size)
    whole = one_shot(name, data)
    for cut in range(size + 1):
        h = streebog.new(name)
        h.update(data[:cut])
        h.update(data[cut:])
        assert h.digest() == whole, f"split at {cut}"
    bytewise = streebog.new(name)
    for i in range(size):
        bytewise.update(data[i : i + 1])
    assert bytewise.digest() == whole


@pytest.mark.parametrize("name", NAMES)
def test_digest_does_not_end_the_object(name: str) -> None:
    h = streebog.new(name, b"abc")
    first = h.digest()
    assert h.digest() == first
    assert h.hexdigest() == first.hex()
    h.update(b"def")
    assert h.digest() == one_shot(name, b"abcdef")


@pytest.mark.parametrize("name", NAMES)
def test_copy_is_independent(name: str) -> None:
    original = streebog.new(name, b"x" * 100)
    twin = original.copy()
    assert type(twin) is type(original)
    assert twin.name == original.name
    assert twin.digest() == original.digest()
    twin.update(b"twin")
    original.update(b"original")
    assert twin.digest() == one_shot(name, b"x" * 100 + b"twin")
    assert original.digest() == one_shot(name, b"x" * 100 + b"original")


def test_attributes_and_names() -> None:
    for name, size in (("streebog256", 32), ("streebog512", 64)):
        h = streebog.new(name)
        assert (h.name, h.digest_size, h.block_size) == (name, size, 64)
        assert len(h.digest()) == size
        assert len(h.hexdigest()) == 2 * size
        assert name in repr(h)
    assert streebog.streebog256().name == "streebog256"
    assert streebog.streebog512().name == "streebog512"
    for alias, canonical in (
        ("md_gost12_256", "streebog256"),
        ("md_gost12_512", "streebog512"),
        ("STREEBOG256", "streebog256"),
        (streebog.OID_STREEBOG256, "streebog256"),
        (streebog.OID_STREEBOG512, "streebog512"),
    ):
        assert streebog.new(alias, M1).digest() == one_shot(canonical, M1)
        assert streebog.new(alias).name == canonical


@pytest.mark.parametrize("name", NAMES)
def test_any_buffer_is_accepted(name: str) -> None:
    data = sample(5000)
    expected = one_shot(name, data)
    words = array.array("B", data)
    unaligned = memoryview(b"\x00" + data)[1:]
    for buffer in (bytearray(data), memoryview(data), words, unaligned):
        assert streebog.new(name, buffer).digest() == expected
        h = streebog.new(name)
        h.update(buffer)
        assert h.digest() == expected
    ints = array.array("I", range(100))  # multi-byte items: hashed as their raw bytes
    assert streebog.new(name, ints).digest() == one_shot(name, ints.tobytes())


# --- bad input -------------------------------------------------------------------------------


def test_bad_arguments_raise_typed_errors_and_lose_nothing() -> None:
    h = streebog.streebog256(b"kept")
    for bad in ("text", 123, None, [1, 2], object()):
        with pytest.raises(TypeError):
            h.update(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="encode"):
        h.update("text")  # type: ignore[arg-type]
    with pytest.raises(BufferError):
        h.update(memoryview(b"abcdef")[::2])  # not contiguous
    assert h.digest() == one_shot("streebog256", b"kept")

    with pytest.raises(TypeError):
        streebog.new("streebog256", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        streebog.streebog512("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        streebog.new(256)  # type: ignore[arg-type]
    for unknown in ("sha256", "streebog384", "", "gost"):
        with pytest.raises(GostError, match="unknown Streebog hash name") as caught:
            streebog.new(unknown)
        assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match="32 or 64"):
        streebog.Streebog(48)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        streebog.Streebog("streebog256")  # type: ignore[arg-type]


# --- outside judges --------------------------------------------------------------------------


@settings(deadline=None, max_examples=150)
@given(
    name=st.sampled_from(NAMES),
    data=st.binary(max_size=700),
    cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=6),
)
def test_matches_gostcrypto(name: str, data: bytes, cuts: list[int]) -> None:
    h = streebog.new(name)
    start = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        h.update(data[start:cut])
        start = cut
    h.update(data[start:])
    assert h.digest() == reference(name, data)


@pytest.mark.openssl
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000, 4096 + 7, 1 << 20])
def test_matches_openssl(openssl: OpenSSL, name: str, size: int) -> None:
    data = sample(size)
    printed = openssl("dgst", OPENSSL_MD[name], input=data).stdout.decode()
    assert printed.rstrip().rsplit("= ", 1)[1] == streebog.new(name, data).hexdigest()


# --- threads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_threads_hashing_concurrently_get_right_answers(name: str) -> None:
    inputs = [sample(3000 * (i + 1) + i) for i in range(8)]
    expected = [one_shot(name, data) for data in inputs]
    results: list[bytes | None] = [None] * len(inputs)

    def work(i: int) -> None:
        h = streebog.new(name)
        for offset in range(0, len(inputs[i]), 2500):  # big updates, GIL released
            h.update(inputs[i][offset : offset + 2500])
        results[i] = h.digest()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


@pytest.mark.parametrize("name", NAMES)
def test_one_object_shared_by_threads_stays_consistent(name: str) -> None:
    # Every thread feeds the same chunk, so any serial order gives the same digest; a torn,
    # interleaved update would not. 5000 and 100 bytes: one update with, one without the GIL.
    big, small = sample(5000), sample(100)
    threads_n, rounds = 4, 25
    shared = streebog.new(name)

    def work() -> None:
        for _ in range(rounds):
            shared.update(big + small)
            shared.copy().digest()  # readers meanwhile

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared.digest() == one_shot(name, (big + small) * threads_n * rounds)


def test_large_update_releases_the_gil() -> None:
    # With a huge switch interval the counter thread can only run while the main thread has
    # released the GIL itself: during the native hash of a large buffer.
    data = bytes(32 << 20)
    count = 0
    running = threading.Event()
    stop = False

    def counter() -> None:
        nonlocal count
        running.set()
        while not stop:
            count += 1
            time.sleep(0)  # hand the GIL back so the main thread can proceed

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    thread = threading.Thread(target=counter)
    try:
        thread.start()
        running.wait()
        h = streebog.streebog256()
        before = count
        h.update(data)
        during = count - before
    finally:
        stop = True
        sys.setswitchinterval(old_interval)
        thread.join()
    assert during > 0
    assert h.digest() == one_shot("streebog256", data)
