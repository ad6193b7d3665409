import assert from "node:assert/strict";
import { test } from "node:test";

import { createBus, createStore } from "../../static/reports/store.js";

test("the bus calls every handler until it is removed", () => {
  const bus = createBus();
  const seen = [];
  const off = bus.on("ping", (detail) => seen.push(detail));
  bus.emit("ping", 1);
  off();
  bus.emit("ping", 2);
  bus.emit("nobody-listens");
  assert.deepEqual(seen, [1]);
});

test("the store announces changes, in general and per key", () => {
  const store = createStore({ a: 1, b: 2 });
  const changes = [];
  store.on("change", ({ state, previous }) => changes.push([previous.a, state.a]));
  store.on("change:b", (b) => changes.push(["b", b]));
  store.set({ a: 5 });
  store.set({ b: 7 });
  assert.deepEqual(store.get(), { a: 5, b: 7 });
  assert.deepEqual(changes, [[1, 5], [5, 5], ["b", 7]]);
});
