// Draws the dashboard's charts with Chart.js (vendor/chart.umd.min.js defines `Chart`),
// updating the existing charts on refresh instead of rebuilding them.

import { dashboardConfigs } from "./chart_configs.js";

const instances = new Map();

export function renderCharts(root, charts, labels, titles) {
  const Chart = globalThis.Chart;
  if (!Chart) return;
  for (const [id, config] of Object.entries(dashboardConfigs(charts, labels, titles))) {
    const canvas = root.querySelector(`#${id}`);
    if (!canvas) continue;
    const existing = instances.get(id);
    if (existing && existing.canvas === canvas) {
      existing.data = config.data;
      existing.update("none");
    } else {
      instances.set(id, new Chart(canvas, config));
    }
  }
}
