// Small pure helpers, unit-tested (format.test.ts).
import type { DocumentMetadata, DownloadUpdate, Fit, MailStatus, StatusView } from "./api";

export function statusLine(s: StatusView): string {
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

/** A fact's line under its text: kept or proposed, where from, when, how often used. */
export function memoryMeta(
  m: { status: string; source_message_id: number | null; created_at: number; uses: number },
  now: number = Date.now(),
): string {
  const parts = [m.status === "kept" ? "kept" : "proposed — keep it?"];
  parts.push(m.source_message_id != null ? "from a chat" : "no source chat");
  parts.push(relativeTime(m.created_at, now));
  parts.push(m.uses === 0 ? "not used yet" : `used ${m.uses} time${m.uses === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

export function relativeTime(ms: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/// A due date as a person reads it ("Mon 23 Nov, 15:00"); what does not parse as a date
/// (the model's "next week") is shown as it was written.
export function dueLabel(due: string, locale?: string): string {
  const withTime = /\d{2}:\d{2}/.test(due);
  const t = Date.parse(due);
  if (Number.isNaN(t)) return due;
  const opts: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short" };
  if (withTime) Object.assign(opts, { hour: "2-digit", minute: "2-digit", hour12: false });
  else opts.timeZone = "UTC";
  return new Intl.DateTimeFormat(locale, opts).format(new Date(t));
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

/** A document's summary and metadata as Markdown, for Copy. */
export function documentMarkdown(name: string, summary: string, m: DocumentMetadata | null): string {
  const lines = [`# ${m?.title || name}`, "", summary.trim(), ""];
  if (m) {
    const row = (label: string, value: string | string[]) => {
      const v = Array.isArray(value) ? value.join(", ") : value;
      if (v) lines.push(`- **${label}:** ${v}`);
    };
    row("File", m.file_name);
    row("Type", m.document_type);
    row("Authors", m.authors);
    row("Dates", m.dates);
    row("Language", m.language);
    row("Pages", m.pages == null ? "" : String(m.pages));
    row("Words", String(m.words));
    row("People", m.people);
    row("Organizations", m.organizations);
    row("Places", m.places);
    row("Key numbers", m.key_numbers);
    if (m.key_points.length) {
      lines.push("", "## Key points", "", ...m.key_points.map((p) => `- ${p}`));
    }
  }
  return lines.join("\n").trim() + "\n";
}

/** "3/12 parts" style progress, as a fraction for a progress bar. */
export function fraction(done: number, total: number): number {
  return total <= 0 ? 0 : Math.min(1, Math.max(0, done / total));
}

/** "98 MB", "2.1 GB": decimal units, as disks and download pages use. */
export function humanBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${n} B`;
}

/** The badge a model gets for this machine. */
export function fitLabel(fit: Fit): string {
  return fit === "gpu" ? "Fits on GPU" : fit === "ram" ? "Fits in RAM" : "Too big";
}

/** One line under a download's progress bar. */
export function downloadLine(u: DownloadUpdate): string {
  const of = u.total ? ` of ${humanBytes(u.total)}` : "";
  switch (u.status) {
    case "queued":
      return u.downloaded > 0 ? `Waiting to resume at ${humanBytes(u.downloaded)}${of}` : "Waiting for other downloads";
    case "paused":
      return `Paused at ${humanBytes(u.downloaded)}${of}`;
    case "failed":
      return u.error ?? "Failed";
    case "done":
      return "Downloaded and verified";
    case "downloading":
      break;
  }
  if (u.phase === "checking") return `Checking the ${humanBytes(u.downloaded)} already downloaded…`;
  if (u.phase === "verifying") return "Verifying checksum…";
  const pct = u.total ? `${Math.floor((u.downloaded / u.total) * 100)}% · ` : "";
  const rate = u.rate > 0 ? ` · ${humanBytes(u.rate)}/s` : "";
  const eta = u.eta_seconds != null && u.rate > 0 ? ` · ${duration(u.eta_seconds)} left` : "";
  return `${pct}${humanBytes(u.downloaded)}${of}${rate}${eta}`;
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/// The Inbox header's line about background triage.
export function mailStatusLine(s: MailStatus, now: number = Date.now()): string {
  if (s.running) return s.total === 0 ? "Checking mail…" : `Triaging mail: ${s.done} of ${s.total}`;
  const parts: string[] = [];
  if (s.last_error) parts.push(`Last check failed: ${s.last_error}`);
  else if (s.last_finished != null)
    parts.push(`Checked ${relativeTime(s.last_finished, now)}${s.last_new ? ` · ${s.last_new} new` : " · nothing new"}`);
  if (s.next_run != null) {
    const minutes = Math.max(0, Math.round((s.next_run - now) / 60000));
    parts.push(minutes < 1 ? "next check in under a minute" : `next check in ${minutes} min`);
  }
  return parts.join(" · ");
}
