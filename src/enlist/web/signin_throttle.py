"""Failed admin sign-ins, counted so that an attacker slows themselves down and nobody else.

`SignInThrottle` is pure: timestamps from an injected clock, nothing else. It counts failures
in a sliding window under two keys, and refuses (429, the password not even checked) a sign-in
once either is full:

- (client address, account): `per_account` failures. Guessing one admin's password from one
  address stops here.
- client address: `per_address` failures over all accounts. Trying many accounts from one
  address stops here.

There is deliberately no count per account alone. Keyed by account, anyone who knows an admin's
email could lock that admin out from anywhere; keyed by address alone (as before), everyone
behind one address (a reverse proxy whose forwarded header is not trusted, an office NAT) shares
one lock. So a correct password from an address that has not been failing always gets through,
however many addresses are failing against the same account. What bounds guessing from many
addresses is the argon2 cost of each check and the password policy, not this class (ADR 0013).

A success forgets only its own (address, account) failures: signing in to one's own account
must not reset the address's count, or an admin with one account could guess another's
password between successes. The window is per process; the table is bounded (`max_keys`), the
key idle longest forgotten first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from enlist.web.failure_windows import MAX_KEYS, Clock, FailureWindows


@dataclass
class SignInThrottle:
    """At most `per_account` failed sign-ins per (address, account) and `per_address` per address
    in any `window_s` seconds."""

    per_account: int = 5
    per_address: int = 20
    window_s: float = 900.0
    clock: Clock = time.monotonic
    max_keys: int = MAX_KEYS
    _failures: FailureWindows = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if min(self.per_account, self.per_address, self.max_keys) < 1 or self.window_s <= 0:
            raise ValueError("the limits and max_keys must be at least 1 and the window positive")
        self._failures = FailureWindows(self.window_s, self.clock, self.max_keys)

    def retry_after(self, address: str, account: str) -> int:
        """Whole seconds until this address may try this account again; 0 when it may now."""
        return max(
            self._failures.wait(("pair", address, account_key(account)), self.per_account),
            self._failures.wait(("address", address), self.per_address),
        )

    def failed(self, address: str, account: str) -> None:
        self._failures.record(("pair", address, account_key(account)))
        self._failures.record(("address", address))

    def succeeded(self, address: str, account: str) -> None:
        self._failures.forget(("pair", address, account_key(account)))

    def __len__(self) -> int:
        """How many keys are held (for tests of the bound)."""
        return len(self._failures)


def account_key(email: str) -> str:
    """The account an email names, as sign-in compares it (case and outer spaces ignored), bounded
    so that a made-up one costs little."""
    return email.strip().casefold()[:254]
