// Server-Sent Events read from a fetch() response as they arrive: the chat's fallback
// when WebSockets are not available. The parser follows the HTML standard's event-stream
// rules: lines end with CR LF, LF or CR; `event`, `data` (joined with newlines) and `id`
// fields; comments; an event is dispatched at a blank line, and a last event that the
// stream never finished is dropped.

export function createSseParser(onEvent) {
  let buffer = "";
  let name = "";
  let data = [];
  let lastId = "";

  function dispatch() {
    if (data.length) onEvent({ event: name || "message", data: data.join("\n"), id: lastId });
    name = "";
    data = [];
  }

  function line(text) {
    if (text === "") {
      dispatch();
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) lastId = value;
  }

  return {
    feed(chunk) {
      buffer += chunk;
      let start = 0;
      for (let index = 0; index < buffer.length; index += 1) {
        const char = buffer[index];
        if (char !== "\n" && char !== "\r") continue;
        // A CR at the end of a chunk may be the first half of CR LF: wait for the next.
        if (char === "\r" && index === buffer.length - 1) break;
        line(buffer.slice(start, index));
        if (char === "\r" && buffer[index + 1] === "\n") index += 1;
        start = index + 1;
      }
      buffer = buffer.slice(start);
    },
    end() {
      if (buffer.endsWith("\r")) line(buffer.slice(0, -1));
      buffer = "";
      name = "";
      data = [];
    },
  };
}

// Reads the events of a fetch() response; resolves when the stream ends.
export async function readEvents(response, onEvent) {
  const parser = createSseParser(onEvent);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  parser.feed(decoder.decode());
  parser.end();
}
