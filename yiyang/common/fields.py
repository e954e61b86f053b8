"""Model fields for personal data encrypted at rest."""

from __future__ import annotations

from django.db import models

from yiyang.common import crypto


class EncryptedCharField(models.TextField):
    """Stores AES-GCM ciphertext; Python side sees the plain string.

    Pair it with a ``CharField`` holding ``crypto.blind_index(value)`` when the value
    must be looked up or kept unique.
    """

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(crypto.PREFIX):
            return crypto.decrypt(value)
        return value

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
