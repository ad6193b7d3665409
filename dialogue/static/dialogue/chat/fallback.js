// The chat without WebSockets: the REST API, answers streamed as Server-Sent Events
// (POST sessions/{id}/stream/), and, while a person has the conversation, a look for new
// messages every few seconds. It feeds the same store as the socket does.

import { backoffDelay } from "../live/connection.js";
import { randomId } from "../live/format.js";
import { readEvents } from "../live/sse.js";
import { ApiError, NetworkError } from "./api.js";

// A message of the REST history as the live protocol has it.
export function fromRest(message) {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    created_at: message.created_at,
    reply_to: message.reply_to,
    sources: message.sources,
    low_confidence: message.low_confidence,
    kb_only: message.kb_only,
    error_type: message.error_type,
    thumbs_up: message.thumbs_up,
    rating: message.rating,
    author: message.author,
    client_message_id: "",
  };
}

export function sessionFromRest(session) {
  return {
    id: session.id,
    status: session.status,
    work_order: session.work_order,
    agent: null,
    agents_online: null,
    satisfaction: session.satisfaction,
  };
}

// The actions of a finished answer (the stream's `done` event).
export function doneActions(done, { clientId, content }) {
  const now = new Date().toISOString();
  const question = {
    id: done.message,
    role: "user",
    content,
    created_at: now,
    reply_to: null,
    sources: [],
    author: null,
    client_message_id: clientId,
  };
  const answer = done.answer
    ? {
        id: done.answer,
        role: "assistant",
        content: done.text,
        created_at: now,
        reply_to: done.message,
        sources: done.sources || [],
        low_confidence: done.low_confidence,
        kb_only: done.kb_only,
        error_type: done.error_type,
        thumbs_up: null,
        rating: null,
        author: null,
        client_message_id: "",
      }
    : null;
  return [
    { type: "message", message: question, clientMessageId: clientId },
    {
      type: "done",
      replyTo: done.message,
      streamKey: clientId,
      message: answer,
      session: done.session,
      sessionStatus: done.session_status,
      workOrder: done.work_order,
    },
  ];
}

function refusal(error, strings) {
  if (error instanceof NetworkError) return { code: "network", message: strings.network_error };
  if (error instanceof ApiError) {
    const content = error.fields.content;
    if (Array.isArray(content) && content.length)
      return { code: error.code, message: String(content[0]) };
    if (error.status >= 500) return { code: "server", message: strings.server_error };
    return { code: error.code, message: error.message || strings.generic_error };
  }
  return { code: "unknown", message: strings.generic_error };
}

export function createFallbackTransport({ store, api, config, strings, timers = globalThis }) {
  const dispatch = (action) => store.dispatch(action);
  let started = false;
  let attempts = 0;
  let pollTimer = null;
  let retryTimer = null;
  let sending = Promise.resolve();
  let stopped = false;

  const sessionId = () => store.getState().session?.id;

  async function refresh() {
    const id = sessionId();
    if (!id) return;
    let payload = await api.history(id);
    const pages = payload.meta.pagination.pages;
    if (pages > 1) payload = await api.history(id, pages);
    for (const raw of payload.data) dispatch({ type: "message", message: fromRest(raw) });
  }

  async function start() {
    timers.clearTimeout(retryTimer);
    dispatch({ type: "connection", status: "connecting" });
    try {
      const { data } = await api.openSession();
      let payload = await api.history(data.id);
      const pages = payload.meta.pagination.pages;
      if (pages > 1) payload = await api.history(data.id, pages);
      dispatch({
        type: "welcome",
        session: sessionFromRest(data),
        messages: payload.data.map(fromRest),
        agentsOnline: null,
      });
    } catch (error) {
      if (stopped) return;
      const delay = backoffDelay(attempts);
      attempts += 1;
      dispatch({ type: "connection", status: "waiting", retryAt: Date.now() + delay });
      if (error instanceof ApiError && error.status < 500)
        dispatch({ type: "error", error: refusal(error, strings) });
      retryTimer = timers.setTimeout(start, delay);
      return;
    }
    attempts = 0;
    started = true;
    for (const item of store.getState().outbox) queueDelivery(item);
    schedulePoll();
  }

  async function deliver(item) {
    dispatch({ type: "sent", clientId: item.clientId });
    let response;
    try {
      response = await api.stream(sessionId(), {
        content: item.content,
        client_message_id: item.clientId,
      });
    } catch (error) {
      if (error instanceof ApiError && error.code === "duplicate") {
        dispatch({ type: "accepted", clientId: item.clientId });
        await refresh().catch(() => {});
      } else {
        dispatch({ type: "refused", clientId: item.clientId, error: refusal(error, strings) });
      }
      return;
    }
    dispatch({ type: "sent", clientId: item.clientId, saved: true });
    let finished = false;
    try {
      await readEvents(response, ({ event, data }) => {
        const payload = JSON.parse(data);
        if (event === "delta") {
          dispatch({ type: "delta", replyTo: item.clientId, text: payload.text });
        } else if (event === "done") {
          finished = true;
          doneActions(payload, item).forEach(dispatch);
        } else if (event === "error") {
          finished = true;
          dispatch({
            type: "answer-failed",
            streamKey: item.clientId,
            error: { code: "answer_failed", message: payload.message || strings.answer_failed },
          });
        }
      });
    } catch {
      finished = false;
    }
    if (!finished) {
      dispatch({
        type: "answer-failed",
        streamKey: item.clientId,
        error: { code: "stream", message: strings.stream_interrupted },
      });
    }
    dispatch({ type: "accepted", clientId: item.clientId });
    await refresh().catch(() => {});
    schedulePoll();
  }

  function queueDelivery(item) {
    sending = sending.then(() => deliver(item));
  }

  function schedulePoll(delay = config.pollSeconds * 1000) {
    timers.clearTimeout(pollTimer);
    pollTimer = null;
    if (!stopped && store.getState().session?.status === "handed_off") {
      pollTimer = timers.setTimeout(poll, delay);
    }
  }

  async function poll() {
    const id = sessionId();
    if (!id) return;
    if (!globalThis.document?.hidden) {
      try {
        const { data } = await api.session(id);
        const before = store.getState().session;
        dispatch({
          type: "session",
          session: { ...sessionFromRest(data), agent: before?.agent ?? null },
        });
        await refresh();
        if (store.getState().connection !== "online")
          dispatch({ type: "connection", status: "online" });
      } catch {
        dispatch({
          type: "connection",
          status: "waiting",
          retryAt: Date.now() + config.pollSeconds * 1000,
        });
      }
    }
    schedulePoll();
  }

  async function act(action, body) {
    const { data } = await api.act(sessionId(), action, body);
    return data;
  }

  return {
    start,
    stop() {
      stopped = true;
      timers.clearTimeout(pollTimer);
      timers.clearTimeout(retryTimer);
    },
    retryNow: () => (started ? poll() : start()),
    send(content) {
      const item = { clientId: randomId("c-"), content, at: Date.now() };
      dispatch({ type: "queue", ...item });
      if (started) queueDelivery(item);
    },
    async feedback(messageId, thumbs) {
      await act("feedback", { message: messageId, thumbs });
      dispatch({ type: "thumbs", id: messageId, thumbsUp: thumbs === "up" });
    },
    async rate(rating) {
      const data = await act("feedback", { rating });
      dispatch({ type: "rated", rating: data.satisfaction });
    },
    async handoff() {
      dispatch({ type: "session", session: sessionFromRest(await act("handoff")) });
      await refresh();
      schedulePoll();
    },
    async end() {
      dispatch({ type: "session", session: sessionFromRest(await act("end")) });
    },
    typing() {},
    newConversation() {
      dispatch({ type: "reset" });
      started = false;
      start();
    },
  };
}
