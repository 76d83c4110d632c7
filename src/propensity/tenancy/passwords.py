"""Password and API-key hashing."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))

API_KEY_PREFIX = "pk_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def generate_api_key() -> tuple[str, str]:
    """Returns (full key shown once to the user, lookup prefix stored in clear)."""
    prefix = API_KEY_PREFIX + secrets.token_hex(6)
    return f"{prefix}.{secrets.token_urlsafe(32)}", prefix


def hash_api_key(key: str) -> str:
    # API keys are long random strings, so a fast digest is enough; argon2 on every
    # request would make machine clients pay ~50 ms per call for no added safety.
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), key_hash)
