"""Fernet encryption of target passwords, with key rotation.

``DATAFLOW_FERNET_KEYS`` lists keys newest first; MultiFernet encrypts with the first and
decrypts with any, so a new key can be put in front while old rows stay readable.
A token no key opens raises ``SecretDecryptionError``: we never hand back ciphertext.
"""

from cryptography.fernet import InvalidToken, MultiFernet, Fernet
from django.conf import settings


class SecretDecryptionError(Exception):
    """The stored secret cannot be decrypted with any configured key."""


def _fernet(keys=None) -> MultiFernet:
    keys = keys if keys is not None else settings.FERNET_KEYS
    if not keys:
        raise SecretDecryptionError("no Fernet key is configured (DATAFLOW_FERNET_KEYS)")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt_secret(plaintext: str, keys=None) -> str:
    return _fernet(keys).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str, keys=None) -> str:
    if not token:
        return ""
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            "the stored password cannot be decrypted with the configured DATAFLOW_FERNET_KEYS"
        ) from None


def rotate_secret(token: str, keys=None) -> str:
    """Re-encrypt a token with the newest key."""
    return _fernet(keys).rotate(token.encode()).decode() if token else token
