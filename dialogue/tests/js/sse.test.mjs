import assert from "node:assert/strict";
import { test } from "node:test";

import { createSseParser, readEvents } from "../../static/dialogue/live/sse.js";

function parse(chunks) {
  const events = [];
  const parser = createSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return events;
}

test("events as the chat stream sends them", () => {
  const body = 'event: delta\ndata: {"text":"退"}\n\nevent: done\ndata: {"answer":9}\n\n';
  assert.deepEqual(parse([body]), [
    { event: "delta", data: '{"text":"退"}', id: "" },
    { event: "done", data: '{"answer":9}', id: "" },
  ]);
});

test("chunks may split anywhere, CR LF and lone CR end lines too", () => {
  const body = "event: delta\r\ndata: a\r\rdata: b\n\n";
  const whole = parse([body]);
  assert.deepEqual(whole, [
    { event: "delta", data: "a", id: "" },
    { event: "message", data: "b", id: "" },
  ]);
  for (let cut = 1; cut < body.length; cut += 1) {
    assert.deepEqual(parse([body.slice(0, cut), body.slice(cut)]), whole, `cut at ${cut}`);
  }
  assert.deepEqual(parse([...body]), whole, "one character at a time");
});

test("data lines join with newlines; comments, unknown fields and one leading space", () => {
  const body = ": keep-alive\nid: 7\nretry: 10\ndata:first\ndata:  second\nfoo: bar\n\n";
  assert.deepEqual(parse([body]), [{ event: "message", data: "first\n second", id: "7" }]);
});

test("an event without data is not dispatched, nor one the stream never finished", () => {
  assert.deepEqual(parse(["event: ping\n\n", "event: done\ndata: {}"]), []);
});

test("readEvents reads a fetch() body, multi-byte characters split across chunks", async () => {
  const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"退款到账"}\n\n');
  const chunks = [bytes.slice(0, 25), bytes.slice(25, 27), bytes.slice(27)];
  const body = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const events = [];
  await readEvents({ body }, (event) => events.push(event));
  assert.deepEqual(
    events.map((event) => JSON.parse(event.data).text),
    ["退款到账"],
  );
});
