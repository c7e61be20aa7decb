"""Lease owners: who holds an application's or a source's lease, and whether it still runs.

A lease owner is `host:pid:token`, new for every claim: host and pid say which process holds the
lease, and the token tells apart two claims of one process (Provision on demand beside the
scheduler's cycle), so neither can renew or release the other's lease. A holder whose process on
this host is gone (killed mid-cycle) is free at once: nobody should wait out its expiry. The older
`host:pid` form, written before the token, is read the same way.
"""

from __future__ import annotations

import os
import secrets
import socket


def owner_id() -> str:
    """A new lease owner, unique to one claim: `host:pid:token`."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


def holder_is_dead(holder: str | None) -> bool:
    """True when `holder` (`host:pid:token` or `host:pid`) names a process of this host that no
    longer runs. A holder of another host, of a process that runs (or that this user may not
    signal), or in no form this reads, is alive: its lease is free only once it expires."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
