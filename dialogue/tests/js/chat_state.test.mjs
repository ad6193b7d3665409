import assert from "node:assert/strict";
import { test } from "node:test";

import {
  arrivals,
  handoffNotice,
  initialState,
  reducer,
} from "../../static/dialogue/chat/state.js";

const run = (...actions) => actions.reduce(reducer, initialState);
const user = (id, extra = {}) => ({
  id,
  role: "user",
  content: `q${id}`,
  client_message_id: "",
  ...extra,
});
const answer = (id, replyTo, extra = {}) => ({
  id,
  role: "assistant",
  content: `a${id}`,
  reply_to: replyTo,
  ...extra,
});
const session = (extra = {}) => ({
  id: 1,
  status: "active",
  work_order: null,
  agent: null,
  agents_online: 1,
  ...extra,
});

test("a message is queued, saved, streamed and answered once", () => {
  let state = run({ type: "welcome", session: null, messages: [], agentsOnline: 1 });
  state = reducer(state, { type: "queue", clientId: "c-1", content: "退款", at: 0 });
  state = reducer(state, { type: "sent", clientId: "c-1" });
  assert.equal(state.outbox[0].sent, true);
  state = reducer(state, { type: "session", session: session() });
  state = reducer(state, {
    type: "message",
    message: user(10, { client_message_id: "c-1" }),
    clientMessageId: "c-1",
  });
  assert.deepEqual(state.outbox, []);
  assert.equal(state.awaiting, 10);
  state = reducer(state, { type: "delta", replyTo: 10, text: "退款" });
  state = reducer(state, { type: "delta", replyTo: 10, text: "到账" });
  assert.equal(state.streams[10], "退款到账");
  state = reducer(state, {
    type: "done",
    replyTo: 10,
    message: answer(11, 10),
    session: 1,
    sessionStatus: "active",
    workOrder: null,
  });
  assert.deepEqual(state.streams, {});
  assert.equal(state.awaiting, null);
  assert.deepEqual(
    state.messages.map((m) => m.id),
    [10, 11],
  );
  // the same answer again as a live event (another tab's copy): still once
  state = reducer(state, { type: "message", message: answer(11, 10) });
  assert.deepEqual(
    state.messages.map((m) => m.id),
    [10, 11],
  );
});

test("after a reconnect, welcome fills the gap, drops the half answer and what the outbox already saved", () => {
  let state = run(
    { type: "welcome", session: session(), messages: [user(10), answer(11, 10)], agentsOnline: 1 },
    { type: "queue", clientId: "c-2", content: "还在吗", at: 0 },
    { type: "queue", clientId: "c-3", content: "喂", at: 1 },
    { type: "delta", replyTo: 12, text: "半截" },
    { type: "connection", status: "waiting", retryAt: 5000 },
  );
  assert.equal(state.connection, "waiting");
  state = reducer(state, {
    type: "welcome",
    session: session(),
    // the overlap (11), the message the drop hid (12: c-2 arrived) and its answer
    messages: [answer(11, 10), user(12, { client_message_id: "c-2" }), answer(13, 12)],
    agentsOnline: 1,
  });
  assert.deepEqual(
    state.messages.map((m) => m.id),
    [10, 11, 12, 13],
  );
  assert.deepEqual(
    state.outbox.map((item) => item.clientId),
    ["c-3"],
    "c-3 is still to send",
  );
  assert.deepEqual(state.streams, {});
  assert.equal(state.connection, "online");
  assert.equal(state.awaiting, null);
});

test("a resumed conversation whose last word is the customer's waits for the answer", () => {
  const state = run({ type: "welcome", session: session(), messages: [user(10)], agentsOnline: 0 });
  assert.equal(state.awaiting, 10);
  const answered = reducer(state, { type: "message", message: answer(11, 10) });
  assert.equal(answered.awaiting, null);
  const handedOff = run({
    type: "welcome",
    session: session({ status: "handed_off" }),
    messages: [user(10)],
  });
  assert.equal(handedOff.awaiting, null, "a person answers a handed-off conversation");
});

test("a refused message goes back to the composer with the reason", () => {
  let state = run(
    { type: "welcome", session: session(), messages: [], agentsOnline: 1 },
    { type: "queue", clientId: "c-1", content: "太快了", at: 0 },
  );
  state = reducer(state, {
    type: "refused",
    clientId: "c-1",
    error: { code: "throttled", message: "慢一点" },
  });
  assert.deepEqual(state.outbox, []);
  assert.equal(state.draft, "太快了");
  assert.equal(state.error.code, "throttled");
  state = reducer(state, { type: "queue", clientId: "c-2", content: "x", at: 0 });
  state = reducer(state, {
    type: "refused",
    clientId: "c-2",
    error: { code: "session_ended", message: "" },
  });
  assert.equal(state.session.status, "ended");
});

test("who answers after a hand-off, and the notice when nobody is online", () => {
  const waiting = run({
    type: "welcome",
    session: session({ status: "handed_off", work_order: 42, agents_online: 2 }),
    messages: [],
    agentsOnline: 2,
  });
  assert.deepEqual(handoffNotice(waiting), { kind: "waiting", workOrder: 42 });
  const nobody = reducer(waiting, {
    type: "session",
    session: session({ status: "handed_off", work_order: 42, agents_online: 0 }),
  });
  assert.deepEqual(handoffNotice(nobody), { kind: "nobody_online", workOrder: 42 });
  const numbered = reducer(nobody, {
    type: "session",
    session: session({
      status: "handed_off",
      work_order: 42,
      work_order_number: "WO-1",
      agents_online: 0,
    }),
  });
  assert.deepEqual(handoffNotice(numbered), { kind: "nobody_online", workOrder: "WO-1" });
  const agent = { id: 3, name: "小王", initial: "小" };
  const claimed = reducer(nobody, {
    type: "session",
    session: session({ status: "handed_off", work_order: 42, agent, agents_online: 1 }),
  });
  assert.deepEqual(handoffNotice(claimed), { kind: "agent", agent });
  assert.equal(handoffNotice(reducer(claimed, { type: "session", session: session() })), null);
});

test("the agent's typing shows until it expires or the agent's message arrives", () => {
  const person = { id: 3, name: "小王", initial: "小" };
  let state = run(
    { type: "welcome", session: session({ status: "handed_off" }), messages: [], agentsOnline: 1 },
    { type: "typing", person, until: 6000 },
  );
  assert.equal(reducer(state, { type: "typing-expired", now: 5000 }).typing.person, person);
  assert.equal(reducer(state, { type: "typing-expired", now: 6000 }).typing, null);
  state = reducer(state, {
    type: "message",
    message: { id: 20, role: "agent", content: "您好", author: person },
  });
  assert.equal(state.typing, null);
});

test("thumbs, rating and a new conversation", () => {
  let state = run({
    type: "welcome",
    session: session(),
    messages: [user(1), answer(2, 1)],
    agentsOnline: 1,
  });
  state = reducer(state, { type: "thumbs", id: 2, thumbsUp: true });
  assert.equal(state.messages[1].thumbs_up, true);
  state = reducer(state, { type: "session", session: session({ status: "ended" }) });
  state = reducer(state, { type: "rated", rating: 4 });
  assert.equal(state.session.satisfaction, 4);
  state = reducer(state, { type: "reset" });
  assert.equal(state.session, null);
  assert.deepEqual(state.messages, []);
  assert.equal(state.wasOnline, true);
});

test("what arrived from the team or the assistant, not the history shown at first", () => {
  const first = run({
    type: "welcome",
    session: session(),
    messages: [user(1), answer(2, 1)],
    agentsOnline: 1,
  });
  assert.deepEqual(arrivals(initialState, first), []);
  const agent = { id: 3, role: "agent", content: "您好", author: { name: "小王" } };
  const next = reducer(first, { type: "message", message: agent });
  assert.deepEqual(arrivals(first, next), [agent]);
  assert.deepEqual(arrivals(next, reducer(next, { type: "message", message: agent })), []);
  assert.deepEqual(arrivals(next, reducer(next, { type: "message", message: user(4) })), []);
});
