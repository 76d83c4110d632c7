"""Who a credential is, remembered for a few seconds per process.

Resolving a principal reads the user or API key on every request (about 0.3 ms, a fifth of a
cached answer). Within PRINCIPAL_TTL_SECONDS the same credential is answered from memory:
a deactivated user, a changed role or a key revoked by another process takes effect within
that time. A revocation in this process takes effect at once (`credentials_changed`). Entries
are keyed by a digest of the credential, never the credential itself.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from threading import Lock
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from propensity.tenancy.service import Principal

PRINCIPAL_TTL_SECONDS = 5.0
MAX_PRINCIPALS = 10_000

_epoch = 0
_epoch_lock = Lock()


def credentials_changed() -> None:
    """Forget every remembered principal in this process (a key revoked, a user changed)."""
    global _epoch
    with _epoch_lock:
        _epoch += 1


class PrincipalCache:
    def __init__(
        self, *, ttl_seconds: float = PRINCIPAL_TTL_SECONDS, max_entries: int = MAX_PRINCIPALS
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[bytes, tuple[float, int, Principal]] = OrderedDict()
        self._lock = Lock()

    @staticmethod
    def _key(credential: str) -> bytes:
        return hashlib.sha256(credential.encode()).digest()

    def get(self, credential: str) -> Principal | None:
        key = self._key(credential)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, epoch, principal = entry
            if epoch != _epoch or time.monotonic() - stored_at > self._ttl:
                del self._entries[key]
                return None
            return principal

    def put(self, credential: str, principal: Principal) -> None:
        key = self._key(credential)
        with self._lock:
            self._entries[key] = (time.monotonic(), _epoch, principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
