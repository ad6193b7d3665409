// The chat API over HTTP: the visitor's id and token (the socket's credential too), and
// the requests of the Server-Sent Events fallback. Requests send no cookies: the visitor
// token is the page's only credential.

import { randomId } from "../live/format.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || "");
    this.status = status;
    this.code = error.code || "";
    this.fields = error.fields || {};
  }
}

export class NetworkError extends Error {}

export function visitorId(widgetKey, storage = undefined) {
  const key = `helpdesk-widget:${widgetKey}:visitor`;
  try {
    // Reading localStorage itself throws where the browser blocks storage in frames.
    const store = storage ?? globalThis.localStorage;
    let id = store.getItem(key);
    if (!id) {
      id = `v-${randomId()}`;
      store.setItem(key, id);
    }
    return id;
  } catch {
    // Storage is blocked (private mode, some iframes): this visit keeps an id of its own.
    return `v-${randomId()}`;
  }
}

export function createApi(config, { fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
  const visitor = visitorId(config.widgetKey);
  let token = null;
  let expiresAt = 0;

  async function call(url, { method = "GET", body, auth = true, stream = false } = {}) {
    const headers = {
      // A refused stream answers with the JSON envelope; DRF answers 406 without it.
      Accept: stream ? "text/event-stream, application/json" : "application/json",
      "Accept-Language": config.language,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) headers.Authorization = `Visitor ${await getToken()}`;
    let response;
    try {
      response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new NetworkError();
    }
    if (response.status === 401 && auth) token = null;
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    if (stream) return response;
    return response.json().catch(() => {
      throw new NetworkError();
    });
  }

  async function getToken() {
    if (token && Date.now() < expiresAt) return token;
    const { data } = await call(config.urls.visitorToken, {
      method: "POST",
      auth: false,
      body: { widget_key: config.widgetKey, visitor_id: visitor },
    });
    token = data.token;
    expiresAt = Date.now() + Math.max(data.expires_in - 60, 30) * 1000;
    return token;
  }

  const sessionUrl = (id, action = "") =>
    `${config.urls.sessions}${id}/${action ? `${action}/` : ""}`;

  return {
    getToken,
    // Does the API answer? (A fresh token: one small request.)
    async reachable() {
      try {
        token = null;
        await getToken();
        return true;
      } catch {
        return false;
      }
    },
    forgetToken() {
      token = null;
    },
    openSession: () => call(config.urls.sessions, { method: "POST", body: {} }),
    session: (id) => call(sessionUrl(id)),
    history: (id, page = 1, size = 200) =>
      call(`${sessionUrl(id, "messages")}?page=${page}&page_size=${size}`),
    stream: (id, body) => call(sessionUrl(id, "stream"), { method: "POST", body, stream: true }),
    act: (id, action, body) => call(sessionUrl(id, action), { method: "POST", body }),
  };
}
