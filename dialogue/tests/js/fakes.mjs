// Test doubles of the browser's clock and WebSocket for the live modules' unit tests.

export function fakeTimers() {
  let now = 0;
  let next = 1;
  const pending = new Map(); // id -> {at, run, every}
  const timers = {
    setTimeout(run, delay = 0) {
      const id = next++;
      pending.set(id, { at: now + delay, run });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    setInterval(run, every) {
      const id = next++;
      pending.set(id, { at: now + every, run, every });
      return id;
    },
    clearInterval(id) {
      pending.delete(id);
    },
    now: () => now,
    // Runs what falls due within `ms`, in time order.
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...pending.entries()]
          .filter(([, timer]) => timer.at <= until)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, timer] = due;
        now = timer.at;
        if (timer.every) timer.at += timer.every;
        else pending.delete(id);
        timer.run();
      }
      now = until;
    },
    get pending() {
      return pending.size;
    },
  };
  return timers;
}

export function fakeSockets() {
  const made = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closed = false;
      made.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close() {
      this.closed = true;
      this.readyState = 3;
    }
    // What the server and the network do:
    accept() {
      this.readyState = 1;
      this.onopen?.();
    }
    receive(frame) {
      this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose?.({ code });
    }
  }
  return { FakeSocket, made, last: () => made[made.length - 1] };
}
