// Keeps the dashboard's numbers fresh. It polls; `trigger()` loads at once (the page does
// when it is shown again) instead of waiting for the timer. Triggers during a load are
// coalesced into one more load after it, so the last change is always shown and loads never
// overlap.

export function createRefresher({ load, onData, onError = () => {}, intervalMs, timers = globalThis }) {
  let timer = null;
  let running = null;
  let again = false;
  let stopped = true;

  async function loadUntilCurrent() {
    do {
      again = false;
      try {
        onData(await load());
      } catch (error) {
        onError(error);
      }
    } while (again);
  }

  async function trigger() {
    if (running) {
      again = true;
      return running;
    }
    running = loadUntilCurrent();
    try {
      await running;
    } finally {
      running = null;
    }
  }

  function schedule() {
    if (stopped) return;
    timer = timers.setTimeout(async () => {
      await trigger();
      schedule();
    }, intervalMs);
  }

  return {
    trigger,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}

// Fetches the dashboard's JSON from `url` with the page's cookies.
export function jsonLoader(url, fetchImpl = globalThis.fetch) {
  return async () => {
    const response = await fetchImpl(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  };
}
