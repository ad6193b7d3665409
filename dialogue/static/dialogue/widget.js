/*
 * The embed script for a tenant's own site (README, "The chat on your own site"):
 *
 *   <script src="https://<helpdesk host>/static/dialogue/widget.js" data-key="<widget key>" async></script>
 *
 * It adds a launcher button to the page that opens the tenant's chat page
 * (/chat/<widget key>/) in an iframe. The chat itself runs in the frame, on the helpdesk's
 * origin; this script only shows and hides it. It sets styles through element.style and
 * adds no <style> element, so a site's Content Security Policy only has to allow the
 * script and the frame. Options: data-position="left" puts the button on the left,
 * data-color="#2456d6" changes its colour. The launcher's words come from the helpdesk
 * in the visitor's language (/chat/<widget key>/launcher/).
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const key = script && script.dataset.key;
  if (!key || window.__helpdeskWidget) return;
  window.__helpdeskWidget = true;

  const origin = new URL(script.src, document.baseURI).origin;
  const base = `${origin}/chat/${encodeURIComponent(key)}/`;
  const side = script.dataset.position === "left" ? "left" : "right";
  const color = /^#[0-9a-f]{3,8}$/i.test(script.dataset.color || "")
    ? script.dataset.color
    : "#2456d6";
  const SVG = "http://www.w3.org/2000/svg";

  function style(node, rules) {
    Object.assign(node.style, rules);
    return node;
  }

  function icon(path) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "26");
    svg.setAttribute("height", "26");
    svg.setAttribute("aria-hidden", "true");
    const shape = document.createElementNS(SVG, "path");
    shape.setAttribute("d", path);
    shape.setAttribute("fill", "currentColor");
    svg.append(shape);
    return svg;
  }

  const CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const CLOSE =
    "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z";

  const button = style(document.createElement("button"), {
    position: "fixed",
    bottom: "20px",
    [side]: "20px",
    zIndex: "2147483000",
    width: "56px",
    height: "56px",
    border: "0",
    borderRadius: "50%",
    background: color,
    color: "#fff",
    boxShadow: "0 6px 20px rgba(0, 0, 0, 0.25)",
    cursor: "pointer",
    display: "grid",
    placeItems: "center",
    padding: "0",
  });
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.dataset.helpdeskLauncher = "";
  button.append(icon(CHAT));

  // A dot on the launcher: the team wrote while the chat was closed.
  const unread = style(document.createElement("span"), {
    position: "absolute",
    top: "4px",
    right: "4px",
    width: "12px",
    height: "12px",
    borderRadius: "50%",
    background: "#d93025",
    border: "2px solid #fff",
    display: "none",
  });
  unread.dataset.helpdeskUnread = "";

  const panel = style(document.createElement("div"), {
    position: "fixed",
    bottom: "88px",
    [side]: "20px",
    zIndex: "2147483000",
    width: "min(400px, calc(100vw - 40px))",
    height: "min(640px, calc(100vh - 110px))",
    borderRadius: "16px",
    overflow: "hidden",
    boxShadow: "0 12px 40px rgba(0, 0, 0, 0.25)",
    background: "#fff",
    display: "none",
  });
  panel.dataset.helpdeskPanel = "";

  let labels = { open: "", close: "", title: "" };
  let frame = null;

  function applyLabels() {
    const open = panel.style.display !== "none";
    const label = open ? labels.close : labels.open;
    if (label) {
      button.setAttribute("aria-label", label);
      button.title = label;
    }
    if (frame && labels.title) frame.title = labels.title;
  }

  function fitSmallScreens() {
    const small = window.innerWidth < 480;
    style(panel, {
      width: small ? "100vw" : "min(400px, calc(100vw - 40px))",
      height: small ? "calc(100vh - 84px)" : "min(640px, calc(100vh - 110px))",
      bottom: small ? "84px" : "88px",
      [side]: small ? "0" : "20px",
      borderRadius: small ? "0" : "16px",
    });
  }

  function toggle(open) {
    if (open && !frame) {
      frame = style(document.createElement("iframe"), {
        width: "100%",
        height: "100%",
        border: "0",
      });
      frame.src = base;
      frame.allow = "clipboard-write";
      panel.append(frame);
    }
    panel.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    button.replaceChildren(icon(open ? CLOSE : CHAT), unread);
    if (open) unread.style.display = "none";
    applyLabels();
    if (open) fitSmallScreens();
  }

  button.addEventListener("click", () => toggle(panel.style.display === "none"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && panel.style.display !== "none") {
      toggle(false);
      button.focus();
    }
  });
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || !event.data) return;
    if (event.data.type === "helpdesk-widget:close") {
      toggle(false);
      button.focus();
    } else if (event.data.type === "helpdesk-widget:message" && panel.style.display === "none") {
      unread.style.display = "block";
    }
  });
  window.addEventListener("resize", () => {
    if (panel.style.display !== "none") fitSmallScreens();
  });

  fetch(`${base}launcher/`, { credentials: "omit" })
    .then((response) => (response.ok ? response.json() : null))
    .then((found) => {
      if (found) {
        labels = found;
        applyLabels();
      }
    })
    .catch(() => {});

  function attach() {
    document.body.append(panel, button);
  }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);
})();
