import assert from "node:assert/strict";
import { test } from "node:test";

import { createStore, watch } from "../../../dialogue/static/dialogue/live/store.js";
import { createInitialState, reducer } from "../../static/reports/state.js";

const at = (seconds) => new Date(Date.UTC(2026, 2, 10, 8, 0, seconds));

test("a load replaces the numbers and their time and clears a failure", () => {
  const first = createInitialState({ n: 1 }, at(0));
  assert.deepEqual(first, { payload: { n: 1 }, updatedAt: at(0), failed: false });
  const failed = reducer(first, { type: "failed" });
  assert.deepEqual(failed, { payload: { n: 1 }, updatedAt: at(0), failed: true });
  const loaded = reducer(failed, { type: "loaded", payload: { n: 2 }, at: at(60) });
  assert.deepEqual(loaded, { payload: { n: 2 }, updatedAt: at(60), failed: false });
});

test("a second failure in a row and unknown actions keep the state", () => {
  const failed = reducer(createInitialState({ n: 1 }, at(0)), { type: "failed" });
  assert.equal(reducer(failed, { type: "failed" }), failed);
  assert.equal(reducer(failed, { type: "unknown" }), failed);
});

test("in the shared store, the numbers and the status re-render only when theirs change", () => {
  const store = createStore(reducer, createInitialState({ n: 1 }, at(0)));
  const numbers = [];
  const statuses = [];
  watch(
    store,
    (state) => state.payload,
    (payload, previous) => numbers.push([previous?.n, payload.n]),
  );
  watch(
    store,
    (state) => [state.updatedAt, state.failed],
    ([updatedAt, failed]) => statuses.push([updatedAt.getUTCSeconds(), failed]),
  );
  store.dispatch({ type: "failed" });
  store.dispatch({ type: "failed" });
  store.dispatch({ type: "loaded", payload: { n: 2 }, at: at(30) });
  assert.deepEqual(numbers, [
    [undefined, 1],
    [1, 2],
  ]);
  assert.deepEqual(statuses, [
    [0, false],
    [0, true],
    [30, false],
  ]);
});
