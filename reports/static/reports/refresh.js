// Keeps the dashboard's numbers fresh. Today it polls; when the staff desk's live
// connection exists, its events can call `trigger()` instead of (or besides) the timer.

export function createRefresher({ load, onData, onError = () => {}, intervalMs, timers = globalThis }) {
  let timer = null;
  let running = false;
  let stopped = true;

  async function trigger() {
    if (running) return;
    running = true;
    try {
      onData(await load());
    } catch (error) {
      onError(error);
    } finally {
      running = false;
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
    get active() {
      return !stopped;
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
