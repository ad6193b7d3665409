"""The web chat page: tenant, languages, strings, static files, headers, and the API it drives."""

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import AsyncClient
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Tenant
from dialogue.widget import widget_strings

pytestmark = pytest.mark.django_db


def page_url(tenant: Tenant) -> str:
    return f"/chat/{tenant.widget_key}/"


class PageParser(HTMLParser):
    """The page's <script> tags, json_script payloads and inline style/event attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.json: dict[str, str] = {}
        self.inline_attributes: list[str] = []
        self._json_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.inline_attributes += [n for n in attributes if n == "style" or n.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes)
            if attributes.get("type") == "application/json":
                self._json_id = attributes["id"]

    def handle_data(self, data: str) -> None:
        if self._json_id:
            self.json[self._json_id] = data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._json_id = None


def parse(response) -> PageParser:
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


def page_data(response) -> tuple[dict, dict]:
    found = parse(response).json
    return json.loads(found["widget-config"]), json.loads(found["widget-strings"])


def test_page_shows_its_own_tenant_only(client, tenant_a, tenant_b):
    response = client.get(page_url(tenant_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert tenant_a.name in html
    assert tenant_b.name not in html and tenant_b.widget_key not in html
    config, _strings = page_data(response)
    assert config["widgetKey"] == tenant_a.widget_key
    # Nothing about the tenant but its public key: no id, slug or settings.
    assert set(config) == {"widgetKey", "language", "maxChars", "pollSeconds", "urls"}
    assert config["urls"]["socket"] == "/ws/chat/"
    assert tenant_a.slug not in html
    assert tenant_b.name in client.get(page_url(tenant_b)).content.decode()


def test_unknown_or_inactive_key_is_a_404_page(client, tenant_a, tenant_b):
    assert client.get("/chat/no-such-key/").status_code == 404
    Tenant.objects.filter(pk=tenant_b.pk).update(is_active=False)
    response = client.get(page_url(tenant_b))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert tenant_b.name not in response.content.decode()
    assert client.get(page_url(tenant_a)).status_code == 200
    assert client.post(page_url(tenant_a)).status_code == 405


def strings_in(language: str) -> dict[str, str]:
    with translation.override(language):
        return widget_strings(max_chars=2000)


def test_simplified_chinese_by_default(client, tenant_a):
    response = client.get(page_url(tenant_a))
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()
    config, strings = page_data(response)
    assert config["language"] == "zh-hans"
    assert strings == strings_in("zh-hans")
    with translation.override("zh-hans"):
        assert strings["answer_failed"] == gettext("The answer could not be completed.")
    assert strings["answer_failed"] != "The answer could not be completed."


def test_english_from_accept_language_or_cookie(client, tenant_a):
    english = strings_in("en")
    assert english["answer_failed"] == "The answer could not be completed."
    response = client.get(page_url(tenant_a), headers={"accept-language": "en-US,en;q=0.9"})
    assert response["Content-Language"] == "en"
    config, strings = page_data(response)
    assert config["language"] == "en" and strings == english

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(page_url(tenant_a), headers={"accept-language": "zh-CN"})
    assert '<html lang="en">' in response.content.decode()
    assert page_data(response)[1] == english


def test_language_switch_returns_to_the_page(client, tenant_a):
    page = page_url(tenant_a)
    html = client.get(page).content.decode()
    assert 'action="/i18n/setlang/"' in html and f'value="{page}"' in html
    switched = client.post("/i18n/setlang/", {"language": "en", "next": page})
    assert switched.status_code == 302 and switched["Location"] == page
    assert client.get(page)["Content-Language"] == "en"


CHAT_SCRIPTS = Path(__file__).resolve().parents[1] / "static" / "dialogue" / "chat"
SHARED_SCRIPTS = CHAT_SCRIPTS.parent / "live"


def test_every_string_the_scripts_use_is_provided(client, tenant_a):
    _config, strings = page_data(client.get(page_url(tenant_a)))
    used = set()
    for script in CHAT_SCRIPTS.glob("*.js"):
        used |= set(re.findall(r"\b(?:t|strings)\.([a-z_]+)", script.read_text()))
    assert used and used <= set(strings), used - set(strings)
    assert all(isinstance(text, str) and text for text in strings.values())


def test_static_files_resolve(client, tenant_a):
    html = client.get(page_url(tenant_a)).content.decode()
    for name in ("dialogue/chat/main.js", "dialogue/chat/chat.css"):
        assert finders.find(name), name
        assert f"{settings.STATIC_URL}{name}" in html
    # Every module the page loads, and what they import, is there: no build step.
    for script in [*CHAT_SCRIPTS.glob("*.js"), *SHARED_SCRIPTS.glob("*.js")]:
        for target in re.findall(r'^import .* from "(\.[^"]+)";$', script.read_text(), re.M):
            assert (script.parent / target).resolve().is_file(), f"{script.name} imports {target}"


def test_security_headers_allow_framing_but_no_inline_code(client, tenant_a):
    response = client.get(page_url(tenant_a))
    assert "X-Frame-Options" not in response
    policy = response["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'self'",
    ):
        assert directive in policy
    page = parse(response)
    assert page.inline_attributes == []
    assert all(s.get("src") or s.get("type") == "application/json" for s in page.scripts)
    modules = [s for s in page.scripts if s.get("type") == "module"]
    assert [s["src"] for s in modules] == [f"{settings.STATIC_URL}dialogue/chat/main.js"]
    # Every other page still refuses to be framed.
    assert client.get("/admin/login/")["X-Frame-Options"] == "DENY"


def test_the_launcher_words_for_the_embed_script(client, tenant_a):
    url = f"/chat/{tenant_a.widget_key}/launcher/"
    chinese = client.get(url)
    assert chinese.status_code == 200 and chinese["Access-Control-Allow-Origin"] == "*"
    with translation.override("zh-hans"):
        assert chinese.json()["open"] == gettext("Chat with us") != "Chat with us"
    english = client.get(url, headers={"accept-language": "en"}).json()
    assert english == {
        "open": "Chat with us",
        "close": "Close the chat",
        "title": f"{tenant_a.name} · Online support",
    }
    assert client.get("/chat/no-such-key/launcher/").status_code == 404
    embed = Path(finders.find("dialogue/widget.js")).read_text()
    assert "document.currentScript" in embed and "/launcher/" in embed


def test_frame_ancestors_are_each_tenants_own(client, tenant_a, tenant_b):
    tenant_a.widget_frame_ancestors = "https://www.a.example\nhttps://*.shop.a.example"
    tenant_a.full_clean()
    tenant_a.save()
    policy_a = client.get(page_url(tenant_a))["Content-Security-Policy"]
    policy_b = client.get(page_url(tenant_b))["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.a.example https://*.shop.a.example" in policy_a
    assert "frame-ancestors 'self';" in policy_b + ";"
    assert "a.example" not in policy_b


@pytest.mark.parametrize("value", ["*", "javascript:alert(1)", "https://a.example/path", "'none'"])
def test_frame_ancestors_accept_origins_only(tenant_a, value):
    tenant_a.widget_frame_ancestors = value
    with pytest.raises(ValidationError):
        tenant_a.full_clean()


def stream_accept_header() -> str:
    script = (CHAT_SCRIPTS / "api.js").read_text()
    return re.search(r'stream \? "([^"]+)"', script).group(1)


def stream(url: str, token: str, body: dict) -> list[tuple[str, dict]]:
    accept = stream_accept_header()

    async def run() -> bytes:
        response = await AsyncClient().post(
            url,
            body,
            content_type="application/json",
            headers={"Authorization": f"Visitor {token}", "Accept": accept},
        )
        assert response.status_code == 200
        return b"".join([chunk async for chunk in response.streaming_content])

    events = []
    for block in async_to_sync(run)().decode().strip().split("\n\n"):
        name, data = block.split("\n", 1)
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def test_the_conversation_the_page_drives(client, tenant_a, tenant_b, refund_entries):
    """The calls the page's fallback (chat/fallback.js) makes, with the fields it reads,
    against the real API."""
    config, _strings = page_data(client.get(page_url(tenant_a)))
    urls = config["urls"]
    issued = client.post(
        urls["visitorToken"],
        {"widget_key": config["widgetKey"], "visitor_id": "v-0123abcd"},
        content_type="application/json",
    ).json()["data"]
    assert issued["token"] and issued["expires_in"] > 60
    auth = {"authorization": f"Visitor {issued['token']}", "accept-language": "en"}

    session = client.post(urls["sessions"], {}, content_type="application/json", headers=auth)
    session = session.json()["data"]
    assert session["status"] == "active" and session["message_count"] == 0
    base = f"{urls['sessions']}{session['id']}/"

    body = {"content": "退款多久到账", "client_message_id": "c-1"}
    events = stream(f"{base}stream/", issued["token"], body)
    assert events[0][0] == "delta" and events[-1][0] == "done"
    done = events[-1][1]
    assert done["session"] == session["id"] and done["session_status"] == "active"
    assert done["answer"] and done["message"] and done["citations"] and done["kb_only"]
    assert done["text"] == "".join(data["text"] for name, data in events if name == "delta")
    again = stream(f"{base}stream/", issued["token"], body)[-1][1]
    assert again["duplicate"] is True and again["answer"] == done["answer"]

    history = client.get(f"{base}messages/?page=1&page_size=50", headers=auth).json()
    assert history["meta"]["pagination"]["pages"] == 1
    assert [m["id"] for m in history["data"]] == [done["message"], done["answer"]]
    thumbs = {"message": done["answer"], "thumbs": "up"}
    assert client.post(f"{base}feedback/", thumbs, headers=auth).status_code == 200

    handed = client.post(f"{base}handoff/", headers=auth).json()["data"]
    assert handed["status"] == "handed_off" and handed["work_order"]
    polled = client.get(base, headers=auth).json()["data"]
    assert polled["status"] == "handed_off" and polled["message_count"] == 2

    ended = client.post(f"{base}end/", headers=auth).json()["data"]
    assert ended["status"] == "ended"
    closed = client.post(f"{base}messages/", {"content": "还在吗"}, headers=auth).json()
    assert closed["error"]["code"] == "session_ended"
    rated = client.post(f"{base}feedback/", {"rating": 5}, headers=auth).json()["data"]
    assert rated["satisfaction"] == 5

    too_long = {"content": "长" * (config["maxChars"] + 1)}
    fresh = client.post(urls["sessions"], {}, headers=auth).json()["data"]
    assert fresh["id"] != session["id"]
    refused = client.post(
        f"{urls['sessions']}{fresh['id']}/stream/",
        too_long,
        content_type="application/json",
        headers={**auth, "accept": stream_accept_header()},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["content"][0].startswith("The message is too long")
    # The same visitor id on tenant B's page is another visitor: A's session stays A's.
    config_b, _strings = page_data(client.get(page_url(tenant_b)))
    token_b = client.post(
        config_b["urls"]["visitorToken"],
        {"widget_key": config_b["widgetKey"], "visitor_id": "v-0123abcd"},
        content_type="application/json",
    ).json()["data"]["token"]
    assert client.get(base, headers={"authorization": f"Visitor {token_b}"}).status_code == 404


def test_demo_prints_the_web_chat_of_each_demo_tenant(monkeypatch):
    monkeypatch.setenv("HELPDESK_DEMO_PASSWORD", "demo-password-for-tests")
    out = io.StringIO()
    call_command("seed_demo", base_url="http://127.0.0.1:8000/", stdout=out)
    for slug in ("demo", "acme"):
        tenant = Tenant.objects.get(slug=slug)
        assert f"{slug}: web chat http://127.0.0.1:8000/chat/{tenant.widget_key}/" in out.getvalue()
