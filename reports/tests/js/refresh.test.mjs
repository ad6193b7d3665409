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
  // Stopped: starting again schedules the next load anew.
  refresher.start();
  assert.equal(timers.size, 1);
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

test("trigger() loads at once (the page shown again) and loads never overlap", async () => {
  const releases = [];
  let loads = 0;
  const seen = [];
  const refresher = createRefresher({
    load: () => { loads++; return new Promise((resolve) => { releases.push(resolve); }); },
    onData: (data) => seen.push(data),
    intervalMs: 1000,
    timers: fakeTimers(),
  });
  const first = refresher.trigger();
  // Two more changes while the first load runs: one more load after it, not two.
  const second = refresher.trigger();
  const third = refresher.trigger();
  assert.equal(loads, 1);
  releases[0]("a");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(loads, 2);
  releases[1]("b");
  await Promise.all([first, second, third]);
  assert.equal(loads, 2);
  assert.deepEqual(seen, ["a", "b"]);
  // Idle again: the next trigger loads at once.
  const fourth = refresher.trigger();
  releases[2]("c");
  await fourth;
  assert.deepEqual(seen, ["a", "b", "c"]);
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
