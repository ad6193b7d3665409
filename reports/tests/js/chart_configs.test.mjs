import assert from "node:assert/strict";
import { test } from "node:test";

import { dashboardConfigs, slaConfig } from "../../static/reports/chart_configs.js";

const charts = {
  days: ["2026-03-10", "2026-03-11"],
  conversations: [2, 1],
  handoffs: [1, 0],
  rating: [3.5, null],
  thumbs_up_rate: [0.5, null],
  cost_by_model: [{ key: "qwen-plus", label: "qwen-plus", data: [0.01, 0] }],
  cost_by_purpose: [{ key: "chat", label: "对话", data: [0.01, 0] }],
  alerts: [{ key: "error", label: "错误", data: [0, 1] }],
  workorders: {
    status: [{ key: "open", label: "待处理", count: 1 }],
    priority: [],
    category: Array.from({ length: 12 }, (_, i) => ({ key: `c${i}`, label: `c${i}`, count: 12 - i })),
    module: [],
  },
  sla: [{ key: "high", label: "高", due: 2, met: 1, rate: 0.5 }, { key: "low", label: "低", due: 0, met: 0, rate: null }],
};
const labels = { conversations: "会话", handoffs: "转人工", rating: "评分", thumbsUp: "点赞", compliance: "达标", cost: "成本", alerts: "告警" };
const titles = { status: "状态", priority: "优先级", category: "分类", module: "模块" };

test("one configuration per canvas of the page", () => {
  const configs = dashboardConfigs(charts, labels, titles);
  assert.deepEqual(Object.keys(configs).sort(), [
    "chart-alerts", "chart-conversations", "chart-cost-model", "chart-cost-purpose", "chart-satisfaction",
    "chart-sla", "chart-wo-category", "chart-wo-module", "chart-wo-priority", "chart-wo-status",
  ]);
  const conversations = configs["chart-conversations"];
  assert.deepEqual(conversations.data.labels, charts.days);
  assert.deepEqual(conversations.data.datasets.map((d) => [d.label, d.data]), [["会话", [2, 1]], ["转人工", [1, 0]]]);
  assert.equal(configs["chart-wo-category"].data.labels.length, 10, "the ten largest categories");
  assert.deepEqual(configs["chart-satisfaction"].data.datasets[1].data, [50, null]);
  assert.equal(configs["chart-alerts"].data.datasets[0].backgroundColor, "#c24a4a");
  assert.equal(configs["chart-cost-model"].options.scales.y.stacked, true);
});

test("SLA compliance in per cent, unknown kept empty", () => {
  assert.deepEqual(slaConfig(charts.sla, labels).data.datasets[0].data, [50, null]);
});
