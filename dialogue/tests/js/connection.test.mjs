import assert from "node:assert/strict";
import { test } from "node:test";

import {
  backoffDelay,
  createConnection,
  socketUrl,
} from "../../static/dialogue/live/connection.js";
import { fakeSockets, fakeTimers } from "./fakes.mjs";

test("back-off doubles up to a cap, with jitter in the upper half of the window", () => {
  const low = (attempt) => backoffDelay(attempt, { baseMs: 1000, maxMs: 30000, random: () => 0 });
  const high = (attempt) => backoffDelay(attempt, { baseMs: 1000, maxMs: 30000, random: () => 1 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(low), [500, 1000, 2000, 4000, 8000, 15000, 15000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(high), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
  assert.ok(spread.size > 10, "clients that dropped together come back apart");
  for (const delay of spread) assert.ok(delay >= 4000 && delay <= 8000);
});

test("socket URLs follow the page's scheme and host", () => {
  assert.equal(
    socketUrl("/ws/chat/", { protocol: "https:", host: "help.example.com" }),
    "wss://help.example.com/ws/chat/",
  );
  assert.equal(
    socketUrl("/ws/desk/", { protocol: "http:", host: "127.0.0.1:8000" }),
    "ws://127.0.0.1:8000/ws/desk/",
  );
});

function setup(options = {}) {
  const timers = fakeTimers();
  const sockets = fakeSockets();
  const frames = [];
  const statuses = [];
  let opened = 0;
  const connection = createConnection({
    url: "ws://test/ws/chat/",
    WebSocketImpl: sockets.FakeSocket,
    timers,
    now: timers.now,
    onOpen: () => (opened += 1),
    onFrame: (frame) => frames.push(frame),
    onStatus: (status, detail) => statuses.push([status, detail]),
    backoff: { baseMs: 1000, maxMs: 8000, random: () => 1 },
    pingMs: 25000,
    silenceMs: 60000,
    ...options,
  });
  return { timers, sockets, frames, statuses, connection, opened: () => opened };
}

test("it says hello on open, passes frames on and swallows pongs and junk", () => {
  const { sockets, frames, connection, opened } = setup();
  connection.start();
  assert.equal(connection.send("ping"), false, "nothing is sent before the socket opens");
  sockets.last().accept();
  assert.equal(opened(), 1);
  assert.equal(connection.send("typing", {}, 3), true);
  assert.deepEqual(sockets.last().sent, [{ type: "typing", ref: 3 }]);
  sockets.last().receive({ type: "welcome" });
  sockets.last().receive({ type: "pong" });
  sockets.last().receive("not json");
  assert.deepEqual(frames, [{ type: "welcome" }]);
});

test("a dropped connection is retried with growing delays, reset once the server welcomes it", () => {
  const { timers, sockets, statuses, connection } = setup();
  connection.start();
  sockets.last().accept();
  sockets.last().drop();
  const waits = () =>
    statuses.filter(([status]) => status === "waiting").map(([, detail]) => detail.delay);
  assert.deepEqual(waits(), [1000]);
  timers.advance(999);
  assert.equal(sockets.made.length, 1);
  timers.advance(1);
  assert.equal(sockets.made.length, 2, "the second attempt");
  sockets.last().drop(); // never opened
  timers.advance(2000);
  sockets.last().drop();
  assert.deepEqual(waits(), [1000, 2000, 4000]);
  assert.equal(statuses.at(-1)[1].failuresToOpen, 2);
  timers.advance(4000);
  sockets.last().accept();
  connection.ready();
  sockets.last().drop();
  assert.deepEqual(waits(), [1000, 2000, 4000, 1000], "back to the first delay");
});

test("a refused connection is not retried; stop() ends it for good", () => {
  const { timers, sockets, statuses, connection } = setup({ shouldRetry: (code) => code !== 4403 });
  connection.start();
  sockets.last().accept();
  sockets.last().drop(4403);
  assert.deepEqual(statuses.at(-1), ["failed", { code: 4403 }]);
  timers.advance(60000);
  assert.equal(sockets.made.length, 1);

  const other = setup();
  other.connection.start();
  other.sockets.last().accept();
  other.connection.stop();
  assert.equal(other.sockets.last().closed, true);
  other.timers.advance(60000);
  assert.equal(other.sockets.made.length, 1);
});

test("it pings, and a connection that went silent is dropped and retried", () => {
  const { timers, sockets, statuses, connection } = setup();
  connection.start();
  const first = sockets.last();
  first.accept();
  timers.advance(25000);
  assert.deepEqual(first.sent, [{ type: "ping" }]);
  first.receive({ type: "pong" });
  timers.advance(50000); // pings at 50 s and 75 s; 75 s is 50 s after the pong: still fine
  assert.equal(first.closed, false);
  timers.advance(25000); // 100 s: 75 s of silence
  assert.equal(first.closed, true);
  assert.equal(statuses.at(-1)[0], "waiting");
  timers.advance(1000);
  assert.equal(sockets.made.length, 2);
});

test("reconnectNow skips the wait; reconnectLater drops and waits", () => {
  const { timers, sockets, connection } = setup();
  connection.start();
  sockets.last().accept();
  sockets.last().drop();
  connection.reconnectNow();
  assert.equal(sockets.made.length, 2, "at once");
  timers.advance(10000);
  assert.equal(sockets.made.length, 2, "the pending retry was cancelled");
  sockets.last().accept();
  connection.reconnectLater();
  assert.equal(sockets.made.length, 2);
  timers.advance(1000);
  assert.equal(sockets.made.length, 3);
});
