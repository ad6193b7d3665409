// Numbers for people: counts, ratios, ratings, durations and CNY, and the change against
// the previous period.

export function formatValue(value, unit, { locale = "zh-CN", labels = {} } = {}) {
  if (value === null || value === undefined) return "–";
  switch (unit) {
    case "ratio":
      return `${(value * 100).toFixed(1)}%`;
    case "score":
      return value.toFixed(2);
    case "seconds":
      return formatDuration(value, labels);
    case "cny":
      return `¥${value.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    default:
      return Math.round(value).toLocaleString(locale);
  }
}

export function formatDuration(seconds, labels = {}) {
  const units = [
    [86400, labels.days ?? "d"],
    [3600, labels.hours ?? "h"],
    [60, labels.minutes ?? "min"],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) return `${(seconds / size).toFixed(1)} ${name}`;
  }
  return `${Math.round(seconds)} ${labels.seconds ?? "s"}`;
}

// { text, direction: "up" | "down" | "flat" | "none" }: ratios change in points, the
// rest in per cent of the previous value.
export function formatChange(counter) {
  const { value, previous, delta, relative_change: relative, unit } = counter;
  if (value === null || previous === null || delta === null) {
    return { text: "", direction: "none" };
  }
  const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
  if (unit === "ratio") {
    return { text: `${sign}${Math.abs(delta * 100).toFixed(1)} pt`, direction };
  }
  if (unit === "score") {
    return { text: `${sign}${Math.abs(delta).toFixed(2)}`, direction };
  }
  if (relative === null) {
    return { text: `${sign}${Math.abs(delta).toLocaleString()}`, direction };
  }
  return { text: `${sign}${Math.abs(relative * 100).toFixed(1)}%`, direction };
}

// Whether a rise is good news, for the colour of the change.
const LOWER_IS_BETTER = new Set([
  "handoff_rate",
  "low_confidence_rate",
  "workorders_overdue",
  "first_response_median_seconds",
  "resolution_median_seconds",
  "llm_cost",
  "llm_tokens",
]);

export function changeTone(name, direction) {
  if (direction === "up") return LOWER_IS_BETTER.has(name) ? "bad" : "good";
  if (direction === "down") return LOWER_IS_BETTER.has(name) ? "good" : "bad";
  return "neutral";
}
