import assert from "node:assert/strict";
import { test } from "node:test";

import { createDeskClient } from "../../static/dialogue/desk/client.js";
import { createInitialState, reducer } from "../../static/dialogue/desk/state.js";
import { createBus, createStore } from "../../static/dialogue/live/store.js";
import { fakeSockets, fakeTimers } from "./fakes.mjs";

globalThis.location = { protocol: "https:", host: "help.example.com" };

function setup() {
  const timers = fakeTimers();
  const sockets = fakeSockets();
  const me = { id: 1, name: "小王" };
  const store = createStore(reducer, createInitialState({ me, acts: true }));
  const bus = createBus();
  const client = createDeskClient({
    store,
    bus,
    config: { socket: "/ws/desk/", heartbeatSeconds: 20 },
    strings: { offline: "offline" },
    WebSocketImpl: sockets.FakeSocket,
    timers,
  });
  return { timers, sockets, store, bus, client, me };
}

const waiting = (id) => ({
  id,
  status: "handed_off",
  assignee: null,
  handed_off_at: "2026-12-08T07:00:00Z",
  last_activity_at: "2026-12-08T07:00:00Z",
  message_count: 1,
});

test("hello, then a heartbeat of presence every 20 s", () => {
  const { timers, sockets, me, client } = setup();
  client.start();
  const socket = sockets.last();
  assert.equal(socket.url, "wss://help.example.com/ws/desk/");
  socket.accept();
  assert.deepEqual(socket.sent, [{ type: "hello", protocol: 1, ref: "hello" }]);
  socket.receive({ type: "welcome", me, acts: true, queue: [], staff: [] });
  timers.advance(40000);
  assert.deepEqual(
    socket.sent.slice(1).filter((frame) => frame.type !== "ping"),
    [
      { type: "presence", presence: "online" },
      { type: "presence", presence: "online" },
    ],
  );
});

test("a new hand-off is announced once on the bus", () => {
  const { sockets, bus, me, client } = setup();
  const announced = [];
  bus.on("new-waiting", (item) => announced.push(item.id));
  client.start();
  sockets.last().accept();
  sockets.last().receive({ type: "welcome", me, acts: true, queue: [waiting(1)], staff: [] });
  sockets.last().receive({ type: "session", session: waiting(1) }); // already known
  sockets.last().receive({ type: "session", session: waiting(2) });
  sockets.last().receive({ type: "session", session: waiting(2) }); // the same event twice
  assert.deepEqual(announced, [2]);
});

test("an activity frame updates the queue line it names", () => {
  const { sockets, store, me, client } = setup();
  client.start();
  sockets.last().accept();
  sockets.last().receive({ type: "welcome", me, acts: true, queue: [waiting(1)], staff: [] });
  const last = { id: 5, role: "user", content: "在吗", created_at: "2026-12-08T07:05:00Z" };
  sockets.last().receive({
    type: "activity",
    lines: [{ session: 1, messages: [5], last_message: last }],
  });
  const [line] = store.getState().queue;
  assert.equal(line.message_count, 2);
  assert.deepEqual(line.last_message, last);
});

test("after a reconnect the desk asks again for its view and its open conversation", async () => {
  const { timers, sockets, store, me, client } = setup();
  client.start();
  sockets.last().accept();
  sockets.last().receive({ type: "welcome", me, acts: true, queue: [], staff: [] });
  store.dispatch({ type: "view", view: "mine" });
  store.dispatch({ type: "select", id: 7 });
  sockets.last().drop();
  assert.equal(store.getState().connection, "waiting");
  timers.advance(2000);
  const socket = sockets.last();
  socket.accept();
  socket.receive({ type: "welcome", me, acts: true, queue: [], staff: [] });
  const asked = socket.sent.slice(1).map(({ type, view, session }) => ({ type, view, session }));
  assert.deepEqual(asked, [
    { type: "queue", view: "mine", session: undefined },
    { type: "open", view: undefined, session: 7 },
  ]);
  socket.receive({
    type: "conversation",
    session: { id: 7, status: "handed_off", assignee: me },
    messages: [],
    work_order: null,
    history: [],
    ref: socket.sent[2].ref,
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.getState().conversation.session.id, 7);
});

test("an act shows as busy until its answer; a refusal names the owner", async () => {
  const { sockets, store, me, client } = setup();
  client.start();
  sockets.last().accept();
  sockets.last().receive({ type: "welcome", me, acts: true, queue: [], staff: [] });
  const claim = client.claim(3);
  assert.equal(store.getState().busy, "claim");
  const sent = sockets.last().sent.at(-1);
  assert.equal(sent.type, "claim");
  assert.equal(sent.session, 3);
  sockets
    .last()
    .receive({
      type: "error",
      code: "conflict",
      message: "小李 is handling this conversation.",
      ref: sent.ref,
    });
  await assert.rejects(
    claim,
    (error) => error.code === "conflict" && error.message.startsWith("小李"),
  );
  assert.equal(store.getState().busy, null);
  await assert.rejects(setup().client.reply(1, "hi"), (error) => error.code === "offline");
});

test("a reply names the entry it is built on; a correction answers with its proposal", async () => {
  const { sockets, store, me, client } = setup();
  client.start();
  const socket = sockets.last();
  socket.accept();
  socket.receive({ type: "welcome", me, acts: true, queue: [], staff: [] });
  const without = ({ ref, ...fields }) => fields;

  const plain = client.reply(3, "您好");
  assert.deepEqual(without(socket.sent.at(-1)), { type: "reply", session: 3, content: "您好" });
  socket.receive({ type: "ack", ref: socket.sent.at(-1).ref });
  await plain;
  const built = client.reply(3, "1-3 个工作日到账。", 12);
  assert.deepEqual(without(socket.sent.at(-1)), {
    type: "reply",
    session: 3,
    content: "1-3 个工作日到账。",
    entry: 12,
  });
  socket.receive({ type: "ack", ref: socket.sent.at(-1).ref });
  await built;

  const correction = client.correct(3, 40, 12);
  assert.equal(store.getState().busy, "correct");
  assert.deepEqual(without(socket.sent.at(-1)), {
    type: "correct",
    session: 3,
    message: 40,
    entry: 12,
  });
  const proposal = { id: 7, text: "钱什么时候能退回来" };
  socket.receive({ type: "ack", proposal, ref: socket.sent.at(-1).ref });
  assert.deepEqual(await correction, proposal);
  assert.equal(store.getState().busy, null);

  const again = client.correct(3, 40, 12);
  socket.receive({ type: "ack", proposal: null, ref: socket.sent.at(-1).ref });
  assert.equal(await again, null);
  const refused = client.correct(3, 39, 12);
  socket.receive({
    type: "error",
    code: "not_an_answer",
    message: "Only the assistant's answers in this conversation can be corrected.",
    ref: socket.sent.at(-1).ref,
  });
  await assert.rejects(refused, (error) => error.code === "not_an_answer");
});
