"""Raw HKDF and AES for the GAEN key schedule; only the recipe modules import this."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf_sha256_16(ikm: bytes, info: bytes) -> bytes:
    # salt=None is RFC 5869's 32 zero bytes, which is what the GAEN spec and KeyDerivation.java use.
    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=info).derive(ikm)


def aes128_ecb(key: bytes, blocks: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the spec's mode
    return encryptor.update(blocks) + encryptor.finalize()


def aes128_ctr(key: bytes, counter_block: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(counter_block)).encryptor()
    return encryptor.update(data) + encryptor.finalize()
