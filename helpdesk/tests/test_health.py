import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client


@pytest.mark.django_db
def test_all_checks_ok():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "cache",
        "channel_layer",
    }


@pytest.mark.django_db
def test_broken_cache_is_reported_with_503(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_broken_channel_layer_is_reported_with_503(settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()  # the conftest's fixture drops it again afterwards
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["ok"] is False


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis channel layer needs REDIS_URL")
async def test_a_consumer_waiting_for_messages_outlasts_no_read_timeout():
    """channels_redis waits for a consumer's messages with BZPOPMIN for `brpop_timeout`
    seconds: the layer's connections must read for longer than that, or a busy Redis
    fails the consumer (redis-py 8 reads within 5 s by default)."""
    from channels_redis.core import RedisChannelLayer  # lazy: installed, used with Redis only

    layer = get_channel_layer()
    channel = await layer.new_channel()
    connection = layer.connection(layer.consistent_hash(channel))
    pool = connection.connection_pool
    try:
        assert pool.connection_kwargs["socket_timeout"] > RedisChannelLayer.brpop_timeout
    finally:
        await layer.close_pools()
