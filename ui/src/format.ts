// Small pure helpers, unit-tested (format.test.ts).
import type { Status } from "./api";

export function statusLine(s: Status): string {
  switch (s.state) {
    case "no_model":
      return "No model chosen";
    case "loading":
      return `Loading ${s.model}… ${Math.round(s.progress * 100)}%`;
    case "ready":
      return s.active + s.queued > 0 ? `${s.model} · busy (${s.active + s.queued})` : `${s.model} · ready`;
    case "paused":
      return `${s.model} · paused`;
    case "error":
      return `Model failed: ${s.message}`;
  }
}

export function statsLine(tokens: number, tokensPerS: number, ttftMs: number, finish: string): string {
  const parts = [`${tokens} tokens`, `${tokensPerS.toFixed(1)} tok/s`, `first token ${Math.round(ttftMs)} ms`];
  if (finish === "length") parts.push("cut off at the length limit");
  if (finish === "cancelled") parts.push("stopped");
  return parts.join(" · ");
}

export function relativeTime(ms: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/// Questions asked in the popup, newest last; ↑/↓ walk through them like a shell.
export class Recall {
  private items: string[];
  private index: number;
  constructor(items: string[] = [], private readonly limit = 50) {
    this.items = items.slice(-limit);
    this.index = this.items.length;
  }
  push(q: string) {
    const t = q.trim();
    if (!t) return;
    this.items = this.items.filter((i) => i !== t);
    this.items.push(t);
    if (this.items.length > this.limit) this.items.shift();
    this.index = this.items.length;
  }
  up(): string | null {
    if (this.items.length === 0) return null;
    this.index = Math.max(0, this.index - 1);
    return this.items[this.index];
  }
  down(): string {
    this.index = Math.min(this.items.length, this.index + 1);
    return this.items[this.index] ?? "";
  }
  all(): string[] {
    return [...this.items];
  }
}

/// Shortcut text from a key event, in the global-hotkey crate's syntax ("Ctrl+Alt+Space").
export function shortcutFromEvent(e: { ctrlKey: boolean; altKey: boolean; shiftKey: boolean; metaKey: boolean; code: string }): string | null {
  const mods: string[] = [];
  if (e.ctrlKey) mods.push("Ctrl");
  if (e.altKey) mods.push("Alt");
  if (e.shiftKey) mods.push("Shift");
  if (e.metaKey) mods.push("Super");
  if (/^(Control|Alt|Shift|Meta|OS)(Left|Right)?$/.test(e.code)) return null;
  if (mods.length === 0) return null;
  const key = e.code.replace(/^Key/, "").replace(/^Digit/, "");
  return [...mods, key].join("+");
}
