// One small store (state, dispatch, subscribe) and an event bus, shared by the chat page
// and the staff desk. State changes only through the page's reducer; what is not state
// (a sound to play, a notification, a request to the server) travels on the bus.

export function createBus() {
  const handlers = new Map();
  return {
    on(name, handler) {
      if (!handlers.has(name)) handlers.set(name, new Set());
      handlers.get(name).add(handler);
      return () => handlers.get(name).delete(handler);
    },
    emit(name, detail) {
      for (const handler of [...(handlers.get(name) ?? [])]) handler(detail);
    },
  };
}

export function createStore(reducer, initialState) {
  let state = initialState;
  const listeners = new Set();
  return {
    getState: () => state,
    dispatch(action) {
      const previous = state;
      state = reducer(state, action);
      if (state !== previous) {
        for (const listener of [...listeners]) listener(state, previous, action);
      }
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const same = (a, b) =>
  a === b ||
  (Array.isArray(a) &&
    Array.isArray(b) &&
    a.length === b.length &&
    a.every((item, index) => item === b[index]));

// Calls `render(selected, previous)` now and whenever `select(state)` changes: by
// identity, or item by item when it returns an array of slices.
export function watch(store, select, render) {
  let last = select(store.getState());
  render(last, undefined);
  return store.subscribe((state) => {
    const next = select(state);
    if (same(next, last)) return;
    const previous = last;
    last = next;
    render(next, previous);
  });
}
