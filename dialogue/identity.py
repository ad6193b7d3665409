"""Who a web-chat visitor is: the widget's own anonymous ids, or a tenant's own customer
ids signed by the tenant's server.

A visitor token is given for any visitor id, so an id that names a person (an e-mail
address, a phone number) would let anyone holding the public widget key read that
person's conversations. The widget makes up random ids, which give nothing away; a
tenant that wants its own customer ids signs each one with its identity secret
(HMAC-SHA256 of the id, hex), as Intercom and Chatwoot verify identities, and sends the
signature beside the id. Unsigned ids that look like an e-mail address or a phone number
are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.utils.translation import gettext as _

from accounts.models import Tenant

PHONE_LIKE = re.compile(r"\+?[0-9][0-9 ()-]{5,}[0-9]")
MIN_PHONE_DIGITS = 7


class IdentityRefused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def identity_hash(secret: str, visitor_id: str) -> str:
    """What a tenant's server sends beside a customer id it vouches for."""
    return hmac.new(secret.encode(), visitor_id.encode(), hashlib.sha256).hexdigest()


def names_a_person(visitor_id: str) -> bool:
    if "@" in visitor_id:
        return True
    digits = sum(ch.isdigit() for ch in visitor_id)
    return bool(PHONE_LIKE.fullmatch(visitor_id)) and digits >= MIN_PHONE_DIGITS


def visitor_identity_check(*, tenant: Tenant, visitor_id: str, signature: str) -> None:
    """Raise IdentityRefused unless the id is signed by the tenant or anonymous-looking."""
    if signature:
        if not tenant.identity_secret:
            raise IdentityRefused(
                "identity_hash", _("This tenant does not sign visitor ids (no identity secret).")
            )
        expected = identity_hash(tenant.identity_secret, visitor_id)
        if not hmac.compare_digest(expected, signature.lower()):
            raise IdentityRefused("identity_hash", _("The visitor id's signature is wrong."))
        return
    if names_a_person(visitor_id):
        raise IdentityRefused(
            "visitor_id",
            _(
                "A visitor id that is an e-mail address or a phone number must be signed "
                "(identity_hash)."
            ),
        )
