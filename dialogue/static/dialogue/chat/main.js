// The customer's chat page, /chat/<widget key>/ (dialogue/widget.py): one store, the
// render functions of view.js, and a transport that feeds the store: the WebSocket, or
// the REST API with Server-Sent Events where WebSockets are not available.

import { readJson } from "../live/dom.js";
import { createBus, createStore } from "../live/store.js";
import { createApi } from "./api.js";
import { createFallbackTransport } from "./fallback.js";
import { createSocketTransport } from "./socket.js";
import { arrivals, initialState, reducer } from "./state.js";
import { mount } from "./view.js";

const config = readJson("widget-config");
const t = readJson("widget-strings");
const store = createStore(reducer, initialState);
const bus = createBus();
const api = createApi(config);

// What the team or the assistant says, once each, for whoever listens: the screen
// reader's announcements, and the launcher on a tenant's site while the chat is closed.
store.subscribe((state, previous) => {
  for (const message of arrivals(previous, state)) bus.emit("arrived", message);
});
if (window.self !== window.top) {
  bus.on("arrived", (message) => {
    if (message.role !== "assistant")
      window.parent.postMessage({ type: "helpdesk-widget:message" }, "*");
  });
}
let transport = null;

function useFallback() {
  if (transport) transport.stop();
  store.dispatch({ type: "transport", transport: "sse" });
  transport = createFallbackTransport({ store, api, config, strings: t });
  transport.start();
}

// The socket never opens: fall back to Server-Sent Events when plain HTTP works (a proxy
// that refuses WebSockets), but keep trying the socket while the server is just away.
let probing = false;
async function socketUnavailable() {
  if (probing || store.getState().transport !== "ws") return;
  probing = true;
  if (await api.reachable()) useFallback();
  probing = false;
}

// The page's controls act on whichever transport is in use now.
const actions = Object.fromEntries(
  ["send", "feedback", "rate", "handoff", "end", "typing", "newConversation", "retryNow"].map(
    (name) => [name, (...args) => transport[name](...args)],
  ),
);

mount({ store, bus, actions, t, config });

if (typeof globalThis.WebSocket === "function") {
  transport = createSocketTransport({
    store,
    api,
    config,
    strings: t,
    onUnavailable: socketUnavailable,
  });
  transport.start();
  window.addEventListener("online", () => transport.retryNow());
} else {
  useFallback();
}
