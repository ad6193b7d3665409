import assert from "node:assert/strict";
import { test } from "node:test";

import {
  createRequests,
  customerHello,
  decodeFrame,
  encodeFrame,
  lastMessageId,
  mergeMessages,
  ProtocolError,
  Refusal,
} from "../../static/dialogue/live/protocol.js";
import { fakeTimers } from "./fakes.mjs";

test("frames are JSON objects with a type; undefined fields are left out", () => {
  const text = encodeFrame(
    "send",
    { content: "退款", client_message_id: "c-1", extra: undefined },
    7,
  );
  assert.deepEqual(JSON.parse(text), {
    type: "send",
    content: "退款",
    client_message_id: "c-1",
    ref: 7,
  });
  assert.throws(() => encodeFrame(""), ProtocolError);
  assert.deepEqual(decodeFrame('{"type":"pong","ref":"p"}'), { type: "pong", ref: "p" });
  for (const bad of ["nope", "[1]", "null", '{"kind":"x"}', '{"type":3}']) {
    assert.throws(() => decodeFrame(bad), ProtocolError, bad);
  }
  assert.throws(() => decodeFrame(new ArrayBuffer(2)), ProtocolError);
});

test("a request is settled by the frame that echoes its ref: ack resolves, error rejects", async () => {
  const timers = fakeTimers();
  const requests = createRequests({ timers, timeoutMs: 1000 });
  const first = requests.ref();
  const second = requests.ref();
  assert.notEqual(first, second);
  const acked = requests.wait(first);
  const refused = requests.wait(second);
  assert.equal(requests.settle({ type: "message", message: {} }), false);
  assert.equal(requests.settle({ type: "ack", ref: first }), true);
  assert.equal(
    requests.settle({ type: "error", ref: second, code: "conflict", message: "小王 has it" }),
    true,
  );
  assert.deepEqual(await acked, { type: "ack", ref: first });
  await assert.rejects(refused, (error) => error instanceof Refusal && error.code === "conflict");
  assert.equal(requests.settle({ type: "ack", ref: first }), false, "settled once");
  assert.equal(timers.pending, 0);
});

test("requests time out, and fail together when the connection is lost", async () => {
  const timers = fakeTimers();
  const requests = createRequests({ timers, timeoutMs: 1000 });
  const slow = requests.wait(requests.ref());
  timers.advance(1000);
  await assert.rejects(slow, /timeout/);
  const a = requests.wait(requests.ref());
  const b = requests.wait(requests.ref());
  requests.failAll();
  await assert.rejects(a, /connection_lost/);
  await assert.rejects(b, /connection_lost/);
  assert.equal(requests.size, 0);
});

const msg = (id, extra = {}) => ({ id, role: "user", content: `m${id}`, ...extra });

test("messages are kept by id in id order: a resume that overlaps adds nothing twice", () => {
  const shown = mergeMessages([], [msg(3), msg(1), msg(2)]);
  assert.deepEqual(
    shown.map((m) => m.id),
    [1, 2, 3],
  );
  // welcome after a reconnect: the overlap (2, 3) and what was missed (4, 5)
  const resumed = mergeMessages(shown, [msg(2), msg(3), msg(4), msg(5)]);
  assert.deepEqual(
    resumed.map((m) => m.id),
    [1, 2, 3, 4, 5],
  );
  // the same live event delivered again changes nothing (the very same array)
  assert.equal(mergeMessages(resumed, [msg(5)]), resumed);
  assert.equal(mergeMessages(resumed, []), resumed);
  assert.equal(mergeMessages(resumed, [null, { id: "x" }]), resumed);
});

test("a changed copy of a message replaces the old one in place", () => {
  const shown = mergeMessages([], [msg(1), msg(2, { role: "assistant", thumbs_up: null })]);
  const rated = mergeMessages(shown, [msg(2, { role: "assistant", thumbs_up: true })]);
  assert.notEqual(rated, shown);
  assert.equal(rated.length, 2);
  assert.equal(rated[1].thumbs_up, true);
});

test("hello resumes from the last message the page has", () => {
  assert.equal(lastMessageId([]), null);
  assert.equal(lastMessageId([msg(4), msg(9), msg(7)]), 9);
  assert.deepEqual(customerHello({ token: "t", session: null, messages: [] }), {
    protocol: 1,
    token: "t",
    session: null,
    after: null,
  });
  assert.deepEqual(customerHello({ token: "t", session: { id: 5 }, messages: [msg(8), msg(12)] }), {
    protocol: 1,
    token: "t",
    session: 5,
    after: 12,
  });
});
