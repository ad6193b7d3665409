// A WebSocket that stays up: it reconnects after a drop with exponential back-off and
// jitter (so a thousand pages that lost one server do not all come back at once), pings
// through proxies, and treats a connection that has gone silent as dropped.

import { decodeFrame, encodeFrame, ProtocolError } from "./protocol.js";

const OPEN = 1;
const SILENT = 4000; // our own code for a connection that stopped answering pings

// Milliseconds to wait before attempt number `attempt` (0 is the first retry): a random
// point in the upper half of an exponentially growing window, capped at `maxMs`.
export function backoffDelay(attempt, { baseMs = 1000, maxMs = 30000, random = Math.random } = {}) {
  const window = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(window / 2 + random() * (window / 2));
}

export function socketUrl(path, location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export function createConnection({
  url,
  WebSocketImpl = globalThis.WebSocket,
  timers = globalThis,
  now = () => Date.now(),
  onOpen = () => {},
  onFrame = () => {},
  onStatus = () => {},
  shouldRetry = () => true,
  pingMs = 25000,
  silenceMs = 70000,
  backoff = {},
}) {
  let socket = null;
  let stopped = true;
  let attempts = 0;
  let failuresToOpen = 0;
  let retryTimer = null;
  let pingTimer = null;
  let heardAt = 0;

  function detach(target) {
    target.onopen = target.onmessage = target.onclose = target.onerror = null;
  }

  function clearTimers() {
    timers.clearTimeout(retryTimer);
    timers.clearInterval(pingTimer);
    retryTimer = pingTimer = null;
  }

  function open() {
    clearTimers();
    onStatus("connecting", { attempt: attempts });
    const current = new WebSocketImpl(url);
    let opened = false;
    socket = current;
    current.onopen = () => {
      opened = true;
      failuresToOpen = 0;
      heardAt = now();
      pingTimer = timers.setInterval(ping, pingMs);
      onStatus("open", {});
      onOpen();
    };
    current.onmessage = (event) => {
      heardAt = now();
      let frame;
      try {
        frame = decodeFrame(event.data);
      } catch (error) {
        if (error instanceof ProtocolError) return;
        throw error;
      }
      if (frame.type !== "pong") onFrame(frame);
    };
    current.onclose = (event) => {
      if (!opened) failuresToOpen += 1;
      closed(current, event.code);
    };
  }

  function closed(target, code) {
    detach(target);
    if (socket !== target) return;
    socket = null;
    clearTimers();
    if (stopped) return;
    if (!shouldRetry(code)) {
      stopped = true;
      onStatus("failed", { code });
      return;
    }
    const delay = backoffDelay(attempts, backoff);
    attempts += 1;
    retryTimer = timers.setTimeout(open, delay);
    onStatus("waiting", { code, delay, attempt: attempts, failuresToOpen });
  }

  function drop(code) {
    const target = socket;
    if (!target) return;
    try {
      target.close();
    } catch {
      // A socket that is still connecting may refuse; it is dropped all the same.
    }
    closed(target, code);
  }

  function ping() {
    if (now() - heardAt > silenceMs) {
      drop(SILENT);
      return;
    }
    send("ping");
  }

  function send(type, fields = {}, ref = undefined) {
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(encodeFrame(type, fields, ref));
    return true;
  }

  return {
    send,
    start() {
      if (!stopped) return;
      stopped = false;
      open();
    },
    stop() {
      stopped = true;
      clearTimers();
      if (socket) {
        const target = socket;
        socket = null;
        detach(target);
        target.close();
      }
      onStatus("stopped", {});
    },
    // The server accepted the page (its `welcome`): later drops start the back-off over.
    ready() {
      attempts = 0;
    },
    // Drop this connection and try again after the back-off (its hello could not be said).
    reconnectLater() {
      drop(SILENT);
    },
    // Reconnect at once: the browser is back online, or the page wants a fresh start.
    reconnectNow() {
      if (stopped) return;
      attempts = 0;
      if (socket) {
        const target = socket;
        socket = null;
        detach(target);
        target.close();
      }
      open();
    },
    get open() {
      return Boolean(socket && socket.readyState === OPEN);
    },
  };
}
