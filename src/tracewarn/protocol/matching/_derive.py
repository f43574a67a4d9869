"""Batched RPI derivation: the hot loop of matching (GAEN crypto spec, RPIK and RPI derivation).

Per key the work is fixed by the spec: HKDF-SHA256 for the RPIK, then AES-128-ECB over 144
padded blocks. AES itself costs about half a microsecond per key; the rest is Python call
overhead, so this module is arranged to make as few interpreter round trips per key as it can:

* HKDF-SHA256 with L = 16 and an absent salt is exactly two HMAC-SHA256 calls (RFC 5869:
  PRK = HMAC(32 zero bytes, TEK); OKM = first 16 bytes of HMAC(PRK, info || 0x01)); the stdlib's
  one-shot HMAC runs each in C. `hmac.digest` is a Python wrapper around `_hashlib.hmac_digest`
  that costs about 0.5 us per call, so the C function is called directly when it exists (it is
  CPython's own OpenSSL binding; the wrapper is the fallback). Tests compare the result with
  `cryptography`'s HKDF.
* The padded inputs of all keys of a chunk are slices of one buffer: consecutive ENINs laid out
  once from the chunk's earliest start, so a key's 144 blocks are a zero-copy memoryview at
  offset 16 * (start - base). Keys spread over more than `_MAX_WINDOW` intervals get their own
  blocks, built by numpy in one go.
* The encryptor is made by the function `Cipher.encryptor()` itself calls, skipping the
  `Cipher` wrapper's ABC checks (about 0.7 us of 12 per key). That function lives in
  cryptography's private Rust binding, so it is used only after a self-test at import shows it
  exists and encrypts exactly like the public path; otherwise the public path is used. Tests
  run the deriver both ways.
* One encryptor per key writes its 2,304 bytes with `update_into` straight into a chunk-sized
  output buffer, so no per-key or per-RPI bytes objects exist at all.
* The per-key steps are chained with `map` and drained by a zero-length deque, which runs the
  loop in C instead of bytecode (about 25 % faster than the plain `for` loop here).

Blocks past a key's rolling period are derived too (one AES call costs the same) and ignored by
the caller; their ENINs may wrap modulo 2^32, which is harmless because they are never used.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["RPIS_PER_KEY", "RpiDeriver", "hkdf_aemk", "hkdf_rpik"]


def _load_hmac_digest() -> Callable[[bytes, bytes, str], bytes]:
    try:
        from _hashlib import hmac_digest
    except ImportError:  # pragma: no cover - a CPython built without OpenSSL
        return hmac.digest
    return hmac_digest


_hmac_digest = _load_hmac_digest()

RPIS_PER_KEY = 144
BLOCK = 16
KEY_BLOCK_BYTES = RPIS_PER_KEY * BLOCK
_ZERO_SALT = bytes(32)
_INFO_RPIK_T1 = b"EN-RPIK\x01"
_INFO_AEMK_T1 = b"EN-AEMK\x01"
_PADDING_WORDS = np.frombuffer(b"EN-RPI" + bytes(6), dtype="<u4")
_MAX_WINDOW = 1 << 14
_ECB = modes.ECB()  # noqa: S305 - ECB over single blocks is what the GAEN spec defines
_first16 = itemgetter(slice(0, 16))
_update_into = type(Cipher(algorithms.AES(bytes(16)), _ECB).encryptor()).update_into
EncryptorFactory = Callable[[algorithms.AES, modes.ECB], Any]


def public_encryptor(algorithm: algorithms.AES, mode: modes.ECB) -> Any:
    return Cipher(algorithm, mode).encryptor()


def _fast_encryptor() -> EncryptorFactory:
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        create: EncryptorFactory = rust_openssl.ciphers.create_encryption_ctx
        probe_key, block = bytes(range(16)), bytes(range(16, 32)) * 2
        fast = create(algorithms.AES(probe_key), _ECB).update(block)
        if fast == public_encryptor(algorithms.AES(probe_key), _ECB).update(block):
            return create
    except Exception:  # noqa: S110 - any surprise means: use the public path
        pass
    return public_encryptor


make_encryptor: EncryptorFactory = _fast_encryptor()


def _hkdf_sha256_16(tek: bytes, info_t1: bytes) -> bytes:
    # `info_t1` is info || 0x01, the one HMAC input of T(1) (RFC 5869), which is all L = 16 needs.
    return _hmac_digest(_hmac_digest(_ZERO_SALT, tek, "sha256"), info_t1, "sha256")[:16]


def hkdf_rpik(tek: bytes) -> bytes:
    """RPIK = HKDF-SHA256(TEK, salt none, info "EN-RPIK", 16), as two HMAC calls."""
    return _hkdf_sha256_16(tek, _INFO_RPIK_T1)


def hkdf_aemk(tek: bytes) -> bytes:
    """AEMK = HKDF-SHA256(TEK, salt none, info "EN-AEMK", 16), as two HMAC calls."""
    return _hkdf_sha256_16(tek, _INFO_AEMK_T1)


def padded_blocks(first: int, count: int) -> bytes:
    """PaddedData_j for j = first .. first + count - 1 (ENINs taken modulo 2^32)."""
    words = np.empty((count, 4), dtype="<u4")
    words[:, :3] = _PADDING_WORDS
    words[:, 3] = (np.arange(count, dtype=np.int64) + first) & 0xFFFFFFFF
    return words.tobytes()


class RpiDeriver:
    """Derives the 144 RPIs of up to `capacity` keys into one reusable buffer."""

    def __init__(self, capacity: int) -> None:
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        # update_into wants room for one more block than it writes; the spare 16 bytes are it.
        self._out = bytearray(capacity * KEY_BLOCK_BYTES + BLOCK)
        view = memoryview(self._out)
        self._view = view
        # One memoryview per output slot, made once: the loop then creates no slices per key.
        self._targets = [view[i * KEY_BLOCK_BYTES :] for i in range(capacity)]

    def derive(self, key_data: bytes, rolling_start: npt.NDArray[np.int64]) -> memoryview:
        """RPIs of each key's 144 intervals from its start: n * 2,304 bytes, key-major."""
        n = int(rolling_start.shape[0])
        if n > self.capacity:
            self._allocate(n)
        if n == 0:
            return self._view[:0]
        base = int(rolling_start.min())
        span = int(rolling_start.max()) - base + RPIS_PER_KEY
        if span <= _MAX_WINDOW:
            padded = memoryview(padded_blocks(base, span))
            offsets = ((rolling_start - base) * BLOCK).tolist()
            # Keys mostly start at a UTC midnight, so a few distinct views serve the whole chunk.
            views = {o: padded[o : o + KEY_BLOCK_BYTES] for o in set(offsets)}
            sources = map(views.__getitem__, offsets)
        else:
            padded = memoryview(_per_key_blocks(rolling_start))
            sources = map(
                padded.__getitem__,
                map(slice, range(0, n * KEY_BLOCK_BYTES, KEY_BLOCK_BYTES), _ends(n)),
            )
        # A V16 array's tolist() gives one bytes object per key in C, trailing zeros kept.
        teks = np.frombuffer(key_data, dtype="V16", count=n).tolist()
        # `hkdf_rpik` unrolled into the map chain so the loop stays in C (see the docstring);
        # the tests check the derived RPIs against `gaen.keys`, the spec's definition.
        prks = map(_hmac_digest, repeat(_ZERO_SALT), teks, repeat("sha256"))
        okms = map(_hmac_digest, prks, repeat(_INFO_RPIK_T1), repeat("sha256"))
        encryptors = map(make_encryptor, map(algorithms.AES, map(_first16, okms)), repeat(_ECB))
        deque(map(_update_into, encryptors, sources, self._targets), maxlen=0)
        return self._view[: n * KEY_BLOCK_BYTES]


def _ends(n: int) -> range:
    return range(KEY_BLOCK_BYTES, (n + 1) * KEY_BLOCK_BYTES, KEY_BLOCK_BYTES)


def _per_key_blocks(rolling_start: npt.NDArray[np.int64]) -> bytes:
    n = rolling_start.shape[0]
    words = np.empty((n, RPIS_PER_KEY, 4), dtype="<u4")
    words[:, :, :3] = _PADDING_WORDS
    words[:, :, 3] = (rolling_start[:, None] + np.arange(RPIS_PER_KEY)) & 0xFFFFFFFF
    return words.tobytes()
