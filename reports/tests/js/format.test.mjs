import assert from "node:assert/strict";
import { test } from "node:test";

import { changeTone, formatChange, formatDuration, formatValue } from "../../static/reports/format.js";

test("values by unit", () => {
  assert.equal(formatValue(null, "count"), "–");
  assert.equal(formatValue(1234, "count", { locale: "en" }), "1,234");
  assert.equal(formatValue(0.3333, "ratio"), "33.3%");
  assert.equal(formatValue(3.5, "score"), "3.50");
  assert.equal(formatValue(12.5, "cny", { locale: "en" }), "¥12.50");
  assert.equal(formatValue(5400, "seconds", { labels: { hours: "小时" } }), "1.5 小时");
});

test("durations pick the largest unit", () => {
  assert.equal(formatDuration(42), "42 s");
  assert.equal(formatDuration(90), "1.5 min");
  assert.equal(formatDuration(172800), "2.0 d");
});

test("changes: ratios in points, the rest in per cent", () => {
  assert.deepEqual(
    formatChange({ value: 0.5, previous: 0.4, delta: 0.1, relative_change: 0.25, unit: "ratio" }),
    { text: "+10.0 pt", direction: "up" },
  );
  assert.deepEqual(
    formatChange({ value: 3, previous: 4, delta: -1, relative_change: -0.25, unit: "count" }),
    { text: "−25.0%", direction: "down" },
  );
  assert.deepEqual(
    formatChange({ value: 3, previous: 0, delta: 3, relative_change: null, unit: "count" }),
    { text: "+3", direction: "up" },
  );
  assert.equal(formatChange({ value: null, previous: 1, delta: null, unit: "count" }).direction, "none");
});

test("a rise is good or bad news depending on the counter", () => {
  assert.equal(changeTone("conversations", "up"), "good");
  assert.equal(changeTone("handoff_rate", "up"), "bad");
  assert.equal(changeTone("llm_cost", "down"), "good");
  assert.equal(changeTone("llm_cost", "flat"), "neutral");
});
