"""The client's address: the socket's peer, or what a configured number of trusted
proxies in front of the application say it is.

Each proxy appends the address it received the request from to `X-Forwarded-For`, so
with N trusted proxies the client is the N-th entry from the right: everything left of
it was written by the client and can be anything. With no trusted proxies (the
default) the header is never read. A request carrying fewer entries than there are
proxies did not come through them, and its socket peer is used.

DRF's throttles, the login limiter and any other per-address limit call this one
function, so a client cannot rotate the header to get a fresh limit.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address_of(peer: str | None, forwarded_for: str | None) -> str:
    """The client address from the socket peer and the X-Forwarded-For header's value."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if len(hops) >= proxies:
            found = _valid(hops[-proxies])
            if found is not None:
                return found
    return _valid(peer or "") or UNKNOWN


def client_address(request: HttpRequest) -> str:
    """The client address of a Django (or DRF) request."""
    meta = request.META
    return client_address_of(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))
