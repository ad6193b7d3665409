import assert from "node:assert/strict";
import { test } from "node:test";

import { createBus, createStore, watch } from "../../static/dialogue/live/store.js";

const counter = (state, action) => {
  if (action.type === "add") return { ...state, count: state.count + action.by };
  if (action.type === "label") return { ...state, label: action.label };
  return state;
};

test("dispatch runs the reducer and tells subscribers, only when the state changed", () => {
  const store = createStore(counter, { count: 0, label: "" });
  const seen = [];
  const off = store.subscribe((state, previous, action) =>
    seen.push([previous.count, state.count, action.type]),
  );
  store.dispatch({ type: "add", by: 2 });
  store.dispatch({ type: "unknown" });
  off();
  store.dispatch({ type: "add", by: 1 });
  assert.deepEqual(seen, [[0, 2, "add"]]);
  assert.equal(store.getState().count, 3);
});

test("watch renders a slice at once and again only when it changes", () => {
  const store = createStore(counter, { count: 0, label: "a" });
  const renders = [];
  watch(
    store,
    (state) => state.count,
    (count, before) => renders.push([count, before]),
  );
  store.dispatch({ type: "label", label: "b" });
  store.dispatch({ type: "add", by: 1 });
  assert.deepEqual(renders, [
    [0, undefined],
    [1, 0],
  ]);
});

test("watch compares an array of slices item by item", () => {
  const store = createStore(counter, { count: 0, label: "a" });
  let renders = 0;
  watch(
    store,
    (state) => [state.count, state.label],
    () => (renders += 1),
  );
  store.dispatch({ type: "label", label: "a" }); // a new state, the same slices
  store.dispatch({ type: "label", label: "z" });
  assert.equal(renders, 2);
});

test("the bus calls every handler until it is removed, even one added while emitting", () => {
  const bus = createBus();
  const seen = [];
  const off = bus.on("ping", (detail) => {
    seen.push(detail);
    bus.on("ping", () => seen.push("late"));
  });
  bus.emit("ping", 1);
  off();
  bus.emit("ping", 2);
  bus.emit("nobody-listens");
  assert.deepEqual(seen, [1, "late"]);
});
