/*
 * The web chat page (dialogue/widget.py). Talks to the chat API with a visitor token:
 *   POST visitor-token/ -> POST sessions/ (open or resume) -> GET sessions/<id>/messages/
 *   POST sessions/<id>/stream/ (Server-Sent Events: delta..., then done or error)
 *   POST handoff/ end/ feedback/; while handed off, poll the session for agent replies.
 * Server text is only ever set with textContent, never parsed as HTML, and API calls
 * send no cookies: the visitor token is the page's only credential.
 */
(() => {
  "use strict";

  const PAGE_SIZE = 50;
  const FEW_MESSAGES = 10;
  const AUTO_SCROLL_SLACK = 80;

  const byId = (id) => document.getElementById(id);
  const readJSON = (id) => JSON.parse(byId(id).textContent);

  const config = readJSON("widget-config");
  const t = readJSON("widget-strings");
  const el = {
    chat: byId("chat"),
    status: byId("chat-status"),
    handoff: byId("handoff-button"),
    end: byId("end-button"),
    languageForm: byId("language-form"),
    log: byId("chat-log"),
    loadEarlier: byId("load-earlier"),
    messages: byId("messages"),
    welcome: byId("welcome"),
    banner: byId("banner"),
    bannerText: byId("banner-text"),
    error: byId("error"),
    errorText: byId("error-text"),
    errorAction: byId("error-action"),
    ended: byId("ended"),
    rating: byId("rating"),
    ratingThanks: byId("rating-thanks"),
    newConversation: byId("new-conversation"),
    composer: byId("composer"),
    input: byId("composer-input"),
    send: byId("send-button"),
    announcer: byId("announcer"),
  };

  const state = {
    visitorId: null,
    token: null,
    tokenExpires: 0,
    session: null,
    messageCount: null,
    firstPage: 1,
    lastPage: 1,
    shown: new Map(), // message id -> {node, signature}
    pending: null, // {text, clientId}: a message the server may not have received
    busy: false,
    pollTimer: null,
    pollFailed: false,
  };

  // --- helpers -------------------------------------------------------------------------

  const format = (text, values) =>
    text.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function visitorId() {
    if (state.visitorId) return state.visitorId;
    const key = `helpdesk-widget:${config.widgetKey}:visitor`;
    try {
      state.visitorId = localStorage.getItem(key);
      if (!state.visitorId) {
        state.visitorId = `v-${randomId()}`;
        localStorage.setItem(key, state.visitorId);
      }
    } catch {
      // Storage is blocked (private mode, some iframes): this visit keeps its own id.
      state.visitorId = state.visitorId || `v-${randomId()}`;
    }
    return state.visitorId;
  }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function announce(text) {
    el.announcer.textContent = "";
    window.setTimeout(() => {
      el.announcer.textContent = text;
    }, 50);
  }

  const nearBottom = () =>
    el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < AUTO_SCROLL_SLACK;

  const scrollToBottom = () => {
    el.log.scrollTop = el.log.scrollHeight;
  };

  function timeNode(iso) {
    const date = iso ? new Date(iso) : new Date();
    const node = make(
      "time",
      "msg-time",
      date.toLocaleTimeString(config.language, { hour: "2-digit", minute: "2-digit" })
    );
    node.dateTime = date.toISOString();
    return node;
  }

  // --- the API -------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const error = (body && body.error) || {};
      super(error.message || "");
      this.status = status;
      this.code = error.code || "";
      this.fields = error.fields || {};
      this.retryAfter = retryAfter;
    }
  }

  class NetworkError extends Error {}

  async function request(url, options = {}) {
    const headers = {
      // Refusals of a stream come back as JSON envelopes; DRF answers 406 without it.
      Accept: options.stream ? "text/event-stream, application/json" : "application/json",
      "Accept-Language": config.language,
    };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.auth !== false) headers.Authorization = `Visitor ${await visitorToken()}`;
    let response;
    try {
      response = await fetch(url, {
        method: options.method || "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new NetworkError();
    }
    if (response.status === 401 && options.auth !== false && !options.retried) {
      state.token = null;
      return request(url, { ...options, retried: true });
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new ApiError(response.status, body, Number(response.headers.get("Retry-After")) || 0);
    }
    if (options.stream) return response;
    return response.json().catch(() => {
      throw new NetworkError();
    });
  }

  async function visitorToken() {
    if (state.token && Date.now() < state.tokenExpires) return state.token;
    const { data } = await request(config.urls.visitorToken, {
      method: "POST",
      auth: false,
      body: { widget_key: config.widgetKey, visitor_id: visitorId() },
    });
    state.token = data.token;
    state.tokenExpires = Date.now() + Math.max(data.expires_in - 60, 30) * 1000;
    return state.token;
  }

  const sessionUrl = (action) =>
    `${config.urls.sessions}${state.session.id}/${action ? `${action}/` : ""}`;

  async function fetchPage(page) {
    const payload = await request(`${sessionUrl("messages")}?page=${page}&page_size=${PAGE_SIZE}`);
    return { messages: payload.data, pages: payload.meta.pagination.pages };
  }

  // --- errors --------------------------------------------------------------------------

  function showError(text, action) {
    el.errorText.textContent = text;
    el.errorAction.hidden = !action;
    el.errorAction.onclick = null;
    if (action) {
      el.errorAction.textContent = action.label;
      el.errorAction.onclick = () => {
        clearError();
        action.run();
      };
    }
    el.error.hidden = false;
  }

  function clearError() {
    el.error.hidden = true;
    el.errorAction.onclick = null;
    state.pollFailed = false;
  }

  function errorText(error) {
    if (error instanceof NetworkError) return t.network_error;
    if (!(error instanceof ApiError)) return t.generic_error;
    if (error.status === 429) return error.message || t.rate_limited;
    if (error.status >= 500) return t.server_error;
    const content = error.fields.content;
    if (Array.isArray(content) && content.length) return String(content[0]);
    return error.message || t.generic_error;
  }

  const sessionGone = (error) =>
    error instanceof ApiError &&
    (error.status === 404 || (error.status === 409 && error.code === "session_ended"));

  /* Show a failed request; a session that has ended switches the page to the ended state,
   * which offers a new conversation. */
  function report(error) {
    if (sessionGone(error)) {
      clearError();
      setSession({ ...state.session, status: "ended" });
      announce(t.session_ended);
      el.newConversation.focus();
      return;
    }
    if (!(error instanceof ApiError || error instanceof NetworkError)) console.error(error);
    showError(errorText(error));
  }

  // --- messages ------------------------------------------------------------------------

  const signature = (message) => [message.role, message.content, message.thumbs_up].join("\u0000");

  function renderMessage(message) {
    const item = make("li", `msg msg--${message.role}`);
    if (message.id) item.dataset.id = message.id;
    if (message.role === "system") {
      item.append(make("p", "msg-notice", message.content));
      return item;
    }
    const who = { user: t.you, assistant: t.assistant, agent: t.agent }[message.role] || "";
    const header = make("p", "msg-meta");
    header.append(make("span", "msg-author", who), timeNode(message.created_at));
    item.append(header, make("div", "msg-bubble", message.content));
    if (message.role === "assistant" && message.id) item.append(answerDetails(message));
    return item;
  }

  function answerDetails(message) {
    const details = make("div", "msg-details");
    if (message.citations && message.citations.length) {
      const sources = make("p", "msg-sources");
      sources.append(make("span", "msg-sources-label", t.sources));
      for (const id of message.citations) {
        sources.append(" ", make("span", "msg-source", format(t.source_marker, { id })));
      }
      details.append(sources);
    }
    if (message.low_confidence || message.kb_only) {
      const hint = make("p", "msg-hint");
      hint.append(make("span", "", message.low_confidence ? t.low_confidence : t.kb_only));
      if (state.session && state.session.status === "active") {
        const person = make("button", "chat-link", t.talk_to_person);
        person.type = "button";
        person.addEventListener("click", handOff);
        hint.append(" ", person);
      }
      details.append(hint);
    }
    details.append(thumbs(message));
    return details;
  }

  function thumbs(message) {
    const group = make("div", "msg-feedback");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", t.rate_answer);
    const choices = [
      ["up", "👍", t.helpful, true],
      ["down", "👎", t.not_helpful, false],
    ];
    for (const [value, icon, label, thumbsUp] of choices) {
      const button = make("button", "msg-thumb", icon);
      button.type = "button";
      button.title = label;
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", String(message.thumbs_up === thumbsUp));
      button.addEventListener("click", () => rateAnswer(message, value, group));
      group.append(button);
    }
    return group;
  }

  async function rateAnswer(message, value, group) {
    clearError();
    try {
      await request(sessionUrl("feedback"), {
        method: "POST",
        body: { message: message.id, thumbs: value },
      });
    } catch (error) {
      report(error);
      return;
    }
    message.thumbs_up = value === "up";
    group.querySelectorAll("button").forEach((button, index) => {
      button.setAttribute("aria-pressed", String((index === 0) === message.thumbs_up));
    });
    const shown = state.shown.get(message.id);
    if (shown) shown.signature = signature(message);
    announce(t.feedback_thanks);
  }

  /* Show a message of the history: a new one at the end (or the start), a known one
   * redrawn only when it changed. Returns whether it was new. */
  function upsert(message, atStart = false) {
    const known = state.shown.get(message.id);
    const sign = signature(message);
    if (known && known.signature === sign) return false;
    const node = renderMessage(message);
    if (known) known.node.replaceWith(node);
    else if (atStart) el.messages.prepend(node);
    else el.messages.append(node);
    state.shown.set(message.id, { node, signature: sign });
    el.welcome.hidden = true;
    return !known;
  }

  /* A message drawn before the server gave it an id: keep one copy once the id is known. */
  function adopt(node, message) {
    const known = state.shown.get(message.id);
    if (known && known.node !== node) {
      node.remove();
      return;
    }
    node.dataset.id = message.id;
    state.shown.set(message.id, { node, signature: signature(message) });
  }

  function clearMessages() {
    el.messages.replaceChildren();
    state.shown.clear();
    state.firstPage = state.lastPage = 1;
    el.loadEarlier.hidden = true;
  }

  async function loadHistory() {
    let result = await fetchPage(1);
    if (result.pages > 1) result = await fetchPage(result.pages);
    state.firstPage = state.lastPage = result.pages;
    for (const message of result.messages) upsert(message);
    if (result.messages.length < FEW_MESSAGES && state.firstPage > 1) await loadEarlier();
    el.loadEarlier.hidden = state.firstPage <= 1;
    el.welcome.hidden = state.shown.size > 0;
    scrollToBottom();
  }

  async function loadEarlier() {
    const page = state.firstPage - 1;
    const height = el.log.scrollHeight;
    el.loadEarlier.disabled = true;
    try {
      const { messages } = await fetchPage(page);
      for (const message of messages.slice().reverse()) upsert(message, true);
      state.firstPage = page;
      el.log.scrollTop += el.log.scrollHeight - height;
    } catch (error) {
      report(error);
    } finally {
      el.loadEarlier.disabled = false;
      el.loadEarlier.hidden = state.firstPage <= 1;
    }
  }

  /* Pages only grow at the end: re-read the last page seen and any after it. */
  async function fetchNew() {
    const follow = nearBottom();
    let page = state.lastPage;
    let result;
    do {
      result = await fetchPage(page);
      for (const message of result.messages) {
        if (upsert(message) && message.role === "agent") {
          announce(`${t.agent}: ${message.content}`);
        }
      }
      page += 1;
    } while (page <= result.pages);
    state.lastPage = result.pages;
    if (follow) scrollToBottom();
  }

  // --- the session ---------------------------------------------------------------------

  function setSession(session) {
    if (state.session && state.session.id !== session.id) state.pending = null;
    state.session = session;
    if (session.message_count !== undefined) state.messageCount = session.message_count;
    const status = session.status;
    el.handoff.disabled = status !== "active";
    el.end.disabled = status === "ended";
    el.input.disabled = status === "ended";
    el.send.disabled = status === "ended" || state.busy;
    el.composer.hidden = status === "ended";
    el.ended.hidden = status !== "ended";
    el.banner.hidden = status !== "handed_off";
    if (status === "handed_off") {
      el.bannerText.textContent = session.work_order
        ? format(t.handed_off_order, { number: session.work_order })
        : t.handed_off;
    }
    if (status === "ended") showRating(session.satisfaction);
    el.status.textContent = status === "handed_off" ? t.agent : t.assistant;
    schedulePoll();
  }

  async function openSession() {
    const { data } = await request(config.urls.sessions, { method: "POST", body: {} });
    setSession(data);
  }

  async function start() {
    clearError();
    el.chat.setAttribute("aria-busy", "true");
    el.status.textContent = t.connecting;
    try {
      await openSession();
      await loadHistory();
    } catch (error) {
      el.status.textContent = "";
      const text = error instanceof NetworkError ? t.connect_failed : errorText(error);
      showError(text, { label: t.retry, run: start });
      return;
    } finally {
      el.chat.setAttribute("aria-busy", "false");
    }
    // Focusing would pop up the on-screen keyboard on phones.
    if (!el.input.disabled && window.matchMedia("(pointer: fine)").matches) {
      el.input.focus({ preventScroll: true });
    }
  }

  async function newConversation() {
    clearError();
    el.newConversation.disabled = true;
    try {
      await openSession();
      clearMessages();
      await loadHistory();
      el.input.focus();
    } catch (error) {
      report(error);
    } finally {
      el.newConversation.disabled = false;
    }
  }

  async function handOff() {
    clearError();
    el.handoff.disabled = true;
    try {
      const { data } = await request(sessionUrl("handoff"), { method: "POST" });
      setSession(data);
      announce(el.bannerText.textContent);
      await fetchNew();
    } catch (error) {
      report(error);
      el.handoff.disabled = state.session.status !== "active";
    }
  }

  async function endConversation() {
    if (!window.confirm(t.end_confirm)) return;
    clearError();
    try {
      const { data } = await request(sessionUrl("end"), { method: "POST" });
      setSession(data);
      el.rating.querySelector(".chat-star").focus();
    } catch (error) {
      report(error);
    }
  }

  function showRating(score) {
    el.rating.querySelectorAll(".chat-star").forEach((star) => {
      const value = Number(star.dataset.rating);
      star.setAttribute("aria-pressed", String(value === score));
      star.classList.toggle("is-lit", Boolean(score) && value <= score);
    });
    el.ratingThanks.textContent = score ? t.rating_thanks : "";
  }

  async function rate(score) {
    clearError();
    try {
      const { data } = await request(sessionUrl("feedback"), {
        method: "POST",
        body: { rating: score },
      });
      state.session.satisfaction = data.satisfaction;
      showRating(data.satisfaction);
    } catch (error) {
      showError(errorText(error));
    }
  }

  // --- polling while a person handles the session ---------------------------------------

  function schedulePoll(delay = config.pollSeconds * 1000) {
    window.clearTimeout(state.pollTimer);
    state.pollTimer = null;
    if (state.session && state.session.status === "handed_off") {
      state.pollTimer = window.setTimeout(poll, delay);
    }
  }

  async function poll() {
    if (document.hidden || state.busy) {
      schedulePoll();
      return;
    }
    let delay;
    try {
      const { data } = await request(sessionUrl());
      const changed = data.message_count !== state.messageCount;
      setSession(data);
      if (changed) await fetchNew();
      if (state.pollFailed) clearError();
    } catch (error) {
      if (sessionGone(error)) {
        report(error);
        return;
      }
      if (error instanceof ApiError && error.status === 429) {
        delay = Math.max(error.retryAfter, config.pollSeconds) * 1000;
      } else {
        showError(error instanceof NetworkError ? t.offline : errorText(error));
        state.pollFailed = true;
      }
    }
    schedulePoll(delay);
  }

  // --- sending -------------------------------------------------------------------------

  function parseEvent(block) {
    let name = "message";
    const data = [];
    for (const raw of block.split("\n")) {
      const line = raw.replace(/\r$/, "");
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    return data.length ? { name, data: JSON.parse(data.join("\n")) } : null;
  }

  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) !== -1) {
        const event = parseEvent(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (event) onEvent(event);
      }
    }
  }

  function typingBubble() {
    const item = make("li", "msg msg--assistant is-streaming");
    const header = make("p", "msg-meta");
    header.append(make("span", "msg-author", t.assistant), timeNode());
    const bubble = make("div", "msg-bubble");
    const dots = make("span", "msg-typing");
    dots.append(make("span"), make("span"), make("span"), make("span", "visually-hidden", t.typing));
    bubble.append(dots);
    item.append(header, bubble);
    return item;
  }

  function restoreInput(text) {
    el.input.value = el.input.value.trim() ? `${text}\n${el.input.value}` : text;
    autosize();
  }

  function setBusy(busy) {
    state.busy = busy;
    el.send.disabled = busy || el.input.disabled;
    el.composer.setAttribute("aria-busy", String(busy));
  }

  async function send(text) {
    if (Array.from(text.trim()).length > config.maxChars) {
      showError(t.too_long);
      return;
    }
    // The same text after a failure keeps its id, so the server answers it only once.
    const clientId =
      state.pending && state.pending.text === text ? state.pending.clientId : randomId();
    state.pending = { text, clientId };
    clearError();
    setBusy(true);
    const userNode = renderMessage({ role: "user", content: text.trim() });
    userNode.classList.add("is-pending");
    el.messages.append(userNode);
    el.welcome.hidden = true;
    el.input.value = "";
    autosize();
    scrollToBottom();

    let response;
    try {
      response = await request(sessionUrl("stream"), {
        method: "POST",
        stream: true,
        body: { content: text, client_message_id: clientId },
      });
    } catch (error) {
      userNode.remove();
      restoreInput(text);
      report(error);
      setBusy(false);
      return;
    }
    state.pending = null; // the server has saved the message
    userNode.classList.remove("is-pending");
    const answerNode = typingBubble();
    el.messages.append(answerNode);
    scrollToBottom();
    const bubble = answerNode.querySelector(".msg-bubble");
    let started = false;
    let finished = false;
    try {
      await readEvents(response, (event) => {
        if (event.name === "delta") {
          const follow = nearBottom();
          if (!started) bubble.replaceChildren();
          started = true;
          bubble.append(document.createTextNode(event.data.text));
          if (follow) scrollToBottom();
        } else if (event.name === "done") {
          finished = true;
          finishAnswer(userNode, answerNode, event.data);
        } else if (event.name === "error") {
          finished = true;
          answerNode.classList.replace("is-streaming", "is-failed");
          bubble.textContent = event.data.message || t.answer_failed;
        }
      });
    } catch {
      finished = false;
    }
    if (!finished) {
      answerNode.remove();
      showError(t.stream_interrupted);
      fetchNew().catch(() => {});
    }
    setBusy(false);
  }

  function finishAnswer(userNode, answerNode, done) {
    const content = userNode.querySelector(".msg-bubble").textContent;
    adopt(userNode, { id: done.message, role: "user", content });
    const handedOver = done.session_status !== state.session.status;
    if (done.session !== state.session.id) {
      // The previous session had gone idle: the message opened a new one.
      state.firstPage = state.lastPage = 1;
    }
    setSession({
      ...state.session,
      id: done.session,
      status: done.session_status,
      work_order: done.work_order,
    });
    if (done.answer) {
      const answer = {
        id: done.answer,
        role: "assistant",
        content: done.text,
        citations: done.citations,
        low_confidence: done.low_confidence,
        kb_only: done.kb_only,
        thumbs_up: null,
      };
      const node = renderMessage(answer);
      answerNode.replaceWith(node);
      adopt(node, answer);
      announce(`${t.assistant}: ${done.text}`);
    } else {
      answerNode.remove();
    }
    // A hand-off notice is a system message: redraw it the way the history has it.
    if (handedOver) fetchNew().catch(report);
    scrollToBottom();
  }

  // --- wiring --------------------------------------------------------------------------

  function autosize() {
    el.input.style.height = "auto";
    el.input.style.height = `${Math.min(el.input.scrollHeight, 160)}px`;
  }

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el.input.value;
    if (!state.busy && state.session && text.trim()) send(text);
  });

  el.input.addEventListener("keydown", (event) => {
    // keyCode 229: an input method (Chinese, Japanese) is still composing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      el.composer.requestSubmit();
    }
  });

  el.input.addEventListener("input", autosize);
  el.handoff.addEventListener("click", handOff);
  el.end.addEventListener("click", endConversation);
  el.loadEarlier.addEventListener("click", loadEarlier);
  el.newConversation.addEventListener("click", newConversation);
  el.rating.querySelectorAll(".chat-star").forEach((star) => {
    star.addEventListener("click", () => rate(Number(star.dataset.rating)));
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.session && state.session.status === "handed_off") {
      schedulePoll(0);
    }
  });

  // In a third-party iframe the browser sends no CSRF or language cookie, so the switch
  // could not work there; the page follows the browser's language instead.
  if (window.self !== window.top) el.languageForm.hidden = true;

  start();
})();
