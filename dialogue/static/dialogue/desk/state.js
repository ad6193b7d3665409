// The staff desk's state and its reducer: the queue of the chosen view, the conversation
// the agent has open (messages kept by id, once each), who is at their desk, and what
// the knowledge search found, and what the agent teaches the assistant: the entry a reply
// is built on, the wrong answer whose right entry the agent is looking for.

import { mergeMessages } from "../live/protocol.js";

export const VIEWS = ["open", "mine", "all"];

export function createInitialState({ me = null, acts = false, admin = false } = {}) {
  return {
    connection: "connecting",
    wasOnline: false,
    me,
    acts,
    admin, // a tenant administrator also acts on conversations other agents have
    staff: [],
    presence: "online",
    view: "open",
    queue: [],
    waiting: [], // ids of the conversations nobody has claimed (the "open" view)
    selected: null,
    conversation: null, // {session, messages, work_order, history}
    customerTyping: {}, // session id -> until (ms)
    search: { q: "", hits: null, busy: false },
    composerEntry: null, // {id, question}: the entry whose answer the agent inserted
    correcting: null, // the id of the answer the agent is picking the right entry for
    notice: null, // a short confirmation
    busy: null, // the action on its way to the server
    error: null,
  };
}

const isWaiting = (item) => item.status === "handed_off" && !item.assignee;

// Does a queue item belong in `view`, for the agent `meId`?
export function inView(item, view, meId) {
  if (view === "open") return isWaiting(item);
  if (view === "mine") return item.status === "handed_off" && item.assignee?.id === meId;
  return item.status !== "ended";
}

function sorted(items, view) {
  const key = view === "open" ? "handed_off_at" : "last_activity_at";
  const direction = view === "open" ? 1 : -1;
  return [...items].sort(
    (a, b) => direction * String(a[key] || "").localeCompare(String(b[key] || "")),
  );
}

function upsert(items, item) {
  const found = items.findIndex((entry) => entry.id === item.id);
  if (found === -1) return [...items, item];
  const next = [...items];
  next[found] = item;
  return next;
}

function withWaiting(waiting, item) {
  const has = waiting.includes(item.id);
  if (isWaiting(item)) return has ? waiting : [...waiting, item.id];
  return has ? waiting.filter((id) => id !== item.id) : waiting;
}

function sessionChanged(state, item) {
  const keep = inView(item, state.view, state.me?.id);
  const listed = state.queue.some((entry) => entry.id === item.id);
  let queue = state.queue;
  if (keep) queue = sorted(upsert(queue, item), state.view);
  else if (listed) queue = queue.filter((entry) => entry.id !== item.id);
  let conversation = state.conversation;
  if (conversation && conversation.session.id === item.id) {
    conversation = { ...conversation, session: item };
    if (conversation.work_order && item.work_order) {
      conversation.work_order = { ...conversation.work_order, status: item.work_order.status };
    }
  }
  return { ...state, queue, conversation, waiting: withWaiting(state.waiting, item) };
}

// A message of the conversation the desk has open (its queue line changes with the next
// activity frame).
function messageArrived(state, message) {
  let { conversation, customerTyping } = state;
  if (conversation && conversation.session.id === message.session) {
    conversation = { ...conversation, messages: mergeMessages(conversation.messages, [message]) };
  }
  if (message.role === "user" && customerTyping[message.session]) {
    customerTyping = { ...customerTyping };
    delete customerTyping[message.session];
  }
  return { ...state, conversation, customerTyping };
}

// A conversation's queue line after an activity line: the messages it had since the last
// one the line shows, each counted once (by id, as lines of other processes may overlap a
// session frame's snapshot).
function lineChanged(item, line) {
  const shown = item.last_message?.id ?? 0;
  const added = line.messages.filter((id) => id > shown).length;
  if (added === 0) return item;
  return {
    ...item,
    message_count: item.message_count + added,
    last_activity_at: line.last_message.created_at,
    last_message: line.last_message,
  };
}

function activityArrived(state, lines) {
  const byId = new Map(lines.map((line) => [line.session, line]));
  let changed = false;
  const queue = state.queue.map((item) => {
    const line = byId.get(item.id);
    const next = line ? lineChanged(item, line) : item;
    changed ||= next !== item;
    return next;
  });
  return changed ? { ...state, queue: sorted(queue, state.view) } : state;
}

export function reducer(state, action) {
  switch (action.type) {
    case "connection":
      return { ...state, connection: action.status };
    case "welcome":
      return {
        ...state,
        connection: "online",
        wasOnline: true,
        me: action.me,
        acts: action.acts,
        staff: action.staff,
        queue: state.view === "open" ? sorted(action.queue, "open") : state.queue,
        waiting: action.queue.filter(isWaiting).map((item) => item.id),
      };
    case "view":
      return { ...state, view: action.view, queue: state.view === action.view ? state.queue : [] };
    case "queue":
      if (action.view !== state.view) return state;
      return {
        ...state,
        queue: sorted(action.items, action.view),
        waiting: action.view === "open" ? action.items.map((item) => item.id) : state.waiting,
      };
    case "session":
      return sessionChanged(state, action.item);
    case "message":
      return messageArrived(state, action.message);
    case "activity":
      return activityArrived(state, action.lines);
    case "select":
      if (action.id === state.selected) return state;
      return {
        ...state,
        selected: action.id,
        conversation: state.conversation?.session.id === action.id ? state.conversation : null,
        composerEntry: null,
        correcting: null,
      };
    case "conversation":
      if (action.session.id !== state.selected) return state;
      return {
        ...state,
        conversation: {
          session: action.session,
          messages: mergeMessages(
            state.conversation?.session.id === action.session.id ? state.conversation.messages : [],
            action.messages,
          ),
          work_order: action.work_order,
          history: action.history,
        },
      };
    case "typing":
      return {
        ...state,
        customerTyping: { ...state.customerTyping, [action.session]: action.until },
      };
    case "typing-expired": {
      const typing = Object.entries(state.customerTyping);
      const current = typing.filter(([, until]) => until > action.now);
      if (current.length === typing.length) return state;
      return { ...state, customerTyping: Object.fromEntries(current) };
    }
    case "staff":
      return { ...state, staff: action.staff };
    case "presence":
      return { ...state, presence: action.presence };
    case "search":
      return { ...state, search: { q: action.q, hits: state.search.hits, busy: true } };
    case "search-results":
      return { ...state, search: { ...state.search, hits: action.hits, busy: false } };
    case "composer-entry":
      return { ...state, composerEntry: action.entry };
    case "correct-start":
      return { ...state, correcting: action.message };
    case "correct-stop":
      return state.correcting === null ? state : { ...state, correcting: null };
    case "notice":
      return { ...state, notice: action.text };
    case "notice-clear":
      return state.notice ? { ...state, notice: null } : state;
    case "busy":
      return { ...state, busy: action.act };
    case "error":
      return {
        ...state,
        error: action.error,
        busy: null,
        search: { ...state.search, busy: false },
      };
    case "error-clear":
      return state.error ? { ...state, error: null } : state;
    default:
      return state;
  }
}

// --- what the desk may do with the open conversation ----------------------------------------

export function permitted(state) {
  const session = state.conversation?.session;
  const none = {
    claim: false,
    transfer: false,
    release: false,
    end: false,
    reply: false,
    note: false,
  };
  if (!session || !state.acts) return none;
  const open = session.status !== "ended";
  const mine = session.assignee?.id === state.me?.id;
  const mayTake = !session.assignee || mine || state.admin;
  return {
    claim: open && !session.assignee, // one the assistant has is taken over
    transfer: open && mayTake,
    release: session.status === "handed_off" && mayTake,
    end: open,
    reply: open && mayTake,
    note: true,
  };
}

export function transferTargets(state) {
  const meId = state.me?.id;
  return state.staff.filter((person) => person.id !== meId);
}

export function isNewWaiting(state, item) {
  return isWaiting(item) && !state.waiting.includes(item.id);
}

// The answers of the open conversation already marked wrong (a correction's note replies to
// the answer).
export function correctedAnswers(conversation) {
  const notes = (conversation?.messages || []).filter((m) => m.role === "note" && m.reply_to);
  return new Set(notes.map((note) => note.reply_to));
}
