// The live protocol's frames (docs/live-protocol.md): encoding and decoding, requests
// matched to their answers by `ref`, and the message log that keeps every message once
// across reconnects (the resume and de-duplication rules).

export const PROTOCOL_VERSION = 1;
export const CLOSE = Object.freeze({
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
  HELLO_TIMEOUT: 4408,
  FLOODING: 4429,
});

export class ProtocolError extends Error {}

// A refusal from the server: an `error` frame answering a request.
export class Refusal extends Error {
  constructor(frame) {
    super(frame.message || frame.code);
    this.code = frame.code;
    this.fields = frame.fields || {};
  }
}

export function encodeFrame(type, fields = {}, ref = undefined) {
  if (typeof type !== "string" || !type) throw new ProtocolError("A frame needs a type.");
  const frame = { type };
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) frame[name] = value;
  }
  if (ref !== undefined) frame.ref = ref;
  return JSON.stringify(frame);
}

export function decodeFrame(text) {
  if (typeof text !== "string") throw new ProtocolError("Only text frames are expected.");
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    throw new ProtocolError("The frame is not JSON.");
  }
  if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
    throw new ProtocolError("A frame is a JSON object.");
  }
  if (typeof frame.type !== "string") throw new ProtocolError("A frame has a type.");
  return frame;
}

// Requests waiting for their answer: the first frame that echoes a request's `ref`
// settles it (an `error` frame rejects it with a Refusal).
export function createRequests({ timeoutMs = 20000, timers = globalThis } = {}) {
  let counter = 0;
  const waiting = new Map();

  function finish(ref) {
    const entry = waiting.get(ref);
    waiting.delete(ref);
    timers.clearTimeout(entry.timer);
    return entry;
  }

  return {
    ref(prefix = "r") {
      counter += 1;
      return `${prefix}${counter}`;
    },
    wait(ref) {
      return new Promise((resolve, reject) => {
        const timer = timers.setTimeout(() => {
          waiting.delete(ref);
          reject(new ProtocolError("timeout"));
        }, timeoutMs);
        waiting.set(ref, { resolve, reject, timer });
      });
    },
    settle(frame) {
      if (frame.ref === undefined || frame.ref === null || !waiting.has(frame.ref)) return false;
      const entry = finish(frame.ref);
      if (frame.type === "error") entry.reject(new Refusal(frame));
      else entry.resolve(frame);
      return true;
    },
    failAll(reason = "connection_lost") {
      for (const ref of [...waiting.keys()]) finish(ref).reject(new ProtocolError(reason));
    },
    get size() {
      return waiting.size;
    },
  };
}

// --- the message log ----------------------------------------------------------------------

const CHANGING = ["content", "thumbs_up", "rating", "error_type", "low_confidence", "sources"];

function unchanged(kept, fresh) {
  return CHANGING.every((name) => JSON.stringify(kept[name]) === JSON.stringify(fresh[name]));
}

// Messages kept by id, in id order. What arrives twice (a resume that overlaps what the
// page has, an event beside `welcome`) is kept once; a changed copy replaces the old one.
// Returns `current` itself when nothing changed.
export function mergeMessages(current, incoming) {
  const fresh = (incoming || []).filter((message) => message && Number.isInteger(message.id));
  if (!fresh.length) return current;
  const byId = new Map(current.map((message) => [message.id, message]));
  let changed = false;
  for (const message of fresh) {
    const kept = byId.get(message.id);
    if (kept && unchanged(kept, message)) continue;
    byId.set(message.id, kept ? { ...kept, ...message } : message);
    changed = true;
  }
  if (!changed) return current;
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

export function lastMessageId(messages) {
  return messages.reduce((last, message) => Math.max(last, message.id), 0) || null;
}

// The fields of a customer's `hello`: the conversation the page shows and the last
// message it has, so the server sends what the page missed.
export function customerHello({ token, session, messages }) {
  return {
    protocol: PROTOCOL_VERSION,
    token,
    session: session ? session.id : null,
    after: session ? lastMessageId(messages) : null,
  };
}
