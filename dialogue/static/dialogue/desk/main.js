// The staff desk, /desk/ (dialogue/desk_page.py): one store, the render functions of
// view.js, the desk's WebSocket client, and the alerts for new conversations.

import { readJson } from "../live/dom.js";
import { createBus, createStore } from "../live/store.js";
import { createAlerts } from "./alerts.js";
import { createDeskClient } from "./client.js";
import { createInitialState, reducer } from "./state.js";
import { mount } from "./view.js";

const config = readJson("desk-config");
const t = readJson("desk-strings");
const store = createStore(reducer, createInitialState(config));
const bus = createBus();
const client = createDeskClient({ store, bus, config, strings: t });
let view = null;
const alerts = createAlerts({ strings: t, labels: config.labels, onOpen: (id) => view.select(id) });
view = mount({ store, client, alerts, t, config });

bus.on("new-waiting", (item) => alerts.newWaiting(item));
// The tab's title counts the conversations waiting for someone.
const title = document.title;
store.subscribe((state, previous) => {
  if (state.waiting === previous.waiting) return;
  document.title = state.waiting.length ? `(${state.waiting.length}) ${title}` : title;
});
window.addEventListener("online", () => client.retryNow());
client.start();
