import assert from "node:assert/strict";
import { test } from "node:test";

import { createRefresher, jsonLoader } from "../../static/reports/refresh.js";

function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout(fn, ms) {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    async fire() {
      const [id, { fn }] = pending.entries().next().value;
      pending.delete(id);
      await fn();
    },
    get size() {
      return pending.size;
    },
  };
}

test("polls on its interval and reschedules after each load", async () => {
  const timers = fakeTimers();
  let n = 0;
  const seen = [];
  const refresher = createRefresher({ load: async () => ++n, onData: (d) => seen.push(d), intervalMs: 60000, timers });
  refresher.start();
  assert.equal(timers.size, 1);
  await timers.fire();
  await timers.fire();
  assert.deepEqual(seen, [1, 2]);
  refresher.stop();
  assert.equal(timers.size, 0);
  assert.equal(refresher.active, false);
});

test("a failed load is reported and polling goes on", async () => {
  const timers = fakeTimers();
  const errors = [];
  const refresher = createRefresher({
    load: async () => { throw new Error("down"); },
    onData: () => assert.fail("no data"),
    onError: (e) => errors.push(e.message),
    intervalMs: 1000,
    timers,
  });
  refresher.start();
  await timers.fire();
  assert.deepEqual(errors, ["down"]);
  assert.equal(timers.size, 1);
});

test("trigger() refreshes at once (a desk event can call it) without overlapping loads", async () => {
  let release;
  let loads = 0;
  const refresher = createRefresher({
    load: () => { loads++; return new Promise((resolve) => { release = resolve; }); },
    onData: () => {},
    intervalMs: 1000,
    timers: fakeTimers(),
  });
  const first = refresher.trigger();
  await refresher.trigger();
  release("done");
  await first;
  assert.equal(loads, 1);
});

test("the loader sends the cookies and refuses error statuses", async () => {
  const calls = [];
  const ok = jsonLoader("/x", async (url, options) => {
    calls.push([url, options.credentials]);
    return { ok: true, json: async () => ({ n: 1 }) };
  });
  assert.deepEqual(await ok(), { n: 1 });
  assert.deepEqual(calls, [["/x", "same-origin"]]);
  const bad = jsonLoader("/x", async () => ({ ok: false, status: 404 }));
  await assert.rejects(bad, /HTTP 404/);
});
