// Words and times for the live pages: Django-style "%(name)s" placeholders filled in the
// page's strings, and times in the page's language.

export function format(text, values = {}) {
  return String(text).replace(/%\((\w+)\)[sd]/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

export function locale(language) {
  return language && language.startsWith("zh") ? "zh-CN" : language || "en";
}

export function clockTime(iso, language) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString(locale(language), { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(iso, language) {
  return new Date(iso).toLocaleString(locale(language), {
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
}

// "3 min" style ages for the desk's queue, from the page's strings.
export function age(iso, strings, nowMs = Date.now()) {
  const seconds = Math.max(0, Math.round((nowMs - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return strings.just_now;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return format(strings.minutes_ago, { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return format(strings.hours_ago, { count: hours });
  return format(strings.days_ago, { count: Math.floor(hours / 24) });
}

export function randomId(prefix = "") {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
