// The desk over its WebSocket, /ws/desk/ (docs/live-protocol.md): the admin's session
// cookie authenticates it. After a drop it reconnects with back-off, then asks again for
// the queue it shows and the conversation it has open. Presence is sent every 20 s as a
// heartbeat.

import { createConnection, socketUrl } from "../live/connection.js";
import { CLOSE, createRequests, PROTOCOL_VERSION } from "../live/protocol.js";
import { isNewWaiting } from "./state.js";

const TYPING_SHOWN_MS = 6000;

export function createDeskClient({
  store,
  bus,
  config,
  strings,
  WebSocketImpl = globalThis.WebSocket,
  timers = globalThis,
}) {
  const requests = createRequests({ timers });
  const dispatch = (action) => store.dispatch(action);
  const now = () => (timers.now ? timers.now() : Date.now());
  let welcomed = false;
  let heartbeat = null;

  function onFrame(frame) {
    if (frame.type === "welcome") {
      welcomed = true;
      connection.ready();
      dispatch({
        type: "welcome",
        me: frame.me,
        acts: frame.acts,
        queue: frame.queue,
        staff: frame.staff,
      });
      afterWelcome();
      return;
    }
    if (requests.settle(frame)) return;
    switch (frame.type) {
      case "session": {
        if (isNewWaiting(store.getState(), frame.session)) bus.emit("new-waiting", frame.session);
        dispatch({ type: "session", item: frame.session });
        break;
      }
      case "message":
        dispatch({ type: "message", message: frame.message });
        break;
      case "activity":
        dispatch({ type: "activity", lines: frame.lines });
        break;
      case "typing":
        dispatch({ type: "typing", session: frame.session, until: now() + TYPING_SHOWN_MS });
        timers.setTimeout(() => dispatch({ type: "typing-expired", now: now() }), TYPING_SHOWN_MS);
        break;
      case "presence":
        dispatch({ type: "staff", staff: frame.staff });
        break;
      case "error":
        dispatch({ type: "error", error: { code: frame.code, message: frame.message } });
        break;
      default:
        break;
    }
  }

  function afterWelcome() {
    const state = store.getState();
    if (state.presence !== "online") connection.send("presence", { presence: state.presence });
    if (state.view !== "open") api.queue(state.view).catch(report);
    if (state.selected !== null) api.open(state.selected).catch(report);
    timers.clearInterval(heartbeat);
    heartbeat = timers.setInterval(() => {
      connection.send("presence", { presence: store.getState().presence });
    }, config.heartbeatSeconds * 1000);
  }

  function report(error) {
    if (error.code)
      dispatch({ type: "error", error: { code: error.code, message: error.message } });
  }

  const connection = createConnection({
    url: socketUrl(config.socket),
    WebSocketImpl,
    timers,
    onOpen: () => connection.send("hello", { protocol: PROTOCOL_VERSION }, "hello"),
    onFrame,
    onStatus(status) {
      if (status === "waiting" || status === "failed") {
        welcomed = false;
        timers.clearInterval(heartbeat);
        requests.failAll();
      }
      if (status === "connecting" || status === "waiting" || status === "failed") {
        dispatch({ type: "connection", status });
      }
    },
    shouldRetry: (code) => code !== CLOSE.FORBIDDEN,
  });

  function request(type, fields = {}) {
    if (!welcomed)
      return Promise.reject(Object.assign(new Error(strings.offline), { code: "offline" }));
    const ref = requests.ref(type);
    const answer = requests.wait(ref);
    connection.send(type, fields, ref);
    return answer;
  }

  // An action on a conversation: the desk shows it as busy until the server answers.
  async function act(type, fields) {
    dispatch({ type: "busy", act: type });
    try {
      return await request(type, fields);
    } finally {
      dispatch({ type: "busy", act: null });
    }
  }

  const api = {
    start: () => connection.start(),
    retryNow: () => connection.reconnectNow(),
    async queue(view) {
      const frame = await request("queue", { view });
      dispatch({ type: "queue", view: frame.view, items: frame.items });
    },
    async open(id) {
      const frame = await request("open", { session: id });
      dispatch({
        type: "conversation",
        session: frame.session,
        messages: frame.messages,
        work_order: frame.work_order,
        history: frame.history,
      });
    },
    close: (id) => request("close", { session: id }),
    claim: (id) => act("claim", { session: id }),
    transfer: (id, to) => act("transfer", { session: id, to }),
    release: (id) => act("release", { session: id }),
    end: (id) => act("end", { session: id }),
    // `entry`: the knowledge entry the reply is built on (its similar questions are proposed).
    reply: (id, content, entry = null) =>
      act("reply", entry === null ? { session: id, content } : { session: id, content, entry }),
    note: (id, content) => act("note", { session: id, content }),
    // Marks an assistant answer wrong, `entry` being the right one: the proposal made, or null.
    async correct(id, message, entry) {
      const frame = await act("correct", { session: id, message, entry });
      return frame.proposal;
    },
    async draft(id) {
      const frame = await act("draft", { session: id });
      return frame.text;
    },
    typing(id) {
      if (welcomed) connection.send("typing", { session: id });
    },
    async search(q) {
      dispatch({ type: "search", q });
      const frame = await request("search", { q });
      dispatch({ type: "search-results", hits: frame.hits });
    },
    async presence(presence) {
      dispatch({ type: "presence", presence });
      if (welcomed) await request("presence", { presence });
    },
  };
  return api;
}
