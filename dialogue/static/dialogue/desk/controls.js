// The desk's controls: the queue's tabs and entries, the conversation's actions, the
// composer (reply or internal note, a knowledge answer inserted, an AI draft to edit),
// the knowledge search, presence, sound and notifications. The reply remembers the entry
// whose answer was inserted, until it is sent, emptied or turned into a note.

import { VIEWS } from "./state.js";

const TYPING_EVERY_MS = 3000;

export function composerMode(el) {
  return el.composer.querySelector("input[name=mode]:checked").value;
}

export function renderMode(el, t) {
  const note = composerMode(el) === "note";
  el.composer.classList.toggle("is-note", note);
  el.input.placeholder = note ? t.note_placeholder : t.reply_placeholder;
  el.send.textContent = note ? t.add_note : t.send;
}

export function wireControls({ store, client, alerts, t, el, report }) {
  const mode = () => composerMode(el);
  const linkEntry = (entry) => store.dispatch({ type: "composer-entry", entry });
  let lastTyping = 0;

  function select(id) {
    const state = store.getState();
    if (state.selected === id) return;
    if (state.selected !== null) client.close(state.selected).catch(() => {});
    store.dispatch({ type: "select", id });
    el.draftHint.hidden = true;
    client.open(id).catch(report);
  }

  el.tabs.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (!tab || !VIEWS.includes(tab.dataset.view)) return;
    store.dispatch({ type: "view", view: tab.dataset.view });
    client.queue(tab.dataset.view).catch(report);
  });

  el.queueList.addEventListener("click", (event) => {
    const entry = event.target.closest("[data-session]");
    if (entry) select(Number(entry.dataset.session));
  });

  el.actions.addEventListener("click", (event) => {
    const button = event.target.closest("[data-act]");
    const id = store.getState().selected;
    if (!button || id === null) return;
    const act = button.dataset.act;
    if (act === "transfer") {
      const to = Number(el.transferTo.value);
      if (!to) {
        el.transferTo.focus();
        return;
      }
      client.transfer(id, to).catch(report);
    } else if (act === "end") {
      if (window.confirm(t.end_confirm)) client.end(id).catch(report);
    } else {
      client[act](id).catch(report);
    }
  });

  function submit() {
    const { selected: id, composerEntry } = store.getState();
    const content = el.input.value.trim();
    if (id === null || !content) return;
    const send =
      mode() === "note"
        ? client.note(id, content)
        : client.reply(id, content, composerEntry ? composerEntry.id : null);
    send.then(() => {
      el.input.value = "";
      el.draftHint.hidden = true;
      linkEntry(null);
    }, report);
  }

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  el.composer.addEventListener("change", () => {
    renderMode(el, t);
    if (mode() === "note") linkEntry(null);
  });
  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  el.input.addEventListener("input", () => {
    if (!el.input.value.trim()) linkEntry(null);
    const id = store.getState().selected;
    const now = Date.now();
    if (id !== null && mode() === "reply" && now - lastTyping > TYPING_EVERY_MS) {
      lastTyping = now;
      client.typing(id);
    }
  });

  el.draft.addEventListener("click", () => {
    const id = store.getState().selected;
    if (id === null) return;
    client.draft(id).then((text) => {
      el.composer.querySelector("input[value=reply]").checked = true;
      renderMode(el, t);
      el.input.value = text;
      linkEntry(null);
      el.draftHint.hidden = false;
      el.input.focus();
    }, report);
  });

  el.search.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = el.searchQ.value.trim();
    if (q) client.search(q).catch(report);
  });
  el.hits.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert]");
    if (!button) return;
    const hit = store
      .getState()
      .search.hits.find((entry) => String(entry.id) === button.dataset.insert);
    if (!hit) return;
    el.composer.querySelector("input[value=reply]").checked = true;
    renderMode(el, t);
    el.input.value = el.input.value.trim()
      ? `${el.input.value.trimEnd()}\n${hit.answer}`
      : hit.answer;
    linkEntry({ id: hit.id, question: hit.question });
    el.input.focus();
  });

  el.presence.addEventListener("change", () => client.presence(el.presence.value).catch(report));
  el.errorClose.addEventListener("click", () => store.dispatch({ type: "error-clear" }));

  function renderSound() {
    el.sound.setAttribute("aria-pressed", String(alerts.soundOn));
    el.sound.textContent = alerts.soundOn ? t.sound_on : t.sound_off;
  }
  el.sound.addEventListener("click", () => {
    alerts.setSound(!alerts.soundOn);
    renderSound();
  });
  renderSound();

  function renderNotify() {
    el.notify.hidden = alerts.permission !== "default";
  }
  el.notify.addEventListener("click", () => alerts.askPermission().then(renderNotify));
  renderNotify();

  return { select };
}
