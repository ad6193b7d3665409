// The dashboard page: initial numbers from the page, then refreshed in the background every
// `reports.refresh_seconds`, and at once when the page is shown again. The page's modules
// share the chat's and the desk's toolkit (dialogue/live/): one store, changed only through
// the reducer of state.js.

import { byId, readJson } from "../dialogue/live/dom.js";
import { createStore, watch } from "../dialogue/live/store.js";
import { renderCharts } from "./charts.js";
import { createRefresher, jsonLoader } from "./refresh.js";
import { createInitialState, reducer } from "./state.js";
import { renderBudget, renderCounters, renderPeriod, renderUnanswered } from "./view.js";

function start() {
  const root = byId("hd-dashboard");
  if (!root || !byId("dashboard-data")) return;
  const labels = readJson("dashboard-labels");
  const titles = readJson("dashboard-titles");
  const locale = root.dataset.locale || "zh-CN";
  const draft = root.dataset.draftUrl
    ? { url: root.dataset.draftUrl, csrf: root.dataset.csrf }
    : null;
  const store = createStore(reducer, createInitialState(readJson("dashboard-data"), new Date()));

  watch(
    store,
    (state) => state.payload,
    (data) => {
      renderPeriod(root.querySelector("#hd-period-dates"), data.period);
      renderCounters(root.querySelector("#hd-counters"), data.counters, labels, locale);
      renderBudget(root.querySelector("#hd-budget"), data.budget, labels, locale);
      renderUnanswered(root.querySelector("#hd-unanswered"), data.unanswered, labels, draft);
      renderCharts(root, data.charts, labels, titles);
    },
  );
  const status = root.querySelector("#hd-status");
  watch(
    store,
    (state) => [state.updatedAt, state.failed],
    ([updatedAt, failed]) => {
      status.textContent = failed
        ? labels.refreshFailed
        : `${labels.updated} ${updatedAt.toLocaleTimeString(locale)}`;
      status.classList.toggle("hd-error", failed);
    },
  );

  const refresher = createRefresher({
    load: jsonLoader(root.dataset.dataUrl),
    onData: (payload) => store.dispatch({ type: "loaded", payload, at: new Date() }),
    onError: () => store.dispatch({ type: "failed" }),
    intervalMs: Number(root.dataset.refreshSeconds) * 1000,
  });
  refresher.start();
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      refresher.stop();
    } else {
      refresher.trigger();
      refresher.start();
    }
  });
}

start();
