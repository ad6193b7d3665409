// Staff teach the assistant from the desk: a reply built on an inserted knowledge answer
// names its entry (controls.js remembers which), and a wrong answer is corrected by picking
// the right entry in the knowledge search ("correct" mode), with a short confirmation.

import { format } from "../live/format.js";
import { watch } from "../live/store.js";

const NOTICE_MS = 6000;
const EXCERPT_CHARS = 60;

const excerpt = (text) => (text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text);

export function wireTeaching({ store, client, t, el, report }) {
  const stop = () => store.dispatch({ type: "correct-stop" });

  // Correct mode searches for the customer's question the answer replied to at once.
  function start(answerId) {
    const messages = store.getState().conversation?.messages || [];
    const answer = messages.find((message) => message.id === answerId);
    if (!answer) return;
    store.dispatch({ type: "correct-start", message: answerId });
    const question = messages.find((message) => message.id === answer.reply_to);
    if (question?.role === "user") {
      el.searchQ.value = question.content.slice(0, 200);
      client.search(el.searchQ.value).catch(report);
    }
    el.searchQ.focus();
  }

  el.messages.addEventListener("click", (event) => {
    const button = event.target.closest("[data-correct]");
    if (!button) return;
    start(Number(button.dataset.correct));
    button.closest("li").scrollIntoView({ block: "nearest" });
  });

  el.hits.addEventListener("click", (event) => {
    const button = event.target.closest("[data-right]");
    const { correcting, selected } = store.getState();
    if (!button || correcting === null || selected === null) return;
    client.correct(selected, correcting, Number(button.dataset.right)).then((proposal) => {
      stop();
      const text = proposal
        ? format(t.correct_done_proposed, { text: proposal.text })
        : t.correct_done;
      store.dispatch({ type: "notice", text });
    }, report);
  });

  el.correctingCancel.addEventListener("click", stop);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || store.getState().correcting === null) return;
    event.preventDefault(); // Escape in the search field would clear it too
    stop();
  });

  watch(
    store,
    (s) => [s.correcting, s.conversation],
    ([correcting, conversation]) => {
      el.correcting.hidden = correcting === null;
      for (const node of el.messages.children) {
        node.classList.toggle("is-correcting", Number(node.dataset.id) === correcting);
      }
      const answer = conversation?.messages.find((message) => message.id === correcting);
      el.correctingText.textContent = answer
        ? format(t.correct_prompt, { answer: excerpt(answer.content) })
        : "";
    },
  );

  watch(
    store,
    (s) => s.composerEntry,
    (entry) => {
      el.entryHint.hidden = !entry;
      el.entryHint.textContent = entry ? format(t.entry_linked, { question: entry.question }) : "";
    },
  );

  let noticeTimer = null;
  watch(
    store,
    (s) => s.notice,
    (notice) => {
      el.notice.hidden = !notice;
      el.notice.textContent = notice || "";
      clearTimeout(noticeTimer);
      if (notice)
        noticeTimer = setTimeout(() => store.dispatch({ type: "notice-clear" }), NOTICE_MS);
    },
  );
}
