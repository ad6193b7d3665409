// A tiny store with an event bus: state changes are announced as events, so the views,
// the refresher and (later) a desk connection only meet here.

export function createBus() {
  const handlers = new Map();
  return {
    on(event, handler) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event).add(handler);
      return () => handlers.get(event).delete(handler);
    },
    emit(event, detail) {
      for (const handler of handlers.get(event) ?? []) handler(detail);
    },
  };
}

export function createStore(initial = {}) {
  const bus = createBus();
  let state = { ...initial };
  return {
    get: () => state,
    set(patch) {
      const previous = state;
      state = { ...state, ...patch };
      bus.emit("change", { state, previous });
      for (const key of Object.keys(patch)) bus.emit(`change:${key}`, state[key]);
    },
    on: bus.on,
    emit: bus.emit,
  };
}
