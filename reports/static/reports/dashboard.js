// The dashboard page: initial numbers from the page, then refreshed in the background every
// `reports.refresh_seconds`, and at once when the page is shown again.

import { renderCharts } from "./charts.js";
import { createRefresher, jsonLoader } from "./refresh.js";
import { createStore } from "./store.js";
import { renderBudget, renderCounters, renderPeriod, renderUnanswered } from "./view.js";

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function start() {
  const root = document.getElementById("hd-dashboard");
  const payload = readJson("dashboard-data");
  if (!root || !payload) return;
  const labels = readJson("dashboard-labels");
  const titles = readJson("dashboard-titles");
  const locale = root.dataset.locale || "zh-CN";
  const draft = root.dataset.draftUrl
    ? { url: root.dataset.draftUrl, csrf: root.dataset.csrf }
    : null;
  const store = createStore({ payload, updatedAt: new Date() });

  const status = root.querySelector("#hd-status");
  const render = ({ state }) => {
    const data = state.payload;
    renderPeriod(root.querySelector("#hd-period-dates"), data.period);
    renderCounters(root.querySelector("#hd-counters"), data.counters, labels, locale);
    renderBudget(root.querySelector("#hd-budget"), data.budget, labels, locale);
    renderUnanswered(root.querySelector("#hd-unanswered"), data.unanswered, labels, draft);
    renderCharts(root, data.charts, labels, titles);
    status.textContent = `${labels.updated} ${state.updatedAt.toLocaleTimeString(locale)}`;
    status.classList.remove("hd-error");
  };
  store.on("change", render);
  store.on("refresh-failed", () => {
    status.textContent = labels.refreshFailed;
    status.classList.add("hd-error");
  });
  render({ state: store.get() });

  const refresher = createRefresher({
    load: jsonLoader(root.dataset.dataUrl),
    onData: (data) => store.set({ payload: data, updatedAt: new Date() }),
    onError: () => store.emit("refresh-failed"),
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
