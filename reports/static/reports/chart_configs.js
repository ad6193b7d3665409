// Chart.js configurations built from the dashboard's JSON (pure functions, no DOM).

export const PALETTE = [
  "#2f6fb5", "#e0803a", "#3a9a5b", "#c24a4a", "#7f5fb0",
  "#8c6d46", "#d66fb0", "#7a7a7a", "#b5b52f", "#2fb5b0",
];

const LEVEL_COLOURS = { info: "#2f6fb5", warning: "#e0a23a", error: "#c24a4a", critical: "#7a1f1f" };

function colour(index) {
  return PALETTE[index % PALETTE.length];
}

function base(type, labels, datasets, options = {}) {
  return {
    type,
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      ...options,
    },
  };
}

export function conversationsConfig(charts, labels) {
  return base("line", charts.days, [
    { label: labels.conversations, data: charts.conversations, borderColor: colour(0), backgroundColor: colour(0), tension: 0.2 },
    { label: labels.handoffs, data: charts.handoffs, borderColor: colour(1), backgroundColor: colour(1), tension: 0.2 },
  ], { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });
}

export function breakdownConfig(items, label) {
  const top = items.slice(0, 10);
  return base("bar", top.map((item) => item.label), [
    { label, data: top.map((item) => item.count), backgroundColor: top.map((_, i) => colour(i)) },
  ], {
    indexAxis: "y",
    plugins: { legend: { display: false } },
    scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
  });
}

export function slaConfig(sla, labels) {
  return base("bar", sla.map((item) => item.label), [
    {
      label: labels.compliance,
      data: sla.map((item) => (item.rate === null ? null : Math.round(item.rate * 1000) / 10)),
      backgroundColor: sla.map((_, i) => colour(i)),
    },
  ], {
    plugins: { legend: { display: false } },
    scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
  });
}

export function satisfactionConfig(charts, labels) {
  return base("line", charts.days, [
    { label: labels.rating, data: charts.rating, yAxisID: "rating", borderColor: colour(2), backgroundColor: colour(2), spanGaps: true },
    {
      label: labels.thumbsUp,
      data: charts.thumbs_up_rate.map((v) => (v === null ? null : Math.round(v * 1000) / 10)),
      yAxisID: "share",
      borderColor: colour(4),
      backgroundColor: colour(4),
      spanGaps: true,
    },
  ], {
    scales: {
      rating: { position: "left", min: 1, max: 5 },
      share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: (v) => `${v}%` } },
    },
  });
}

export function stackedConfig(days, series, yLabel, colours = null) {
  return base("bar", days, series.map((item, i) => ({
    label: item.label,
    data: item.data,
    backgroundColor: colours?.[item.key] ?? colour(i),
  })), {
    scales: {
      x: { stacked: true },
      y: { stacked: true, beginAtZero: true, title: { display: true, text: yLabel } },
    },
  });
}

export function costConfig(charts, key, labels) {
  return stackedConfig(charts.days, charts[key], labels.cost);
}

export function alertsConfig(charts, labels) {
  return stackedConfig(charts.days, charts.alerts, labels.alerts, LEVEL_COLOURS);
}

// Every chart of the page by the id of its canvas.
export function dashboardConfigs(charts, labels, titles) {
  return {
    "chart-conversations": conversationsConfig(charts, labels),
    "chart-wo-status": breakdownConfig(charts.workorders.status, titles.status),
    "chart-wo-category": breakdownConfig(charts.workorders.category, titles.category),
    "chart-wo-priority": breakdownConfig(charts.workorders.priority, titles.priority),
    "chart-wo-module": breakdownConfig(charts.workorders.module, titles.module),
    "chart-sla": slaConfig(charts.sla, labels),
    "chart-satisfaction": satisfactionConfig(charts, labels),
    "chart-cost-model": costConfig(charts, "cost_by_model", labels),
    "chart-cost-purpose": costConfig(charts, "cost_by_purpose", labels),
    "chart-alerts": alertsConfig(charts, labels),
  };
}
