// The dashboard's DOM: counters, budget and the unanswered questions. Text goes in with
// textContent only (customer questions are untrusted).

import { changeTone, formatChange, formatValue } from "./format.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function counterCard(counter, labels, locale) {
  const card = element("div", "hd-counter");
  card.dataset.counter = counter.name;
  card.append(element("div", "hd-counter-label", counter.label));
  card.append(element("div", "hd-counter-value", formatValue(counter.value, counter.unit, { locale, labels })));
  const change = formatChange(counter);
  const previous = `${labels.previous} ${formatValue(counter.previous, counter.unit, { locale, labels })}`;
  const footer = element("div", `hd-counter-change hd-${changeTone(counter.name, change.direction)}`);
  footer.textContent = change.text ? `${change.text} · ${previous}` : previous;
  card.append(footer);
  return card;
}

// Each counter goes into the element of its group ([data-counter-group]) inside `container`.
export function renderCounters(container, counters, labels, locale) {
  for (const slot of container.querySelectorAll("[data-counter-group]")) {
    const group = slot.dataset.counterGroup;
    slot.replaceChildren(
      ...counters.filter((counter) => counter.group === group).map((counter) => counterCard(counter, labels, locale)),
    );
  }
}

// The period's dates, which move on with a preset ("today") when the page stays open.
export function renderPeriod(node, period) {
  if (node) node.textContent = `${period.start} – ${period.end}`;
}

function bar(share) {
  const outer = element("div", "hd-bar");
  const inner = element("div", share >= 1 ? "hd-bar-fill hd-bar-full" : share >= 0.8 ? "hd-bar-fill hd-bar-high" : "hd-bar-fill");
  inner.style.width = `${Math.min(share, 1) * 100}%`;
  outer.append(inner);
  return outer;
}

export function renderBudget(container, budget, labels, locale) {
  const rows = [];
  const lines = [
    [labels.tokens, budget.tokens_used, budget.monthly_tokens, budget.token_share, "count"],
    [labels.cost, budget.cost_used, budget.monthly_cost, budget.cost_share, "cny"],
  ];
  for (const [label, used, limit, share, unit] of lines) {
    const row = element("div", "hd-budget-row");
    row.append(element("span", "hd-budget-label", label));
    const amount = limit
      ? `${formatValue(used, unit, { locale })} / ${formatValue(limit, unit, { locale })}`
      : `${formatValue(used, unit, { locale })} (${labels.noBudget})`;
    row.append(element("span", "hd-budget-amount", amount));
    if (share !== null) row.append(bar(share));
    rows.push(row);
  }
  if (budget.hard_stop) rows.push(element("div", "hd-budget-note", labels.hardStop));
  if (budget.reason) rows.push(element("div", "hd-budget-stopped", budget.reason));
  container.replaceChildren(...rows);
}

export function renderUnanswered(container, groups, labels, draft) {
  if (!groups.length) {
    container.replaceChildren(element("p", "hd-empty", labels.noQuestions));
    return;
  }
  const table = element("table", "hd-questions");
  const head = element("tr");
  for (const title of ["", labels.question, labels.asked, labels.why, ""]) head.append(element("th", null, title));
  const thead = element("thead");
  thead.append(head);
  table.append(thead);
  const body = element("tbody");
  groups.forEach((group, index) => {
    const row = element("tr", "hd-question");
    row.append(element("td", "hd-question-rank", String(index + 1)));
    const question = element("td", "hd-question-main");
    question.append(element("div", "hd-question-text", group.question));
    if (group.examples.length) {
      const examples = element("div", "hd-question-examples", group.examples.join(" / "));
      examples.title = group.examples.join("\n");
      question.append(examples);
    }
    row.append(question);
    row.append(element("td", "hd-question-count", `× ${group.count}`));
    const reasons = [
      [group.reasons.handoff, labels.handoff],
      [group.reasons.low_confidence, labels.lowConfidence],
      [group.reasons.thumbs_down, labels.thumbsDown],
    ].filter(([n]) => n).map(([n, label]) => `${label} ${n}`);
    row.append(element("td", "hd-question-reasons", reasons.join(" · ")));
    const action = element("td", "hd-question-action");
    if (draft) action.append(draftForm(draft, group.message_id, labels.writeEntry));
    row.append(action);
    body.append(row);
  });
  table.append(body);
  container.replaceChildren(table);
}

function draftForm(draft, messageId, label) {
  const form = element("form", "hd-draft");
  form.method = "post";
  form.action = draft.url;
  for (const [name, value] of [["csrfmiddlewaretoken", draft.csrf], ["message", String(messageId)]]) {
    const input = element("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  const button = element("button", "button", label);
  button.type = "submit";
  form.append(button);
  return form;
}
