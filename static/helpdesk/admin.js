// Admin pages: the language switcher submits its form when a language is chosen.
// A file rather than an inline handler, so that the Content-Security-Policy allows it.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-submit-on-change")) {
    select.form.submit();
  }
});
