// The chat page's state and the one reducer that changes it. Frames from the server
// (WebSocket or the Server-Sent Events fallback) and the customer's actions both arrive
// here as actions, so the page shows the same whichever way its messages came.

import { mergeMessages } from "../live/protocol.js";

export const initialState = Object.freeze({
  transport: "ws", // "ws", or "sse" when WebSockets are not available
  connection: "connecting", // connecting | online | waiting | offline | failed
  wasOnline: false, // the page has been connected once (later drops say "reconnecting")
  retryAt: null, // when the next attempt to reconnect is due (ms)
  session: null, // {id, status, work_order, work_order_number, agent, agents_online, satisfaction}
  agentsOnline: null, // null when the page cannot know (the fallback)
  messages: [], // customer-visible messages, by id, once each
  outbox: [], // messages not yet shown as saved: {clientId, content, at, sent, saved}
  streams: {}, // answers being written: user message id -> text so far
  awaiting: null, // the id of the customer's message whose answer is on its way
  typing: null, // {person, until}: an agent is typing
  error: null, // {code, message}: what went wrong, shown until dismissed or replaced
  draft: null, // text given back to the composer after a refusal
  confirmingEnd: false,
});

const ANSWERS = new Set(["assistant", "system"]);

function withoutStream(streams, replyTo) {
  if (!(replyTo in streams)) return streams;
  const rest = { ...streams };
  delete rest[replyTo];
  return rest;
}

function withoutOutbox(outbox, clientIds) {
  const gone = new Set(clientIds.filter(Boolean));
  if (!gone.size || !outbox.some((item) => gone.has(item.clientId))) return outbox;
  return outbox.filter((item) => !gone.has(item.clientId));
}

function lastAwaited(session, messages) {
  const last = messages[messages.length - 1];
  return session && session.status === "active" && last && last.role === "user" ? last.id : null;
}

function received(state, message, clientMessageId) {
  const messages = mergeMessages(state.messages, [message]);
  let { awaiting, typing, streams } = state;
  if (message.role === "user" && clientMessageId && state.session?.status !== "handed_off") {
    awaiting = message.id;
  }
  if (ANSWERS.has(message.role) && message.reply_to) {
    streams = withoutStream(streams, message.reply_to);
    if (awaiting === message.reply_to) awaiting = null;
  }
  if (message.role === "agent") typing = null;
  const outbox = withoutOutbox(state.outbox, [clientMessageId, message.client_message_id]);
  return { ...state, messages, outbox, awaiting, typing, streams };
}

function sessionChanged(state, session) {
  if (!session) return state;
  const ended = session.status === "ended";
  return {
    ...state,
    session: { ...session },
    agentsOnline: session.agents_online ?? state.agentsOnline,
    typing: session.status === "handed_off" ? state.typing : null,
    awaiting: ended ? null : state.awaiting,
    confirmingEnd: ended ? false : state.confirmingEnd,
  };
}

export function reducer(state, action) {
  switch (action.type) {
    case "transport":
      return { ...state, transport: action.transport };
    case "connection":
      return { ...state, connection: action.status, retryAt: action.retryAt ?? null };
    case "welcome": {
      const messages = mergeMessages(state.messages, action.messages);
      const saved = action.messages.map((message) => message.client_message_id);
      return {
        ...state,
        connection: "online",
        wasOnline: true,
        retryAt: null,
        session: action.session ? { ...action.session } : null,
        agentsOnline: action.agentsOnline ?? null,
        messages,
        outbox: withoutOutbox(state.outbox, saved),
        streams: {},
        awaiting: lastAwaited(action.session, messages),
        error: state.error?.code === "connection" ? null : state.error,
      };
    }
    case "message":
      return received(state, action.message, action.clientMessageId);
    case "delta":
      return {
        ...state,
        streams: {
          ...state.streams,
          [action.replyTo]: (state.streams[action.replyTo] || "") + action.text,
        },
      };
    case "done": {
      let next = action.message ? received(state, action.message, null) : state;
      const streams = withoutStream(next.streams, action.replyTo);
      next = { ...next, streams: withoutStream(streams, action.streamKey) };
      if (next.awaiting === action.replyTo) next.awaiting = null;
      if (next.session && next.session.id === action.session) {
        next.session = {
          ...next.session,
          status: action.sessionStatus,
          work_order: action.workOrder ?? next.session.work_order,
        };
      }
      return next;
    }
    case "answer-failed":
      return {
        ...state,
        streams: withoutStream(state.streams, action.streamKey),
        awaiting: null,
        error: action.error,
      };
    case "session":
      return sessionChanged(state, action.session);
    case "typing":
      return { ...state, typing: { person: action.person, until: action.until } };
    case "typing-expired":
      return state.typing && state.typing.until <= action.now ? { ...state, typing: null } : state;
    case "queue":
      return {
        ...state,
        error: null,
        outbox: [
          ...state.outbox,
          { clientId: action.clientId, content: action.content, at: action.at, sent: false },
        ],
      };
    case "sent":
      return {
        ...state,
        outbox: state.outbox.map((item) =>
          item.clientId === action.clientId
            ? { ...item, sent: true, saved: Boolean(action.saved) }
            : item,
        ),
      };
    case "refused": {
      const item = state.outbox.find((entry) => entry.clientId === action.clientId);
      const next = {
        ...state,
        outbox: withoutOutbox(state.outbox, [action.clientId]),
        error: action.error,
        draft: item ? item.content : state.draft,
      };
      if (action.error.code === "session_ended" && next.session) {
        next.session = { ...next.session, status: "ended" };
      }
      return next;
    }
    case "accepted": // a resent message the server already has: its frames come anyway
      return { ...state, outbox: withoutOutbox(state.outbox, [action.clientId]) };
    case "draft-taken":
      return { ...state, draft: null };
    case "error":
      return { ...state, error: action.error };
    case "error-clear":
      return state.error ? { ...state, error: null } : state;
    case "thumbs":
      return {
        ...state,
        messages: state.messages.map((message) =>
          message.id === action.id ? { ...message, thumbs_up: action.thumbsUp } : message,
        ),
      };
    case "rated":
      return state.session
        ? { ...state, session: { ...state.session, satisfaction: action.rating } }
        : state;
    case "confirm-end":
      return { ...state, confirmingEnd: action.open };
    case "reset":
      return {
        ...initialState,
        transport: state.transport,
        connection: state.connection,
        wasOnline: state.wasOnline,
      };
    default:
      return state;
  }
}

// --- what the page shows, derived from the state ------------------------------------------

// The line under the conversation once a person has it: who answers, or how the
// customer will be answered when nobody from the team is online.
export function handoffNotice(state) {
  const session = state.session;
  if (!session || session.status !== "handed_off") return null;
  if (session.agent) return { kind: "agent", agent: session.agent };
  const workOrder = session.work_order_number || session.work_order;
  if (state.agentsOnline === 0) return { kind: "nobody_online", workOrder };
  return { kind: "waiting", workOrder };
}

export function canHandOff(state) {
  return Boolean(state.session && state.session.status === "active");
}

export function canEnd(state) {
  return Boolean(state.session && state.session.status !== "ended");
}

export function isEnded(state) {
  return Boolean(state.session && state.session.status === "ended");
}

// Messages from the assistant or the team that arrived since `previous` (the history
// shown when the page first opened does not count).
export function arrivals(previous, state) {
  if (!previous.wasOnline || state.messages === previous.messages) return [];
  const known = new Set(previous.messages.map((message) => message.id));
  return state.messages.filter((message) => message.role !== "user" && !known.has(message.id));
}
