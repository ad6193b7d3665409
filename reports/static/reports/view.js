// The dashboard's DOM: counters, budget and the unanswered questions, built with the shared
// `h` (dialogue/live/dom.js), which puts text in as text nodes only (customer questions are
// untrusted).

import { h } from "../dialogue/live/dom.js";
import { changeTone, formatChange, formatValue } from "./format.js";

function counterCard(counter, labels, locale) {
  const format = (value) => formatValue(value, counter.unit, { locale, labels });
  const change = formatChange(counter);
  const previous = `${labels.previous} ${format(counter.previous)}`;
  const tone = changeTone(counter.name, change.direction);
  return h(
    "div",
    { class: "hd-counter", dataset: { counter: counter.name } },
    h("div", { class: "hd-counter-label" }, counter.label),
    h("div", { class: "hd-counter-value" }, format(counter.value)),
    h(
      "div",
      { class: `hd-counter-change hd-${tone}` },
      change.text ? `${change.text} · ${previous}` : previous,
    ),
  );
}

// Each counter goes into the element of its group ([data-counter-group]) inside `container`.
export function renderCounters(container, counters, labels, locale) {
  for (const slot of container.querySelectorAll("[data-counter-group]")) {
    const group = slot.dataset.counterGroup;
    slot.replaceChildren(
      ...counters
        .filter((counter) => counter.group === group)
        .map((counter) => counterCard(counter, labels, locale)),
    );
  }
}

// The period's dates, which move on with a preset ("today") when the page stays open.
export function renderPeriod(node, period) {
  if (node) node.textContent = `${period.start} – ${period.end}`;
}

function bar(share) {
  const level = share >= 1 ? " hd-bar-full" : share >= 0.8 ? " hd-bar-high" : "";
  const inner = h("div", { class: `hd-bar-fill${level}` });
  // Through the CSSOM: the Content-Security-Policy refuses style attributes.
  inner.style.width = `${Math.min(share, 1) * 100}%`;
  return h("div", { class: "hd-bar" }, inner);
}

export function renderBudget(container, budget, labels, locale) {
  const rows = [];
  const lines = [
    [labels.tokens, budget.tokens_used, budget.monthly_tokens, budget.token_share, "count"],
    [labels.cost, budget.cost_used, budget.monthly_cost, budget.cost_share, "cny"],
  ];
  for (const [label, used, limit, share, unit] of lines) {
    const amount = limit
      ? `${formatValue(used, unit, { locale })} / ${formatValue(limit, unit, { locale })}`
      : `${formatValue(used, unit, { locale })} (${labels.noBudget})`;
    rows.push(
      h(
        "div",
        { class: "hd-budget-row" },
        h("span", { class: "hd-budget-label" }, label),
        h("span", { class: "hd-budget-amount" }, amount),
        share !== null && bar(share),
      ),
    );
  }
  if (budget.hard_stop) rows.push(h("div", { class: "hd-budget-note" }, labels.hardStop));
  if (budget.reason) rows.push(h("div", { class: "hd-budget-stopped" }, budget.reason));
  container.replaceChildren(...rows);
}

function questionRow(group, index, labels, draft) {
  const reasons = [
    [group.reasons.handoff, labels.handoff],
    [group.reasons.low_confidence, labels.lowConfidence],
    [group.reasons.thumbs_down, labels.thumbsDown],
  ]
    .filter(([n]) => n)
    .map(([n, label]) => `${label} ${n}`);
  const examples = group.examples.length
    ? h(
        "div",
        { class: "hd-question-examples", title: group.examples.join("\n") },
        group.examples.join(" / "),
      )
    : null;
  return h(
    "tr",
    { class: "hd-question" },
    h("td", { class: "hd-question-rank" }, String(index + 1)),
    h(
      "td",
      { class: "hd-question-main" },
      h("div", { class: "hd-question-text" }, group.question),
      examples,
    ),
    h("td", { class: "hd-question-count" }, `× ${group.count}`),
    h("td", { class: "hd-question-reasons" }, reasons.join(" · ")),
    h(
      "td",
      { class: "hd-question-action" },
      draft && draftForm(draft, group.message_id, labels.writeEntry),
    ),
  );
}

export function renderUnanswered(container, groups, labels, draft) {
  if (!groups.length) {
    container.replaceChildren(h("p", { class: "hd-empty" }, labels.noQuestions));
    return;
  }
  const titles = ["", labels.question, labels.asked, labels.why, ""];
  const head = h("tr", {}, ...titles.map((title) => h("th", {}, title)));
  const rows = groups.map((group, index) => questionRow(group, index, labels, draft));
  container.replaceChildren(
    h("table", { class: "hd-questions" }, h("thead", {}, head), h("tbody", {}, rows)),
  );
}

function draftForm(draft, messageId, label) {
  return h(
    "form",
    { class: "hd-draft", method: "post", action: draft.url },
    h("input", { type: "hidden", name: "csrfmiddlewaretoken", value: draft.csrf }),
    h("input", { type: "hidden", name: "message", value: String(messageId) }),
    h("button", { class: "button", type: "submit" }, label),
  );
}
