import assert from "node:assert/strict";
import { test } from "node:test";

import { createSocketTransport, sendRefusal } from "../../static/dialogue/chat/socket.js";
import { initialState, reducer } from "../../static/dialogue/chat/state.js";
import { createStore } from "../../static/dialogue/live/store.js";
import { fakeSockets, fakeTimers } from "./fakes.mjs";

globalThis.location = { protocol: "http:", host: "test" };

function setup({ onUnavailable } = {}) {
  const timers = fakeTimers();
  const sockets = fakeSockets();
  const store = createStore(reducer, initialState);
  let tokens = 0;
  let token = null;
  const api = {
    async getToken() {
      token = token || `token-${++tokens}`;
      return token;
    },
    forgetToken() {
      token = null;
    },
  };
  const transport = createSocketTransport({
    store,
    api,
    config: { urls: { socket: "/ws/chat/" } },
    strings: { forbidden: "no", offline_action: "offline" },
    WebSocketImpl: sockets.FakeSocket,
    timers,
    onUnavailable,
  });
  return { timers, sockets, store, transport };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("hello carries the token (not the URL) and, after a drop, the session and last message", async () => {
  const { timers, sockets, store, transport } = setup();
  transport.start();
  assert.equal(sockets.last().url, "ws://test/ws/chat/");
  sockets.last().accept();
  await tick();
  assert.deepEqual(sockets.last().sent[0], {
    type: "hello",
    protocol: 1,
    token: "token-1",
    session: null,
    after: null,
    ref: "hello",
  });
  const session = { id: 7, status: "active", agents_online: 1 };
  sockets.last().receive({
    type: "welcome",
    session,
    messages: [{ id: 30, role: "user", content: "hi" }],
    agents_online: 1,
  });
  assert.equal(store.getState().connection, "online");

  sockets.last().drop();
  assert.equal(store.getState().connection, "waiting");
  timers.advance(2000);
  sockets.last().accept();
  await tick();
  assert.deepEqual(sockets.last().sent[0], {
    type: "hello",
    protocol: 1,
    token: "token-1",
    session: 7,
    after: 30,
    ref: "hello",
  });
});

test("messages written while offline are sent after welcome, with their ids, once", async () => {
  const { timers, sockets, store, transport } = setup();
  transport.start();
  sockets.last().accept();
  await tick();
  sockets.last().receive({ type: "welcome", session: null, messages: [], agents_online: 0 });
  sockets.last().drop();
  transport.send("第一条");
  transport.send("第二条");
  assert.equal(store.getState().outbox.length, 2);
  const [first, second] = store.getState().outbox.map((item) => item.clientId);

  timers.advance(2000);
  const socket = sockets.last();
  socket.accept();
  await tick();
  socket.receive({ type: "welcome", session: null, messages: [], agents_online: 0 });
  const sends = socket.sent.filter((frame) => frame.type === "send");
  assert.deepEqual(sends, [
    { type: "send", content: "第一条", client_message_id: first, ref: first },
    { type: "send", content: "第二条", client_message_id: second, ref: second },
  ]);
  socket.receive({
    type: "message",
    message: { id: 40, role: "user", content: "第一条", client_message_id: first },
    client_message_id: first,
    ref: first,
  });
  // the second one the server already has (sent twice): it is not shown as pending again
  socket.receive({
    type: "error",
    code: "duplicate",
    message: "",
    fields: { original_message: 41 },
    ref: second,
  });
  assert.deepEqual(store.getState().outbox, []);
  assert.deepEqual(
    store.getState().messages.map((m) => m.id),
    [40],
  );
});

test("acts wait for their ack; a refusal rejects with the server's reason", async () => {
  const { sockets, store, transport } = setup();
  await assert.rejects(transport.handoff(), /offline/, "not before welcome");
  transport.start();
  sockets.last().accept();
  await tick();
  sockets.last().receive({
    type: "welcome",
    session: { id: 1, status: "active" },
    messages: [{ id: 5, role: "assistant", content: "a" }],
    agents_online: 1,
  });
  const thumbs = transport.feedback(5, "up");
  const frame = sockets.last().sent.at(-1);
  assert.deepEqual(
    { ...frame, ref: undefined },
    { type: "feedback", message: 5, thumbs: "up", ref: undefined },
  );
  sockets.last().receive({ type: "ack", ref: frame.ref });
  await thumbs;
  assert.equal(store.getState().messages[0].thumbs_up, true);

  const ending = transport.end();
  sockets.last().receive({
    type: "error",
    code: "session_ended",
    message: "已结束",
    ref: sockets.last().sent.at(-1).ref,
  });
  await assert.rejects(ending, (error) => error.code === "session_ended");
});

test("the agent's typing expires on its own", async () => {
  const { timers, sockets, store, transport } = setup();
  transport.start();
  sockets.last().accept();
  await tick();
  sockets.last().receive({
    type: "welcome",
    session: { id: 1, status: "handed_off" },
    messages: [],
    agents_online: 1,
  });
  sockets.last().receive({ type: "typing", person: { id: 2, name: "小王", initial: "小" } });
  assert.equal(store.getState().typing.person.name, "小王");
  timers.advance(5999);
  assert.equal(store.getState().typing.person.name, "小王");
  timers.advance(1);
  assert.equal(store.getState().typing, null);
});

test("a bad token is forgotten and the next hello brings a new one", async () => {
  const { timers, sockets, transport } = setup();
  transport.start();
  sockets.last().accept();
  await tick();
  sockets.last().drop(4401);
  timers.advance(2000);
  sockets.last().accept();
  await tick();
  assert.equal(sockets.last().sent[0].token, "token-2");
});

test("what a refused send means for the message", () => {
  assert.deepEqual(sendRefusal({ code: "duplicate" }), { kind: "accepted" });
  assert.deepEqual(
    sendRefusal({ code: "throttled", message: "wait", fields: { retry_after: 3 } }),
    {
      kind: "refused",
      error: { code: "throttled", message: "wait", fields: { retry_after: 3 } },
    },
  );
});

test("a socket that never opens, three times in a row, asks for the fallback", () => {
  let asked = 0;
  const { timers, sockets, transport } = setup({ onUnavailable: () => (asked += 1) });
  transport.start();
  for (let attempt = 0; attempt < 3; attempt += 1) {
    sockets.last().drop();
    timers.advance(60000);
  }
  assert.equal(asked, 1);
  sockets.last().accept(); // it opens after all: the count starts over
  sockets.last().drop();
  assert.equal(asked, 1);
});

test("an answer that fails mid-stream leaves no half answer behind", async () => {
  const { sockets, store, transport } = setup();
  transport.start();
  sockets.last().accept();
  await tick();
  sockets.last().receive({ type: "welcome", session: null, messages: [], agents_online: 1 });
  transport.send("你好");
  const clientId = store.getState().outbox[0].clientId;
  const saved = { id: 50, role: "user", content: "你好", client_message_id: clientId };
  sockets
    .last()
    .receive({ type: "message", message: saved, client_message_id: clientId, ref: clientId });
  sockets.last().receive({ type: "answer.delta", reply_to: 50, text: "半截" });
  assert.equal(store.getState().streams[50], "半截");
  sockets
    .last()
    .receive({ type: "error", code: "answer_failed", message: "没能回答", ref: clientId });
  assert.deepEqual(store.getState().streams, {});
  assert.equal(store.getState().awaiting, null);
  assert.equal(store.getState().error.message, "没能回答");
});
