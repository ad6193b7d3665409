// The desk's render functions, each subscribed to its part of the store (its controls
// are wired in controls.js).

import { byId, h, nearBottom } from "../live/dom.js";
import { format } from "../live/format.js";
import { watch } from "../live/store.js";
import {
  hitEntry,
  historyEntry,
  messageNode,
  queueEntry,
  staffEntry,
  workOrderCard,
} from "./render.js";
import { composerMode, renderMode, wireControls } from "./controls.js";
import { correctedAnswers, permitted, transferTargets } from "./state.js";
import { wireTeaching } from "./teaching.js";

const AGE_REFRESH_MS = 30000;

function elements() {
  const ids = [
    "desk",
    "desk-connection",
    "desk-readonly",
    "desk-presence",
    "desk-sound",
    "desk-notify",
    "desk-tabs",
    "desk-open-count",
    "desk-queue-list",
    "desk-queue-empty",
    "desk-placeholder",
    "desk-chat",
    "desk-chat-customer",
    "desk-chat-meta",
    "desk-actions",
    "desk-transfer-to",
    "desk-messages",
    "desk-typing",
    "desk-composer",
    "desk-input",
    "desk-draft-hint",
    "desk-entry-hint",
    "desk-draft",
    "desk-send",
    "desk-workorder-card",
    "desk-workorder",
    "desk-history-card",
    "desk-history",
    "desk-correcting",
    "desk-correcting-text",
    "desk-correcting-cancel",
    "desk-search",
    "desk-search-q",
    "desk-hits",
    "desk-staff",
    "desk-error",
    "desk-error-text",
    "desk-error-close",
    "desk-notice",
  ];
  return Object.fromEntries(
    ids.map((id) => [
      id.replace(/^desk-/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase()),
      byId(id),
    ]),
  );
}

export function mount({ store, client, alerts, t, config }) {
  const el = elements();
  const { labels, language } = config;
  const shown = new Map(); // message id -> node, for the open conversation
  let shownSession = null;

  const report = (error) => {
    if (error && error.message)
      store.dispatch({ type: "error", error: { code: error.code, message: error.message } });
  };
  const mode = () => composerMode(el);

  // --- render functions ------------------------------------------------------------------

  watch(
    store,
    (s) => [s.connection, s.acts, s.wasOnline],
    ([connection, acts, wasOnline]) => {
      el.desk.setAttribute("aria-busy", String(!wasOnline));
      el.connection.textContent =
        connection === "online" ? t.connected : wasOnline ? t.reconnecting : t.connecting;
      el.connection.dataset.state = connection;
      el.readonly.hidden = acts || !wasOnline;
      el.composer.hidden = !acts;
      el.presence.disabled = !acts;
    },
  );

  function renderQueue() {
    const state = store.getState();
    const now = Date.now();
    el.queueList.replaceChildren(
      ...state.queue.map((item) =>
        queueEntry(item, {
          t,
          labels,
          language,
          now,
          selected: item.id === state.selected,
          typing: (state.customerTyping[item.id] || 0) > now,
        }),
      ),
    );
    el.queueEmpty.hidden = state.queue.length > 0 || !state.wasOnline;
    el.queueEmpty.textContent = t[`empty_${state.view}`];
    el.openCount.textContent = state.waiting.length ? String(state.waiting.length) : "";
    for (const tab of el.tabs.querySelectorAll("[role=tab]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.view === state.view));
    }
  }
  watch(
    store,
    (s) => [s.queue, s.selected, s.view, s.waiting, s.customerTyping, s.wasOnline],
    renderQueue,
  );
  setInterval(renderQueue, AGE_REFRESH_MS);

  watch(
    store,
    (s) => [s.conversation, s.selected, s.busy, s.staff, s.me],
    () => {
      const state = store.getState();
      const conversation = state.conversation;
      el.placeholder.hidden = state.selected !== null;
      el.chat.hidden = state.selected === null;
      if (!conversation) {
        el.chatCustomer.textContent = state.selected === null ? "" : t.loading;
        el.chatMeta.textContent = "";
        return;
      }
      const session = conversation.session;
      el.chatCustomer.textContent = session.customer;
      const who = session.assignee
        ? format(t.handled_by, { name: session.assignee.name })
        : session.status === "handed_off"
          ? t.unassigned
          : t.assistant_handles;
      el.chatMeta.replaceChildren(
        h(
          "span",
          { class: `desk-pill desk-pill--${session.status}` },
          labels.status[session.status],
        ),
        " ",
        labels.channel[session.channel] || session.channel,
        " · ",
        who,
        session.handoff_reason ? ` · ${labels.handoffReason[session.handoff_reason] || ""}` : "",
      );
      const may = permitted(state);
      for (const button of el.actions.querySelectorAll("[data-act]")) {
        const act = button.dataset.act;
        button.hidden = !state.acts;
        button.disabled = !may[act] || state.busy !== null;
      }
      const targets = transferTargets(state);
      const chosen = el.transferTo.value;
      el.transferTo.replaceChildren(
        h("option", { value: "" }, targets.length ? t.transfer_choose : t.transfer_nobody),
        ...targets.map((person) =>
          h(
            "option",
            { value: String(person.id) },
            `${person.name} (${labels.presence[person.presence] || person.presence})`,
          ),
        ),
      );
      el.transferTo.value = targets.some((person) => String(person.id) === chosen) ? chosen : "";
      el.transferTo.hidden = !state.acts;
      el.transferTo.disabled = !may.transfer;
      const replyRadio = el.composer.querySelector("input[value=reply]");
      replyRadio.disabled = !may.reply;
      if (!may.reply && mode() === "reply")
        el.composer.querySelector("input[value=note]").checked = true;
      el.send.disabled = state.busy !== null;
      el.draft.disabled = !may.reply || state.busy !== null;
      renderMode(el, t);
    },
  );

  watch(
    store,
    (s) => s.conversation,
    (conversation) => {
      const sessionId = conversation ? conversation.session.id : null;
      if (sessionId !== shownSession) {
        shown.clear();
        el.messages.replaceChildren();
        shownSession = sessionId;
      }
      if (!conversation) return;
      const follow = nearBottom(el.messages) || shown.size === 0;
      const corrected = correctedAnswers(conversation);
      const acts = store.getState().acts;
      let previous = null;
      for (const message of conversation.messages) {
        let node = shown.get(message.id);
        const marked = String(corrected.has(message.id));
        if (!node || node.dataset.content !== message.content || node.dataset.marked !== marked) {
          const fresh = messageNode(message, {
            t,
            labels,
            language,
            acts,
            corrected: marked === "true",
          });
          fresh.dataset.content = message.content;
          fresh.dataset.marked = marked;
          if (node) node.replaceWith(fresh);
          node = fresh;
          shown.set(message.id, node);
        }
        const expected = previous ? previous.nextSibling : el.messages.firstChild;
        if (expected !== node) el.messages.insertBefore(node, expected);
        previous = node;
      }
      if (follow) el.messages.scrollTop = el.messages.scrollHeight;
      el.workorderCard.hidden = !conversation.work_order;
      el.workorder.replaceChildren(
        conversation.work_order ? workOrderCard(conversation.work_order, { t, labels }) : "",
      );
      el.historyCard.hidden = !conversation.history.length;
      el.history.replaceChildren(
        ...conversation.history.map((entry) =>
          historyEntry(entry, { t, labels, config, language }),
        ),
      );
    },
  );

  watch(
    store,
    (s) => [s.customerTyping, s.selected],
    ([typing, selected]) => {
      el.typing.hidden = !(selected !== null && (typing[selected] || 0) > Date.now());
    },
  );

  watch(
    store,
    (s) => [s.search, s.acts, s.correcting],
    ([search, acts, correcting]) => {
      if (search.hits === null) {
        el.hits.replaceChildren();
        return;
      }
      el.hits.replaceChildren(
        ...(search.hits.length
          ? search.hits.map((hit) => hitEntry(hit, { t, acts, correcting: correcting !== null }))
          : [h("li", { class: "desk-muted" }, t.no_hits)]),
      );
    },
  );

  watch(
    store,
    (s) => [s.staff, s.me],
    ([staff, me]) => {
      el.staff.replaceChildren(
        ...(staff.length
          ? staff.map((person) => staffEntry(person, { t, labels, me }))
          : [h("li", { class: "desk-muted" }, t.nobody_at_desk)]),
      );
    },
  );

  watch(
    store,
    (s) => s.presence,
    (presence) => {
      el.presence.value = presence;
    },
  );

  watch(
    store,
    (s) => s.error,
    (error) => {
      el.error.hidden = !error;
      el.errorText.textContent = error ? error.message : "";
    },
  );

  wireTeaching({ store, client, t, el, report });
  return wireControls({ store, client, alerts, t, el, report });
}
