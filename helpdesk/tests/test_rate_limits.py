"""The anonymous rate: per trusted address, and one shared bucket for unknown ones."""

from django.contrib.auth.models import AnonymousUser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from helpdesk.rate_limits import AnonRateThrottle


def anonymous(remote_addr: str) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/x/", REMOTE_ADDR=remote_addr))
    request.user = AnonymousUser()
    return request


def test_addresses_get_their_own_bucket_and_unknown_ones_still_a_limit():
    throttle = AnonRateThrottle()
    first = throttle.get_cache_key(anonymous("192.0.2.1"), None)
    assert first != throttle.get_cache_key(anonymous("192.0.2.2"), None)
    # No socket peer: nothing tells such clients apart, but they are not unlimited.
    unknown = throttle.get_cache_key(anonymous(""), None)
    assert unknown is not None
    assert unknown == throttle.get_cache_key(anonymous("not an address"), None)
