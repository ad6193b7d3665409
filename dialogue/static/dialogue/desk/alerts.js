// Telling the agent that a conversation is waiting: a short sound (made with Web Audio,
// so there is no sound file to ship) and a browser notification when the agent allowed
// them. Browsers start audio only after the person has interacted with the page.

import { format } from "../live/format.js";

export function createAlerts({ strings, labels, onOpen = () => {} }) {
  let audio = null;
  let soundOn = true;

  function unlock() {
    if (audio || !globalThis.AudioContext) return;
    audio = new AudioContext();
  }
  globalThis.addEventListener("pointerdown", unlock, { once: true });
  globalThis.addEventListener("keydown", unlock, { once: true });

  function chime() {
    if (!soundOn || !audio) return;
    const start = audio.currentTime;
    for (const [offset, pitch] of [
      [0, 880],
      [0.16, 1175],
    ]) {
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      tone.frequency.value = pitch;
      volume.gain.setValueAtTime(0.0001, start + offset);
      volume.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
      tone.connect(volume).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.32);
    }
  }

  function notify(item) {
    if (!globalThis.Notification || Notification.permission !== "granted") return;
    const reason = labels.handoffReason[item.handoff_reason] || "";
    const body = [item.last_message?.content, reason].filter(Boolean).join(" · ");
    const notification = new Notification(
      format(strings.notification_title, { customer: item.customer }),
      {
        body,
        tag: `desk-session-${item.id}`,
      },
    );
    notification.onclick = () => {
      globalThis.focus();
      onOpen(item.id);
      notification.close();
    };
  }

  return {
    newWaiting(item) {
      chime();
      notify(item);
    },
    setSound(on) {
      soundOn = on;
      if (on) unlock();
    },
    get soundOn() {
      return soundOn;
    },
    // "default" until the agent answers the browser's question; "unsupported" without it.
    get permission() {
      return globalThis.Notification ? Notification.permission : "unsupported";
    },
    async askPermission() {
      if (!globalThis.Notification) return "unsupported";
      return Notification.requestPermission();
    },
  };
}
