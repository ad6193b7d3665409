// The dashboard's state and its reducer: the numbers last loaded and when, and whether the
// last refresh failed (the numbers shown stay until a refresh succeeds).

export function createInitialState(payload, at) {
  return { payload, updatedAt: at, failed: false };
}

export function reducer(state, action) {
  switch (action.type) {
    case "loaded":
      return { payload: action.payload, updatedAt: action.at, failed: false };
    case "failed":
      return state.failed ? state : { ...state, failed: true };
    default:
      return state;
  }
}
