// The work-order page's AI-suggestion panel: its forms are sent in the background and the
// panel is replaced by the server's new one, so the page (and the form above) stays.

const PANEL = "wo-suggestions";

async function send(form, submitter) {
  const body = new FormData(form);
  if (submitter?.name) body.set(submitter.name, submitter.value);
  const panel = document.getElementById(PANEL);
  panel.setAttribute("aria-busy", "true");
  for (const button of panel.querySelectorAll("button")) button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-Helpdesk-Panel": "1" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    panel.outerHTML = await response.text();
  } catch {
    // Without the background request, post the form the ordinary way.
    if (submitter?.name) {
      const chosen = Object.assign(document.createElement("input"), { type: "hidden", name: submitter.name, value: submitter.value });
      form.append(chosen);
    }
    form.submit();
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.closest(`#${PANEL}`)) return;
  event.preventDefault();
  send(form, event.submitter);
});
