// The conversation's elements: one per saved message (kept by id and redrawn only when
// it changed), and the transient ones below them: messages on their way, the answer
// being written, and who is typing.

import { h } from "../live/dom.js";
import { clockTime, format } from "../live/format.js";

function meta(author, iso, language, extra = null) {
  return h(
    "p",
    { class: "msg-meta" },
    h("span", { class: "msg-author" }, author),
    extra,
    h("time", { class: "msg-time", datetime: iso || "" }, clockTime(iso, language)),
  );
}

function avatar(kind, letter) {
  return h("span", { class: `msg-avatar msg-avatar--${kind}`, "aria-hidden": "true" }, letter);
}

function sources(message, t) {
  if (!message.sources || !message.sources.length) return null;
  return h(
    "p",
    { class: "msg-sources" },
    h("span", { class: "msg-sources-label" }, t.sources),
    message.sources.map((source) =>
      h(
        "span",
        { class: "msg-source", title: source.title || "" },
        source.title || format(t.source_marker, { id: source.id }),
      ),
    ),
  );
}

function hints(message, t, context) {
  const found = [];
  if (message.error_type === "client_disconnected") found.push(t.interrupted);
  else if (message.low_confidence) found.push(t.low_confidence);
  else if (message.kb_only) found.push(t.kb_only);
  if (!found.length) return null;
  const link =
    context.canHandOff && message.error_type !== "client_disconnected"
      ? h(
          "button",
          { type: "button", class: "chat-link", dataset: { action: "handoff" } },
          t.talk_to_person,
        )
      : null;
  return h("p", { class: "msg-hint" }, h("span", {}, found[0]), link);
}

function thumbs(message, t) {
  const choice = (value, label, pressed) =>
    h(
      "button",
      {
        type: "button",
        class: `msg-thumb msg-thumb--${value}`,
        "aria-pressed": String(pressed),
        dataset: { action: "thumbs", thumbs: value, message: message.id },
      },
      label,
    );
  return h(
    "div",
    { class: "msg-feedback", role: "group", "aria-label": t.rate_answer },
    h("span", { class: "msg-feedback-label" }, t.rate_answer),
    choice("up", t.helpful, message.thumbs_up === true),
    choice("down", t.not_helpful, message.thumbs_up === false),
  );
}

export function messageNode(message, t, context) {
  const base = { class: `msg msg--${message.role}`, dataset: { id: message.id } };
  if (message.role === "system") {
    return h("li", base, h("p", { class: "msg-notice" }, message.content));
  }
  if (message.role === "user") {
    return h(
      "li",
      base,
      meta(t.you, message.created_at, context.language),
      h("div", { class: "msg-bubble" }, message.content),
    );
  }
  if (message.role === "agent") {
    const person = message.author || { name: t.agent, initial: t.agent.slice(0, 1) };
    return h(
      "li",
      base,
      avatar("agent", person.initial),
      h(
        "div",
        { class: "msg-body" },
        meta(
          person.name,
          message.created_at,
          context.language,
          h("span", { class: "msg-role" }, t.agent),
        ),
        h("div", { class: "msg-bubble" }, message.content),
      ),
    );
  }
  const answer = message.content || (message.error_type ? t.answer_interrupted_empty : "");
  return h(
    "li",
    base,
    avatar("assistant", t.assistant_initial),
    h(
      "div",
      { class: "msg-body" },
      meta(t.assistant, message.created_at, context.language),
      h("div", { class: "msg-bubble" }, answer),
      h(
        "div",
        { class: "msg-details" },
        sources(message, t),
        hints(message, t, context),
        thumbs(message, t),
      ),
    ),
  );
}

// What decides how a message looks: it is redrawn when this changes.
export function messageKey(message, context) {
  return JSON.stringify([
    message.content,
    message.thumbs_up,
    message.error_type,
    message.sources,
    message.author,
    message.role === "assistant" && context.canHandOff,
    context.language,
  ]);
}

function dots(label) {
  return h(
    "span",
    { class: "msg-typing" },
    h("span"),
    h("span"),
    h("span"),
    h("span", { class: "visually-hidden" }, label),
  );
}

export function transientNodes(state, t, language) {
  const nodes = [];
  for (const item of state.outbox) {
    const status = item.saved ? null : item.sent ? t.sending : t.waiting_to_send;
    nodes.push(
      h(
        "li",
        {
          class: `msg msg--user${item.saved ? "" : " is-pending"}`,
          dataset: { client: item.clientId },
        },
        meta(
          t.you,
          new Date(item.at).toISOString(),
          language,
          status ? h("span", { class: "msg-status" }, status) : null,
        ),
        h("div", { class: "msg-bubble" }, item.content),
      ),
    );
  }
  const streaming = Object.values(state.streams);
  for (const text of streaming) {
    nodes.push(
      h(
        "li",
        { class: "msg msg--assistant is-streaming" },
        avatar("assistant", t.assistant_initial),
        h(
          "div",
          { class: "msg-body" },
          meta(t.assistant, null, language),
          h("div", { class: "msg-bubble" }, text || dots(t.typing)),
        ),
      ),
    );
  }
  if (!streaming.length && state.awaiting !== null) {
    nodes.push(
      h(
        "li",
        { class: "msg msg--assistant is-streaming" },
        avatar("assistant", t.assistant_initial),
        h(
          "div",
          { class: "msg-body" },
          meta(t.assistant, null, language),
          h("div", { class: "msg-bubble" }, dots(t.typing)),
        ),
      ),
    );
  }
  if (state.typing) {
    const person = state.typing.person || { name: t.agent, initial: t.agent.slice(0, 1) };
    nodes.push(
      h(
        "li",
        { class: "msg msg--agent is-typing" },
        avatar("agent", person.initial),
        h(
          "div",
          { class: "msg-body" },
          h(
            "p",
            { class: "msg-meta" },
            h("span", { class: "msg-author" }, format(t.agent_typing, { name: person.name })),
          ),
          h("div", { class: "msg-bubble" }, dots(format(t.agent_typing, { name: person.name }))),
        ),
      ),
    );
  }
  return nodes;
}
