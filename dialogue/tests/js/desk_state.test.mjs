import assert from "node:assert/strict";
import { test } from "node:test";

import {
  correctedAnswers,
  createInitialState,
  inView,
  isNewWaiting,
  permitted,
  reducer,
  transferTargets,
} from "../../static/dialogue/desk/state.js";

const me = { id: 1, name: "小王" };
const other = { id: 2, name: "小李", initial: "小" };
const item = (id, extra = {}) => ({
  id,
  status: "handed_off",
  assignee: null,
  handed_off_at: `2026-12-08T07:0${id}:00+00:00`,
  last_activity_at: `2026-12-08T07:0${id}:00+00:00`,
  message_count: 2,
  last_message: null,
  work_order: { id: 9, number: "WO-1", status: "open" },
  ...extra,
});
const welcomed = (queue = []) =>
  reducer(createInitialState({ me, acts: true }), {
    type: "welcome",
    me,
    acts: true,
    queue,
    staff: [],
  });

test("which view a conversation belongs in", () => {
  assert.equal(inView(item(1), "open", 1), true);
  assert.equal(inView(item(1, { assignee: me }), "open", 1), false);
  assert.equal(inView(item(1, { assignee: me }), "mine", 1), true);
  assert.equal(inView(item(1, { assignee: other }), "mine", 1), false);
  assert.equal(inView(item(1, { status: "active" }), "all", 1), true);
  assert.equal(inView(item(1, { status: "ended" }), "all", 1), false);
});

test("a new hand-off joins the waiting queue, oldest first, and is new only once", () => {
  let state = welcomed([item(3)]);
  const fresh = item(2);
  assert.equal(isNewWaiting(state, fresh), true);
  state = reducer(state, { type: "session", item: fresh });
  assert.deepEqual(
    state.queue.map((entry) => entry.id),
    [2, 3],
  );
  assert.deepEqual(state.waiting, [3, 2]);
  assert.equal(isNewWaiting(state, fresh), false, "the same event again is no news");
  // claimed by someone: it leaves the waiting view
  state = reducer(state, { type: "session", item: item(2, { assignee: other }) });
  assert.deepEqual(
    state.queue.map((entry) => entry.id),
    [3],
  );
  assert.deepEqual(state.waiting, [3]);
});

test("switching views keeps only the answer for the view shown", () => {
  let state = reducer(welcomed([item(1)]), { type: "view", view: "mine" });
  assert.deepEqual(state.queue, []);
  state = reducer(state, { type: "queue", view: "open", items: [item(4)] }); // a late answer
  assert.deepEqual(state.queue, []);
  state = reducer(state, { type: "queue", view: "mine", items: [item(5, { assignee: me })] });
  assert.deepEqual(
    state.queue.map((entry) => entry.id),
    [5],
  );
});

test("messages of the open conversation are kept once", () => {
  let state = reducer(welcomed([item(1)]), { type: "select", id: 1 });
  state = reducer(state, {
    type: "conversation",
    session: item(1),
    messages: [{ id: 10, session: 1, role: "user", content: "退款" }],
    work_order: { id: 9, number: "WO-1", status: "open" },
    history: [],
  });
  const note = {
    id: 11,
    session: 1,
    role: "note",
    content: "内部",
    created_at: "2026-12-08T08:00:00+00:00",
  };
  state = reducer(state, { type: "message", message: note });
  state = reducer(state, { type: "message", message: note });
  assert.deepEqual(
    state.conversation.messages.map((m) => m.id),
    [10, 11],
  );
  assert.equal(state.queue[0].last_message, null, "the queue line waits for its activity");
  // a reopened conversation (after a reconnect) merges with what the desk has
  state = reducer(state, {
    type: "conversation",
    session: item(1),
    messages: [
      { id: 11, session: 1, role: "note", content: "内部" },
      { id: 12, session: 1, role: "user", content: "在吗" },
    ],
    work_order: null,
    history: [],
  });
  assert.deepEqual(
    state.conversation.messages.map((m) => m.id),
    [10, 11, 12],
  );
  // another conversation's answer arriving late is not shown
  const late = reducer(state, {
    type: "conversation",
    session: item(7),
    messages: [],
    work_order: null,
    history: [],
  });
  assert.equal(late, state);
});

test("what an agent, a viewer and an administrator may do", () => {
  const open = (extra, init = { me, acts: true }) =>
    reducer(reducer({ ...createInitialState(init), me }, { type: "select", id: 1 }), {
      type: "conversation",
      session: item(1, extra),
      messages: [],
      work_order: null,
      history: [],
    });
  assert.deepEqual(permitted(open({})), {
    claim: true,
    transfer: true,
    release: true,
    end: true,
    reply: true,
    note: true,
  });
  const theirs = permitted(open({ assignee: other }));
  assert.equal(theirs.claim || theirs.reply || theirs.transfer || theirs.release, false);
  assert.equal(theirs.note, true);
  const admin = permitted(open({ assignee: other }, { me, acts: true, admin: true }));
  assert.equal(admin.reply && admin.transfer && admin.release, true);
  const viewer = permitted(open({}, { me, acts: false }));
  assert.equal(Object.values(viewer).some(Boolean), false);
  const ended = permitted(open({ status: "ended" }));
  assert.equal(ended.reply || ended.end || ended.claim, false);
  const assistants = permitted(open({ status: "active" }));
  assert.equal(assistants.claim && assistants.reply, true, "the assistant's is taken over");
});

test("transfer goes to the others at their desks; typing expires", () => {
  let state = reducer(welcomed(), {
    type: "staff",
    staff: [
      { id: 1, name: "小王", presence: "online" },
      { id: 2, name: "小李", presence: "away" },
    ],
  });
  assert.deepEqual(
    transferTargets(state).map((person) => person.id),
    [2],
  );
  state = reducer(state, { type: "typing", session: 1, until: 6000 });
  assert.deepEqual(reducer(state, { type: "typing-expired", now: 5999 }).customerTyping, {
    1: 6000,
  });
  assert.deepEqual(reducer(state, { type: "typing-expired", now: 6000 }).customerTyping, {});
});

test("a typing timer that expires nothing keeps the state (no re-render)", () => {
  let state = reducer(welcomed(), { type: "typing", session: 1, until: 6000 });
  state = reducer(state, { type: "typing", session: 2, until: 9000 });
  assert.equal(reducer(state, { type: "typing-expired", now: 5999 }), state);
  const expired = reducer(state, { type: "typing-expired", now: 6000 });
  assert.notEqual(expired, state);
  assert.deepEqual(expired.customerTyping, { 2: 9000 });
  assert.equal(reducer(expired, { type: "typing-expired", now: 6000 }), expired);
  const idle = welcomed();
  assert.equal(reducer(idle, { type: "typing-expired", now: 6000 }), idle);
});

test("the entry a reply is built on and the answer being corrected stay with their conversation", () => {
  const entry = { id: 5, question: "退款多久到账？" };
  let state = reducer(welcomed([item(1), item(2)]), { type: "select", id: 1 });
  state = reducer(state, { type: "composer-entry", entry });
  state = reducer(state, { type: "correct-start", message: 11 });
  assert.deepEqual(state.composerEntry, entry);
  assert.equal(state.correcting, 11);
  assert.equal(reducer(state, { type: "select", id: 1 }), state, "the same conversation");
  const elsewhere = reducer(state, { type: "select", id: 2 });
  assert.equal(elsewhere.composerEntry, null);
  assert.equal(elsewhere.correcting, null);
  state = reducer(state, { type: "correct-stop" });
  assert.equal(state.correcting, null);
  assert.equal(reducer(state, { type: "correct-stop" }), state);
  assert.equal(reducer(state, { type: "composer-entry", entry: null }).composerEntry, null);
});

test("an answer is shown as corrected once a note replies to it", () => {
  const conversation = {
    session: item(1),
    messages: [
      { id: 1, role: "user", reply_to: null },
      { id: 2, role: "assistant", reply_to: 1 },
      { id: 3, role: "note", reply_to: 2 },
      { id: 4, role: "note", reply_to: null },
      { id: 5, role: "agent", reply_to: 1 },
    ],
  };
  assert.deepEqual([...correctedAnswers(conversation)], [2]);
  assert.equal(correctedAnswers(null).size, 0);
});

test("a confirmation shows until it is cleared", () => {
  const state = reducer(welcomed(), { type: "notice", text: "已标记为答错。" });
  assert.equal(state.notice, "已标记为答错。");
  const cleared = reducer(state, { type: "notice-clear" });
  assert.equal(cleared.notice, null);
  assert.equal(reducer(cleared, { type: "notice-clear" }), cleared);
});

test("activity lines count each new message once and move the line to its last message", () => {
  const preview = (id, minute, content) => ({
    id,
    role: "user",
    content,
    created_at: `2026-12-08T08:${minute}:00+00:00`,
  });
  const first = item(1, { last_message: preview(10, "00", "你好") });
  let state = reducer(welcomed([first, item(2)]), { type: "view", view: "all" });
  state = reducer(state, { type: "queue", view: "all", items: [first, item(2)] });
  state = reducer(state, {
    type: "activity",
    lines: [
      { session: 1, messages: [9, 10, 11, 12], last_message: preview(12, "30", "还在吗") },
      { session: 7, messages: [70], last_message: preview(70, "31", "not in this queue") },
    ],
  });
  const line = state.queue.find((entry) => entry.id === 1);
  assert.equal(line.message_count, 4, "9 and 10 were already counted");
  assert.equal(line.last_message.content, "还在吗");
  assert.equal(line.last_activity_at, "2026-12-08T08:30:00+00:00");
  assert.deepEqual(
    state.queue.map((entry) => entry.id),
    [1, 2],
    "the all view shows the latest activity first",
  );
  const again = reducer(state, {
    type: "activity",
    lines: [{ session: 1, messages: [11, 12], last_message: preview(12, "30", "还在吗") }],
  });
  assert.equal(again, state, "a line the desk already shows changes nothing");
});
