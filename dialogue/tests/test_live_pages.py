"""The chat page and the staff desk in headless Chromium, on the real ASGI server:
a customer and an agent in two browser contexts (hand-off, claim, live reply, typing,
teaching the assistant, reconnect, end), the fallback without WebSockets, and
screenshots of both pages."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from accounts.models import ApiToken
from conftest import make_user
from dialogue.models import ChatSession, Role, SessionStatus
from dialogue.tests.browser import (
    SCREENSHOTS,
    AsgiServer,
    launch,
    off_the_loop,
    screenshot,
    session_cookie,
    wait_until,
)
from helpdesk.roles import Role as StaffRole
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port
from knowledge.models import WordingProposal

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(transactional_db) -> Iterator[AsgiServer]:
    running = AsgiServer()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def chat_page(browser, server, tenant, language="zh-hans", switch=None, script=None):
    context = browser.new_context(
        viewport={"width": 480, "height": 760}, locale="zh-CN" if language == "zh-hans" else "en-US"
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": server.url}])
    if script:
        context.add_init_script(script)
    page = context.new_page()
    if switch is not None:
        page.route_web_socket("**/ws/chat/", switch.handle)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{server.url}/chat/{tenant.widget_key}/")
    return page


def test_chat_page_answers_with_sources(server, tenant_a, llm, refund_entries, browser):
    page = chat_page(browser, server, tenant_a)
    page.wait_for_selector("#welcome:not([hidden])")
    page.fill("#composer-input", "退款多久到账")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg--assistant .msg-source")
    screenshot(page, "chat-zh-hans")
    titles = page.locator(".msg-source").all_inner_texts()
    assert set(titles) <= {entry.question for entry in refund_entries} and titles
    assert page.errors == []


# Headless Chromium shows no notifications: record the ones the desk makes.
RECORD_NOTIFICATIONS = """
window.shownNotifications = [];
const RealNotification = window.Notification;
class RecordedNotification extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.shownNotifications.push({ title, body: options && options.body });
  }
}
Object.defineProperty(RecordedNotification, "permission", {
  get: () => RealNotification.permission,
});
RecordedNotification.requestPermission = () => RealNotification.requestPermission();
window.Notification = RecordedNotification;
"""


class SocketSwitch:
    """The chat page's WebSockets through playwright, so a test can cut the network: a
    blocked switch drops the open sockets and refuses new ones until it is let through."""

    def __init__(self) -> None:
        self.routes: list = []
        self.blocked = False
        self.refused = 0

    def handle(self, route) -> None:
        if self.blocked:
            self.refused += 1
            route.close()
            return
        server_side = route.connect_to_server()
        self.routes.append((route, server_side))

    def cut(self) -> None:
        self.blocked = True
        for route, server_side in self.routes:
            server_side.close()
            route.close()
        self.routes.clear()


def desk_page(browser, server, user, language="zh-hans", viewport=(1440, 900)):
    cookie = off_the_loop(session_cookie, user)
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN" if language == "zh-hans" else "en-US",
    )
    context.grant_permissions(["notifications"], origin=server.url)
    context.add_cookies(
        [
            {"name": "sessionid", "value": cookie, "url": server.url},
            {"name": "django_language", "value": language, "url": server.url},
        ]
    )
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{server.url}/desk/")
    page.wait_for_selector(".desk-connection[data-state=online]")
    return page


def reply_through_the_api(server, user, tenant, content: str) -> None:
    """An agent's reply through the REST API (another integration, not the desk)."""

    def prepare() -> tuple[str, int]:
        _token, key = ApiToken.issue(user=user, max_age=timedelta(hours=1))
        with tenant_scope(tenant):
            return key, ChatSession.objects.get().pk

    key, session_id = off_the_loop(prepare)
    response = httpx.post(
        f"{server.url}/api/v1/chat/sessions/{session_id}/reply/",
        json={"content": content},
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def proposals(tenant) -> list[tuple[str, int]]:
    with tenant_scope(tenant):
        return list(WordingProposal.objects.values_list("reason", "entry_id"))


def ids_shown(page, selector) -> list[int]:
    return [int(i) for i in page.locator(selector).evaluate_all("ns => ns.map(n => n.dataset.id)")]


def test_a_customer_and_an_agent_talk_live(server, tenant_a, agent_a, llm, refund_entries, browser):
    desk = desk_page(browser, server, agent_a)
    switch = SocketSwitch()
    chat = chat_page(browser, server, tenant_a, switch=switch)
    chat.wait_for_selector("#welcome:not([hidden])")

    # The assistant answers, with its sources by title; the customer likes the answer.
    chat.fill("#composer-input", "退款多久到账")
    chat.keyboard.press("Enter")
    chat.wait_for_selector(".msg--assistant .msg-source")
    chat.click(".msg-thumb--up")
    chat.wait_for_selector(".msg-thumb--up[aria-pressed=true]")

    # 转人工: the desk's queue shows it at once, with a notification.
    chat.click("#handoff-button")
    chat.wait_for_selector("#banner:not([hidden])")
    desk.wait_for_selector(".desk-entry")
    wait_until(desk, "() => window.shownNotifications.length === 1")
    assert desk.locator("#desk-open-count").inner_text() == "1"

    # The agent opens and claims it: the customer sees who answers.
    desk.click(".desk-entry-button")
    desk.wait_for_selector(".desk-msg--user")
    assert desk.locator("#desk-workorder .desk-workorder-title").inner_text().startswith("#")
    desk.click("[data-act=claim]")
    chat.wait_for_selector(".msg--system >> text=agent-a")
    chat.wait_for_selector("#banner-avatar:not([hidden])")
    assert chat.locator("#chat-status").inner_text().startswith("agent-a")

    # Typing and a live reply, with the agent's name and initial.
    desk.fill("#desk-input", "您好，")
    desk.type("#desk-input", "我")
    chat.wait_for_selector(".msg--agent.is-typing")
    desk.fill("#desk-input", "您好，我是客服，来帮您处理退款。")
    desk.keyboard.press("Enter")
    chat.wait_for_selector(".msg--agent:not(.is-typing) .msg-bubble >> text=来帮您处理退款")
    assert chat.locator(".msg--agent:not(.is-typing) .msg-avatar").inner_text() == "A"
    chat.type("#composer-input", "好")
    desk.wait_for_selector("#desk-typing:not([hidden])")
    chat.fill("#composer-input", "好的，谢谢")
    chat.keyboard.press("Enter")
    desk.wait_for_selector(".desk-msg--user >> text=好的，谢谢")

    # An internal note stays on the desk.
    desk.check("input[name=mode][value=note]")
    desk.fill("#desk-input", "客户很着急，优先处理")
    desk.keyboard.press("Enter")
    desk.wait_for_selector(".desk-msg--note >> text=客户很着急")

    # A knowledge answer inserted, and a reply the AI drafted, edited before sending.
    desk.check("input[name=mode][value=reply]")
    desk.fill("#desk-search-q", "退款")
    desk.click("#desk-search button")
    desk.click(".desk-hit button >> nth=0")
    inserted = desk.input_value("#desk-input")
    (built_on,) = [entry for entry in refund_entries if entry.answer == inserted]
    assert built_on.question in desk.locator("#desk-entry-hint").inner_text()
    desk.keyboard.press("Enter")
    chat.wait_for_selector(f".msg--agent .msg-bubble >> text={inserted[:12]}")
    desk.wait_for_selector("#desk-entry-hint", state="hidden")
    # The reply was built on that entry: the customer's questions are proposed for it.
    assert ("handoff_resolved", built_on.pk) in off_the_loop(proposals, tenant_a)

    # The assistant's answer was wrong: the agent picks the right entry in the search.
    desk.click(".desk-msg--assistant .desk-msg-correct")
    desk.wait_for_selector("#desk-correcting:not([hidden])")
    desk.keyboard.press("Escape")
    desk.wait_for_selector("#desk-correcting", state="hidden")
    assert desk.locator(".desk-hit [data-right]").count() == 0
    desk.click(".desk-msg--assistant .desk-msg-correct")
    right = desk.locator(".desk-hit", has_text=built_on.question).locator("[data-right]")
    right.wait_for()
    assert desk.input_value("#desk-search-q") == "退款多久到账"
    screenshot(desk, "desk-zh-hans-correct")
    right.click()
    desk.wait_for_selector(f".desk-msg--note >> text={built_on.question}")
    desk.wait_for_selector(".desk-msg--assistant .desk-tag >> text=已标记答错")
    # The reply above already proposed the customer's question for that entry.
    assert desk.locator("#desk-notice").inner_text() == "已标记答错。正确条目已包含这个问法。"
    assert desk.locator("#desk-correcting").is_hidden()
    desk.click("#desk-draft")
    desk.wait_for_selector("#desk-draft-hint:not([hidden])")
    drafted = desk.input_value("#desk-input")
    assert drafted.startswith("Stub answer")
    desk.fill("#desk-input", f"{drafted}（已核对）")
    screenshot(desk, "desk-zh-hans")
    desk.keyboard.press("Enter")
    chat.wait_for_selector(".msg--agent .msg-bubble >> text=（已核对）")
    screenshot(chat, "chat-zh-hans-agent")

    # The network drops: a reply and a message written meanwhile arrive once each.
    switch.cut()
    chat.wait_for_selector("#connection:not([hidden])")
    desk.fill("#desk-input", "断线期间的回复")
    desk.keyboard.press("Enter")
    desk.wait_for_selector(".desk-msg--agent >> text=断线期间的回复")
    chat.fill("#composer-input", "断线时写的消息")
    chat.keyboard.press("Enter")
    chat.wait_for_selector(".msg--user.is-pending")
    screenshot(chat, "chat-zh-hans-offline")
    while switch.refused < 1:  # one attempt to reconnect fails first
        chat.wait_for_timeout(100)
    switch.blocked = False
    chat.wait_for_selector(".msg--agent .msg-bubble >> text=断线期间的回复", timeout=20000)
    desk.wait_for_selector(".desk-msg--user >> text=断线时写的消息")
    chat.wait_for_selector("#connection", state="hidden")

    # The server restarts: both pages come back and the conversation goes on.
    server.stop()
    chat.wait_for_selector("#connection:not([hidden])")
    server.start()
    desk.wait_for_selector(".desk-connection[data-state=online]", timeout=30000)
    chat.wait_for_selector("#connection", state="hidden", timeout=30000)
    desk.fill("#desk-input", "重启之后的回复")
    desk.keyboard.press("Enter")
    chat.wait_for_selector(".msg--agent .msg-bubble >> text=重启之后的回复")

    shown = ids_shown(chat, "#messages > li")
    assert len(shown) == len(set(shown)) and shown == sorted(shown)
    assert chat.locator("text=客户很着急").count() == 0
    assert chat.locator(".msg--agent .msg-bubble >> text=断线期间的回复").count() == 1
    assert chat.locator(".msg--user .msg-bubble >> text=断线时写的消息").count() == 1
    assert desk.locator(".desk-msg--user >> text=断线时写的消息").count() == 1

    # A colleague comes to the desk: the conversation is transferred, then handed back.
    colleague = off_the_loop(make_user, tenant_a, StaffRole.AGENT, "agent-a2")
    other_desk = desk_page(browser, server, colleague)
    desk.wait_for_selector(f"#desk-transfer-to option[value='{colleague.pk}']", state="attached")
    desk.select_option("#desk-transfer-to", str(colleague.pk))
    desk.click("[data-act=transfer]")
    chat.wait_for_selector("#chat-status >> text=agent-a2")
    other_desk.click("[role=tab][data-view=mine]")
    other_desk.click(".desk-entry-button")
    other_desk.wait_for_selector("[data-act=release]:not([disabled])")
    other_desk.click("[data-act=release]")
    chat.wait_for_selector("#handoff-button:not([disabled])")
    assert chat.locator("#banner").is_hidden()

    # The agent ends it; the customer rates the conversation.
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("[data-act=end]")
    chat.wait_for_selector("#ended:not([hidden])")
    chat.click(".chat-star[data-rating='5']")
    chat.wait_for_selector(".chat-star[data-rating='5'][aria-pressed=true]")
    screenshot(chat, "chat-zh-hans-ended")

    def saved():
        with tenant_scope(tenant_a):
            session = ChatSession.objects.order_by("pk").first()
            return session, list(session.messages.values_list("role", "content"))

    session, messages = off_the_loop(saved)
    assert session.status == SessionStatus.ENDED and session.satisfaction == 5
    contents = [content for _role, content in messages]
    assert contents.count("断线期间的回复") == 1 and contents.count("断线时写的消息") == 1
    assert (Role.NOTE, "客户很着急，优先处理") in messages

    # A new conversation starts empty and is answered by the assistant again.
    chat.click("#new-conversation")
    chat.wait_for_selector("#welcome:not([hidden])")
    assert chat.locator("#messages > li").count() == 0
    chat.fill("#composer-input", "如何申请退款")
    chat.keyboard.press("Enter")
    chat.wait_for_selector(".msg--assistant[data-id] .msg-source")

    def sessions() -> list[str]:
        with tenant_scope(tenant_a):
            return list(ChatSession.objects.order_by("pk").values_list("status", flat=True))

    assert off_the_loop(sessions) == [SessionStatus.ENDED, SessionStatus.ACTIVE]
    assert desk.errors == [] and chat.errors == [] and other_desk.errors == []


def test_in_english_nobody_online_and_a_viewer_who_reads(
    server, tenant_a, viewer_a, llm, refund_entries, browser
):
    viewer = desk_page(browser, server, viewer_a, language="en")
    chat = chat_page(browser, server, tenant_a, language="en")
    chat.wait_for_selector("#welcome:not([hidden])")
    chat.fill("#composer-input", "How long does a refund take?")
    chat.keyboard.press("Enter")
    chat.wait_for_selector(".msg--assistant .msg-feedback")
    chat.click("#handoff-button")
    chat.wait_for_selector("#banner.chat-banner--nobody")
    notice = chat.locator("#banner-text").inner_text()
    assert notice.startswith("No one from our support team is online right now.")
    assert re.search(r"work order WO-\S+ and an agent", notice) and "reply in this chat" in notice
    screenshot(chat, "chat-en-nobody-online")

    viewer.wait_for_selector(".desk-entry")
    viewer.click(".desk-entry-button")
    viewer.wait_for_selector(".desk-msg--user")
    assert viewer.locator("#desk-readonly").is_visible()
    assert not viewer.locator("#desk-composer").is_visible()
    assert viewer.locator("#desk-actions [data-act]:visible").count() == 0
    assert viewer.locator(".desk-msg--assistant").count() >= 1
    assert viewer.locator(".desk-msg-correct").count() == 0, "viewers correct nothing"
    viewer.fill("#desk-search-q", "退款")
    viewer.click("#desk-search button")
    viewer.wait_for_selector(".desk-hit")
    assert viewer.locator(".desk-hit button").count() == 0, "viewers insert nothing"
    screenshot(viewer, "desk-en-viewer")
    assert viewer.errors == [] and chat.errors == []


NO_WEBSOCKETS = "delete window.WebSocket;"


def test_without_websockets_the_chat_streams_over_server_sent_events(
    server, tenant_a, agent_a, llm, refund_entries, browser
):
    chat = chat_page(browser, server, tenant_a, script=NO_WEBSOCKETS)
    sockets = []
    chat.on("websocket", lambda socket: sockets.append(socket.url))
    chat.wait_for_selector("#welcome:not([hidden])")
    chat.fill("#composer-input", "退款多久到账")
    chat.keyboard.press("Enter")
    chat.wait_for_selector(".msg--assistant .msg-source")
    titles = set(chat.locator(".msg-source").all_inner_texts())
    assert titles and titles <= {entry.question for entry in refund_entries}
    chat.click(".msg-thumb--down")
    chat.wait_for_selector(".msg-thumb--down[aria-pressed=true]")
    chat.click("#handoff-button")
    chat.wait_for_selector("#banner:not([hidden])")

    reply_through_the_api(server, agent_a, tenant_a, "人工回复")
    chat.wait_for_selector(".msg--agent .msg-bubble >> text=人工回复", timeout=15000)
    shown = ids_shown(chat, "#messages > li")
    assert len(shown) == len(set(shown))
    assert sockets == [] and chat.errors == []


class Shops:
    """Two tenants' own sites on this machine (another origin than the helpdesk's), each
    page carrying the embed script with its tenant's widget key."""

    def __init__(self, server: AsgiServer, keys: dict[str, str]) -> None:
        pages = {
            f"/{name}/": (
                "<!doctype html><html lang='zh'><head><title>Shop</title></head><body>"
                f"<h1>{name}</h1><script src='{server.url}/static/dialogue/widget.js' "
                f"data-key='{key}' async></script></body></html>"
            ).encode()
            for name, key in keys.items()
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, b"")
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.origin = f"http://localhost:{self.port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_embed_script_opens_the_chat_on_a_listed_site_only(
    server, tenant_a, tenant_b, agent_a, llm, browser
):
    shops = Shops(server, {"listed": tenant_a.widget_key, "unlisted": tenant_b.widget_key})

    def list_the_shop():
        tenant_a.widget_frame_ancestors = shops.origin
        tenant_a.save()

    off_the_loop(list_the_shop)
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{shops.origin}/listed/")
    launcher = page.locator("[data-helpdesk-launcher]")
    launcher.wait_for()
    wait_until(
        page, "() => document.querySelector('[data-helpdesk-launcher]').getAttribute('aria-label')"
    )
    assert launcher.get_attribute("aria-label") == "在线客服"
    launcher.click()
    frame = page.frame_locator("[data-helpdesk-panel] iframe")
    frame.locator("#welcome:not([hidden])").wait_for()
    frame.locator("#composer-input").fill("你好")
    frame.locator("#composer-input").press("Enter")
    frame.locator(".msg--assistant[data-id] .msg-bubble").wait_for()
    assert launcher.get_attribute("aria-expanded") == "true"
    assert not frame.locator("#language-form").is_visible(), "no language switch in a frame"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "embed-zh-hans.png"))
    page.keyboard.press("Escape")
    assert launcher.get_attribute("aria-expanded") == "false"
    # The team answers while the chat is closed: the launcher shows it.
    reply_through_the_api(server, agent_a, tenant_a, "您好，我来帮您")
    page.locator("[data-helpdesk-unread]").wait_for()
    launcher.click()
    frame.locator(".msg--agent .msg-bubble >> text=您好，我来帮您").wait_for()
    assert not page.locator("[data-helpdesk-unread]").is_visible()

    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto(f"{shops.origin}/unlisted/")
        page.locator("[data-helpdesk-launcher]").click()
    assert page.frame_locator("[data-helpdesk-panel] iframe").locator("#chat").count() == 0
    assert errors == []
    context.close()
    shops.close()
