// The desk's elements: queue entries, the conversation's messages (internal notes shown
// as such), the work order, the customer's other conversations, knowledge answers and
// the team. Server text only becomes text nodes.

import { h } from "../live/dom.js";
import { age, clockTime, dateTime, format } from "../live/format.js";

export function queueEntry(item, { t, labels, selected, typing, language, now }) {
  const waitingSince = item.handed_off_at || item.last_activity_at;
  const last = item.last_message;
  let preview = t.no_messages;
  if (last) {
    preview = last.role === "user" ? last.content : `${labels.role[last.role]}: ${last.content}`;
  }
  return h(
    "li",
    { class: `desk-entry${selected ? " is-selected" : ""}`, dataset: { session: item.id } },
    h(
      "button",
      { type: "button", class: "desk-entry-button", "aria-current": selected ? "true" : "false" },
      h(
        "span",
        { class: "desk-entry-top" },
        h("span", { class: "desk-entry-customer" }, item.customer),
        h(
          "span",
          { class: "desk-entry-age", title: dateTime(waitingSince, language) },
          age(waitingSince, t, now),
        ),
      ),
      h("span", { class: "desk-entry-preview" }, typing ? t.customer_typing : preview),
      h(
        "span",
        { class: "desk-entry-tags" },
        h(
          "span",
          { class: `desk-pill desk-pill--${item.status}` },
          labels.status[item.status] || item.status,
        ),
        item.assignee
          ? h("span", { class: "desk-pill desk-pill--agent" }, item.assignee.name)
          : item.status === "handed_off"
            ? h("span", { class: "desk-pill desk-pill--free" }, t.unassigned)
            : null,
        item.work_order
          ? h("span", { class: "desk-entry-order" }, `#${item.work_order.number}`)
          : null,
        h("span", { class: "desk-entry-channel" }, labels.channel[item.channel] || item.channel),
      ),
    ),
  );
}

function author(message, t, labels) {
  if (message.role === "user") return t.customer;
  if (message.role === "assistant") return labels.role.assistant;
  if (message.author) return message.author.name;
  return labels.role[message.role] || message.role;
}

// An assistant answer offers agents "Wrong answer" (answers already corrected say so).
export function messageNode(message, { t, labels, language, acts = false, corrected = false }) {
  const base = { class: `desk-msg desk-msg--${message.role}`, dataset: { id: message.id } };
  if (message.role === "system") {
    return h("li", base, h("p", { class: "desk-msg-notice" }, message.content));
  }
  const tags = [];
  if (message.role === "note")
    tags.push(h("span", { class: "desk-tag desk-tag--note" }, t.internal_note));
  if (message.low_confidence)
    tags.push(h("span", { class: "desk-tag desk-tag--warn" }, t.low_confidence));
  if (message.kb_only) tags.push(h("span", { class: "desk-tag" }, t.kb_only));
  if (message.thumbs_up === true) tags.push(h("span", { class: "desk-tag" }, t.rated_helpful));
  if (message.thumbs_up === false)
    tags.push(h("span", { class: "desk-tag desk-tag--warn" }, t.rated_unhelpful));
  if (corrected) tags.push(h("span", { class: "desk-tag desk-tag--warn" }, t.corrected));
  const avatar = message.author
    ? h("span", { class: "desk-avatar", "aria-hidden": "true" }, message.author.initial)
    : null;
  return h(
    "li",
    base,
    h(
      "p",
      { class: "desk-msg-meta" },
      avatar,
      h("span", { class: "desk-msg-author" }, author(message, t, labels)),
      tags,
      h(
        "time",
        { datetime: message.created_at, title: dateTime(message.created_at, language) },
        clockTime(message.created_at, language),
      ),
      acts && message.role === "assistant"
        ? h(
            "button",
            {
              type: "button",
              class: "desk-msg-correct",
              title: t.wrong_answer_hint,
              dataset: { correct: message.id },
            },
            t.wrong_answer,
          )
        : null,
    ),
    h("div", { class: "desk-msg-bubble" }, message.content),
    message.sources?.length
      ? h(
          "p",
          { class: "desk-msg-sources" },
          `${t.sources} `,
          message.sources.map((source) =>
            h("span", { class: "desk-source" }, source.title || `#${source.id}`),
          ),
        )
      : null,
  );
}

export function workOrderCard(order, { t, labels }) {
  return h(
    "div",
    { class: "desk-workorder" },
    h(
      "p",
      { class: "desk-workorder-title" },
      h("strong", {}, `#${order.number}`),
      " ",
      order.title,
    ),
    h(
      "p",
      {},
      h(
        "span",
        { class: `desk-pill desk-pill--wo-${order.status}` },
        order.status_label || labels.workOrderStatus[order.status],
      ),
      " ",
      h("span", { class: "desk-muted" }, format(t.priority, { priority: order.priority_label })),
    ),
    h("p", {}, h("a", { href: order.url, target: "_blank", rel: "noopener" }, t.open_work_order)),
  );
}

export function historyEntry(entry, { t, labels, config, language }) {
  return h(
    "li",
    {},
    h(
      "a",
      { href: config.urls.session.replace("{id}", entry.id), target: "_blank", rel: "noopener" },
      dateTime(entry.started_at, language),
    ),
    " ",
    h(
      "span",
      { class: `desk-pill desk-pill--${entry.status}` },
      labels.status[entry.status] || entry.status,
    ),
    " ",
    h("span", { class: "desk-muted" }, format(t.message_count, { count: entry.message_count })),
  );
}

// While the agent corrects an answer, a hit is offered as the right one instead of inserted.
export function hitEntry(hit, { t, acts, correcting }) {
  return h(
    "li",
    { class: "desk-hit" },
    h(
      "p",
      { class: "desk-hit-question" },
      hit.question,
      hit.verified ? h("span", { class: "desk-tag" }, t.verified) : null,
    ),
    h("p", { class: "desk-hit-answer" }, hit.answer),
    !acts
      ? null
      : correcting
        ? h(
            "button",
            { type: "button", class: "button default", dataset: { right: hit.id } },
            t.right_answer,
          )
        : h(
            "button",
            { type: "button", class: "button", dataset: { insert: hit.id } },
            t.insert_answer,
          ),
  );
}

export function staffEntry(person, { t, labels, me }) {
  return h(
    "li",
    { class: `desk-person desk-person--${person.presence}` },
    h("span", { class: "desk-dot", "aria-hidden": "true" }),
    h("span", {}, person.id === me?.id ? format(t.me, { name: person.name }) : person.name),
    h("span", { class: "desk-muted" }, labels.presence[person.presence] || person.presence),
  );
}
