// The chat over its WebSocket, /ws/chat/ (docs/live-protocol.md). The visitor token goes
// in `hello`, never in the URL. After a drop the page reconnects with back-off and says
// which conversation it shows and the last message it has; the server sends what it
// missed, and messages written meanwhile are sent again with their own ids, so the
// server answers each once. No polling while the socket is open.

import { createConnection, socketUrl } from "../live/connection.js";
import { CLOSE, createRequests, customerHello, Refusal } from "../live/protocol.js";
import { randomId } from "../live/format.js";
import { ApiError } from "./api.js";

const TYPING_SHOWN_MS = 6000;
// Attempts in a row that never opened before the page falls back to Server-Sent Events.
export const OPEN_FAILURES_BEFORE_FALLBACK = 3;

// What a refused `send` means for the message: the server has it already (sent twice
// across a reconnect), or it was not saved and goes back to the composer.
export function sendRefusal(frame) {
  if (frame.code === "duplicate") return { kind: "accepted" };
  return {
    kind: "refused",
    error: { code: frame.code, message: frame.message, fields: frame.fields },
  };
}

export function createSocketTransport({
  store,
  api,
  config,
  strings,
  WebSocketImpl = globalThis.WebSocket,
  timers = globalThis,
  onUnavailable = () => {},
}) {
  const requests = createRequests({ timers });
  let welcomed = false;
  let typingTimer = null;

  const dispatch = (action) => store.dispatch(action);
  const now = () => (timers.now ? timers.now() : Date.now());
  const savedIds = new Map(); // client_message_id -> the saved message's id (its answer's key)
  const outboxIds = () => new Set(store.getState().outbox.map((item) => item.clientId));

  async function hello() {
    let token;
    try {
      token = await api.getToken();
    } catch (error) {
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        connection.stop();
        dispatch({ type: "connection", status: "failed" });
        dispatch({ type: "error", error: { code: "unavailable", message: error.message } });
      } else {
        connection.reconnectLater();
      }
      return;
    }
    const { session, messages } = store.getState();
    connection.send("hello", customerHello({ token, session, messages }), "hello");
  }

  function sendOutboxItem(item) {
    const fields = { content: item.content, client_message_id: item.clientId };
    if (connection.send("send", fields, item.clientId))
      dispatch({ type: "sent", clientId: item.clientId });
  }

  function onFrame(frame) {
    if (requests.settle(frame)) return;
    switch (frame.type) {
      case "welcome":
        welcomed = true;
        connection.ready();
        dispatch({
          type: "welcome",
          session: frame.session,
          messages: frame.messages,
          agentsOnline: frame.agents_online,
        });
        store.getState().outbox.forEach(sendOutboxItem);
        break;
      case "message":
        if (frame.client_message_id) savedIds.set(frame.client_message_id, frame.message.id);
        dispatch({
          type: "message",
          message: frame.message,
          clientMessageId: frame.client_message_id,
        });
        break;
      case "answer.delta":
        dispatch({ type: "delta", replyTo: frame.reply_to, text: frame.text });
        break;
      case "answer.done":
        dispatch({
          type: "done",
          replyTo: frame.reply_to,
          message: frame.message,
          session: frame.session,
          sessionStatus: frame.session_status,
          workOrder: frame.work_order,
        });
        break;
      case "session":
        dispatch({ type: "session", session: frame.session });
        break;
      case "typing":
        dispatch({ type: "typing", person: frame.person, until: now() + TYPING_SHOWN_MS });
        timers.clearTimeout(typingTimer);
        typingTimer = timers.setTimeout(
          () => dispatch({ type: "typing-expired", now: now() }),
          TYPING_SHOWN_MS,
        );
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  function onError(frame) {
    if (frame.code === "answer_failed") {
      // The message was saved (its frame came first); its answer could not be written.
      dispatch({
        type: "answer-failed",
        streamKey: savedIds.get(frame.ref),
        error: { code: frame.code, message: frame.message },
      });
      return;
    }
    if (frame.ref && outboxIds().has(frame.ref)) {
      const outcome = sendRefusal(frame);
      if (outcome.kind === "refused")
        dispatch({ type: "refused", clientId: frame.ref, error: outcome.error });
      else dispatch({ type: "accepted", clientId: frame.ref });
      return;
    }
    if (frame.code === "unauthenticated" || frame.code === "forbidden") return; // a close follows
    dispatch({ type: "error", error: { code: frame.code, message: frame.message } });
  }

  function onStatus(status, detail) {
    if (status === "connecting") {
      if (store.getState().connection !== "failed")
        dispatch({ type: "connection", status: "connecting" });
    } else if (status === "waiting") {
      welcomed = false;
      requests.failAll();
      const offline = globalThis.navigator && globalThis.navigator.onLine === false;
      dispatch({
        type: "connection",
        status: offline ? "offline" : "waiting",
        retryAt: Date.now() + detail.delay,
      });
      if (detail.failuresToOpen >= OPEN_FAILURES_BEFORE_FALLBACK) onUnavailable();
    } else if (status === "failed") {
      welcomed = false;
      dispatch({ type: "connection", status: "failed" });
      if (detail.code === CLOSE.FORBIDDEN) {
        dispatch({ type: "error", error: { code: "forbidden", message: strings.forbidden } });
      }
    }
  }

  const connection = createConnection({
    url: socketUrl(config.urls.socket),
    WebSocketImpl,
    timers,
    onOpen: hello,
    onFrame,
    onStatus,
    shouldRetry(code) {
      if (code === CLOSE.UNAUTHENTICATED) api.forgetToken();
      return code !== CLOSE.FORBIDDEN;
    },
  });

  async function request(type, fields = {}) {
    if (!welcomed) throw new Refusal({ code: "offline", message: strings.offline_action });
    const ref = requests.ref();
    const answer = requests.wait(ref);
    connection.send(type, fields, ref);
    return answer;
  }

  return {
    start: () => connection.start(),
    stop: () => connection.stop(),
    retryNow: () => connection.reconnectNow(),
    send(content) {
      const item = { clientId: randomId("c-"), content, at: Date.now() };
      dispatch({ type: "queue", ...item });
      if (welcomed) sendOutboxItem(item);
    },
    async feedback(messageId, thumbs) {
      await request("feedback", { message: messageId, thumbs });
      dispatch({ type: "thumbs", id: messageId, thumbsUp: thumbs === "up" });
    },
    async rate(rating) {
      await request("rate", { rating });
      dispatch({ type: "rated", rating });
    },
    handoff: () => request("handoff"),
    end: () => request("end"),
    typing() {
      if (welcomed) connection.send("typing");
    },
    newConversation() {
      dispatch({ type: "reset" });
      connection.reconnectNow();
    },
  };
}
