// The chat page's render functions, each subscribed to the part of the store it shows,
// and the wiring of the page's controls to the transport's actions.

import { byId, nearBottom } from "../live/dom.js";
import { format } from "../live/format.js";
import { watch } from "../live/store.js";
import { messageKey, messageNode, transientNodes } from "./messages.js";
import { canEnd, canHandOff, handoffNotice, isEnded } from "./state.js";

const TYPING_EVERY_MS = 3000;

function elements() {
  const ids = {
    chat: "chat",
    status: "chat-status",
    headerAvatar: "header-avatar",
    handoff: "handoff-button",
    end: "end-button",
    languageForm: "language-form",
    connection: "connection",
    connectionText: "connection-text",
    connectionRetry: "connection-retry",
    log: "chat-log",
    welcome: "welcome",
    messages: "messages",
    transient: "transient",
    banner: "banner",
    bannerAvatar: "banner-avatar",
    bannerText: "banner-text",
    error: "error",
    errorText: "error-text",
    errorClose: "error-close",
    confirm: "end-confirm",
    confirmYes: "end-confirm-yes",
    confirmNo: "end-confirm-no",
    ended: "ended",
    rating: "rating",
    ratingThanks: "rating-thanks",
    newConversation: "new-conversation",
    composer: "composer",
    input: "composer-input",
    send: "send-button",
    announcer: "announcer",
  };
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, byId(id)]));
}

export function mount({ store, bus, actions, t, config }) {
  const el = elements();
  const shown = new Map(); // message id -> {node, key}
  const initial = el.headerAvatar.textContent;
  let lastTyping = 0;

  const announce = (text) => {
    el.announcer.textContent = "";
    setTimeout(() => {
      el.announcer.textContent = text;
    }, 50);
  };

  bus.on("arrived", (message) => {
    const name = { agent: message.author?.name || t.agent, assistant: t.assistant }[message.role];
    announce(name ? `${name}: ${message.content}` : message.content);
  });

  const report = (error) => {
    store.dispatch({
      type: "error",
      error: { code: error.code || "error", message: error.message || t.generic_error },
    });
  };

  // --- render functions ------------------------------------------------------------------

  watch(
    store,
    (s) => [s.connection, s.session, s.transport],
    () => {
      const state = store.getState();
      const agent = state.session?.status === "handed_off" ? state.session.agent : null;
      el.chat.setAttribute(
        "aria-busy",
        String(!state.wasOnline && state.connection === "connecting"),
      );
      el.headerAvatar.textContent = agent ? agent.initial : initial;
      el.headerAvatar.classList.toggle("chat-avatar--agent", Boolean(agent));
      if (!state.wasOnline && state.connection !== "online") el.status.textContent = t.connecting;
      else if (agent) el.status.textContent = format(t.agent_answering, { name: agent.name });
      else if (state.session?.status === "handed_off") el.status.textContent = t.waiting_for_agent;
      else el.status.textContent = t.assistant_online;
      el.handoff.disabled = !canHandOff(state);
      el.end.disabled = !canEnd(state);
    },
  );

  let countdown = null;
  const renderConnection = () => {
    const { connection, retryAt, wasOnline } = store.getState();
    let text = "";
    if (connection === "offline") text = t.offline;
    else if (connection === "failed") text = t.connect_failed;
    else if (connection === "waiting") {
      const seconds = Math.max(1, Math.round(((retryAt || Date.now()) - Date.now()) / 1000));
      text = format(wasOnline ? t.reconnecting_in : t.connecting_in, { seconds });
    } else if (connection === "connecting" && wasOnline) text = t.reconnecting;
    el.connection.hidden = !text;
    el.connectionText.textContent = text;
    el.connectionRetry.hidden = !["waiting", "offline"].includes(connection);
    if (connection === "waiting" && countdown === null)
      countdown = setInterval(renderConnection, 1000);
    if (connection !== "waiting" && countdown !== null) {
      clearInterval(countdown);
      countdown = null;
    }
  };
  watch(store, (s) => [s.connection, s.retryAt, s.wasOnline], renderConnection);

  watch(
    store,
    (s) => [s.messages, s.session, s.outbox, s.streams, s.awaiting, s.typing],
    (now, before) => {
      const state = store.getState();
      const follow = nearBottom(el.log) || (before && now[2].length > before[2].length);
      const context = { canHandOff: canHandOff(state), language: config.language };
      let previous = null;
      for (const message of state.messages) {
        const key = messageKey(message, context);
        const known = shown.get(message.id);
        let node = known?.node;
        if (!known || known.key !== key) {
          node = messageNode(message, t, context);
          if (known) known.node.replaceWith(node);
          shown.set(message.id, { node, key });
        }
        const expected = previous ? previous.nextSibling : el.messages.firstChild;
        if (expected !== node) el.messages.insertBefore(node, expected);
        previous = node;
      }
      const ids = new Set(state.messages.map((message) => message.id));
      for (const [id, known] of shown) {
        if (!ids.has(id)) {
          known.node.remove();
          shown.delete(id);
        }
      }
      el.transient.replaceChildren(...transientNodes(state, t, config.language));
      el.welcome.hidden = Boolean(state.messages.length || state.outbox.length || !state.wasOnline);
      if (follow) el.log.scrollTop = el.log.scrollHeight;
    },
  );

  watch(
    store,
    (s) => [s.session, s.agentsOnline],
    () => {
      const notice = handoffNotice(store.getState());
      el.banner.hidden = !notice;
      el.banner.classList.toggle("chat-banner--nobody", notice?.kind === "nobody_online");
      el.bannerAvatar.hidden = notice?.kind !== "agent";
      if (!notice) return;
      if (notice.kind === "agent") {
        el.bannerAvatar.textContent = notice.agent.initial;
        el.bannerText.textContent = format(t.handed_off_agent, { name: notice.agent.name });
      } else {
        const text = notice.kind === "nobody_online" ? t.nobody_online : t.handed_off_order;
        el.bannerText.textContent = notice.workOrder
          ? format(text, { number: notice.workOrder })
          : t.handed_off;
      }
    },
  );

  watch(
    store,
    (s) => s.error,
    (error) => {
      el.error.hidden = !error;
      el.errorText.textContent = error ? error.message || t.generic_error : "";
    },
  );

  watch(
    store,
    (s) => [s.session, s.confirmingEnd],
    () => {
      const state = store.getState();
      const ended = isEnded(state);
      const endedNow = ended && el.ended.hidden;
      el.ended.hidden = !ended;
      el.composer.hidden = ended;
      el.confirm.hidden = !state.confirmingEnd || ended;
      const score = state.session?.satisfaction || 0;
      el.rating.querySelectorAll(".chat-star").forEach((star) => {
        const value = Number(star.dataset.rating);
        star.setAttribute("aria-pressed", String(value === score));
        star.classList.toggle("is-lit", Boolean(score) && value <= score);
      });
      el.ratingThanks.textContent = score ? t.rating_thanks : "";
      if (endedNow) el.log.scrollTop = el.log.scrollHeight;
    },
  );

  watch(
    store,
    (s) => s.draft,
    (draft) => {
      if (draft === null) return;
      el.input.value = el.input.value.trim() ? `${draft}\n${el.input.value}` : draft;
      autosize();
      store.dispatch({ type: "draft-taken" });
    },
  );

  // --- controls ----------------------------------------------------------------------------

  function autosize() {
    el.input.style.height = "auto";
    el.input.style.height = `${Math.min(el.input.scrollHeight, 160)}px`;
  }

  function submit() {
    const text = el.input.value;
    if (!text.trim()) return;
    if (Array.from(text.trim()).length > config.maxChars) {
      report({ code: "too_long", message: t.too_long });
      return;
    }
    store.dispatch({ type: "error-clear" });
    actions.send(text);
    el.input.value = "";
    autosize();
    el.log.scrollTop = el.log.scrollHeight;
  }

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  el.input.addEventListener("keydown", (event) => {
    // keyCode 229: an input method (Chinese, Japanese) is still composing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  el.input.addEventListener("input", () => {
    autosize();
    const now = Date.now();
    if (store.getState().session?.status === "handed_off" && now - lastTyping > TYPING_EVERY_MS) {
      lastTyping = now;
      actions.typing();
    }
  });

  const run = (work) => work().catch(report);
  const handOff = () =>
    run(async () => {
      el.handoff.disabled = true;
      await actions.handoff();
      announce(el.bannerText.textContent);
    });
  el.handoff.addEventListener("click", handOff);
  el.end.addEventListener("click", () => store.dispatch({ type: "confirm-end", open: true }));
  el.confirmNo.addEventListener("click", () =>
    store.dispatch({ type: "confirm-end", open: false }),
  );
  el.confirmYes.addEventListener("click", () =>
    run(async () => {
      await actions.end();
      store.dispatch({ type: "confirm-end", open: false });
      el.rating.querySelector(".chat-star").focus();
    }),
  );
  el.errorClose.addEventListener("click", () => store.dispatch({ type: "error-clear" }));
  el.connectionRetry.addEventListener("click", () => actions.retryNow());
  el.newConversation.addEventListener("click", () => {
    shown.clear();
    el.messages.replaceChildren();
    actions.newConversation();
    el.input.focus();
  });
  el.rating.addEventListener("click", (event) => {
    const star = event.target.closest(".chat-star");
    if (star) run(() => actions.rate(Number(star.dataset.rating)));
  });
  el.messages.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "handoff") handOff();
    if (button.dataset.action === "thumbs") {
      run(async () => {
        await actions.feedback(Number(button.dataset.message), button.dataset.thumbs);
        announce(t.feedback_thanks);
      });
    }
  });

  // In a third-party iframe the browser sends no CSRF or language cookie, so the switch
  // could not work there; the page follows the browser's language instead.
  if (window.self !== window.top) {
    el.languageForm.hidden = true;
    // Escape in the frame closes it on the tenant's site (static/dialogue/widget.js).
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") window.parent.postMessage({ type: "helpdesk-widget:close" }, "*");
    });
  }
  // Focusing would pop up the on-screen keyboard on phones.
  if (window.matchMedia("(pointer: fine)").matches) el.input.focus({ preventScroll: true });
}
