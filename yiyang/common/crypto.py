"""Field encryption and keyed lookup hashes (ADR 0003).

* ``encrypt``/``decrypt``: AES-256-GCM with a random 96-bit nonce, output
  ``v1:<base64(nonce|ciphertext|tag)>``. The key is derived from
  ``settings.FIELD_ENCRYPTION_KEY`` with HKDF (info ``yiyang-field-v1``).
* ``blind_index``: HMAC-SHA256 of the normalised value under a second HKDF-derived key,
  so equal values can be found (unique constraints, lookups) without decrypting.
* ``mac``: HMAC-SHA256 under a third derived key, used by the audit chain.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "v1:"


@lru_cache(maxsize=8)
def _derive(master: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master.encode())


def _key(info: bytes) -> bytes:
    return _derive(settings.FIELD_ENCRYPTION_KEY, info)


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(b"yiyang-field-v1")).encrypt(nonce, plaintext.encode(), None)
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("not an encrypted value")
    raw = base64.b64decode(token[len(PREFIX) :])
    return AESGCM(_key(b"yiyang-field-v1")).decrypt(raw[:12], raw[12:], None).decode()


def blind_index(value: str) -> str:
    normalised = value.strip().upper()
    return hmac.new(_key(b"yiyang-index-v1"), normalised.encode(), hashlib.sha256).hexdigest()


def mac(data: bytes) -> str:
    return hmac.new(_key(b"yiyang-audit-v1"), data, hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
