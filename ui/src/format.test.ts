import { describe, expect, it } from "vitest";
import { dueLabel, memoryMeta, Recall, relativeTime, shortcutFromEvent, statsLine, statusLine } from "./format";
import { documentMarkdown, downloadLine, duration, fitLabel, fraction, humanBytes, mailStatusLine } from "./format";
import type { DocumentMetadata } from "./types.gen";

describe("statusLine", () => {
  it("shows loading progress and errors", () => {
    expect(statusLine({ state: "loading", model: "m", progress: 0.42, active: 0, queued: 0, summary: "" })).toBe(
      "Loading m… 42%",
    );
    expect(statusLine({ state: "error", model: "m", message: "bad", active: 0, queued: 0, summary: "" })).toBe(
      "Model failed: bad",
    );
    expect(
      statusLine({ state: "ready", model: "m", path: "/m.gguf", quantization: "Q4", parameters: 1, active: 1, queued: 2, summary: "" }),
    ).toBe("m · busy (3)");
  });
});

describe("statsLine", () => {
  it("mentions a stop or a cut-off", () => {
    expect(statsLine(10, 12.345, 99.6, "stop")).toBe("10 tokens · 12.3 tok/s · first token 100 ms");
    expect(statsLine(3, 1, 1, "cancelled")).toContain("stopped");
  });
});

describe("relativeTime", () => {
  it("buckets", () => {
    expect(relativeTime(0, 30_000)).toBe("just now");
    expect(relativeTime(0, 5 * 60_000)).toBe("5 min ago");
    expect(relativeTime(0, 3 * 86_400_000)).toBe("3 d ago");
  });
});

describe("Recall", () => {
  it("walks back and forth and drops duplicates", () => {
    const r = new Recall();
    r.push("a");
    r.push("b");
    r.push("a");
    expect(r.all()).toEqual(["b", "a"]);
    expect(r.up()).toBe("a");
    expect(r.up()).toBe("b");
    expect(r.up()).toBe("b");
    expect(r.down()).toBe("a");
    expect(r.down()).toBe("");
  });
  it("ignores blanks and keeps a limit", () => {
    const r = new Recall([], 2);
    r.push("  ");
    r.push("1");
    r.push("2");
    r.push("3");
    expect(r.all()).toEqual(["2", "3"]);
  });
});

describe("shortcutFromEvent", () => {
  it("needs a modifier and a key", () => {
    const base = { ctrlKey: false, altKey: false, shiftKey: false, metaKey: false };
    expect(shortcutFromEvent({ ...base, ctrlKey: true, altKey: true, code: "Space" })).toBe("Ctrl+Alt+Space");
    expect(shortcutFromEvent({ ...base, code: "KeyK" })).toBeNull();
    expect(shortcutFromEvent({ ...base, ctrlKey: true, code: "ControlLeft" })).toBeNull();
    expect(shortcutFromEvent({ ...base, shiftKey: true, metaKey: true, code: "KeyK" })).toBe("Shift+Super+K");
  });
});

describe("documentMarkdown", () => {
  const meta: DocumentMetadata = {
    title: "Guide", authors: ["Ann"], dates: [], document_type: "manual", language: "en", people: [],
    organizations: ["Debian"], places: [], key_numbers: [], key_points: ["One", "Two", "Three"],
    file_name: "guide.pdf", format: "pdf", size_bytes: 10, sha256: "x", words: 1200, pages: 12, chunks: 3, model: "m",
  };
  it("puts the title, summary, facts and key points in order", () => {
    const md = documentMarkdown("guide.pdf", " It explains. ", meta);
    expect(md.startsWith("# Guide\n\nIt explains.\n")).toBe(true);
    expect(md).toContain("- **Pages:** 12");
    expect(md).toContain("- **Organizations:** Debian");
    expect(md).not.toContain("People");
    expect(md.trim().endsWith("- Three")).toBe(true);
  });
  it("works without metadata", () => {
    expect(documentMarkdown("a.txt", "Short.", null)).toBe("# a.txt\n\nShort.\n");
  });
  it("bounds progress", () => {
    expect(fraction(3, 12)).toBe(0.25);
    expect(fraction(1, 0)).toBe(0);
    expect(fraction(5, 4)).toBe(1);
  });
});

describe("downloads", () => {
  const base = {
    id: 1,
    file_name: "m.gguf",
    catalog_id: null,
    phase: "downloading" as const,
    total: 98_000_000,
    rate: 12_000_000,
    eta_seconds: 4.4,
    notice: null,
    error: null,
    error_kind: null,
  };
  it("shows percent, bytes, rate and time left", () => {
    expect(downloadLine({ ...base, status: "downloading", downloaded: 44_100_000 })).toBe(
      "45% · 44 MB of 98 MB · 12 MB/s · 4 s left",
    );
  });
  it("says where a paused or queued one stands and why one failed", () => {
    expect(downloadLine({ ...base, status: "paused", downloaded: 10_000_000 })).toBe("Paused at 10 MB of 98 MB");
    expect(downloadLine({ ...base, status: "queued", downloaded: 0 })).toBe("Waiting for other downloads");
    expect(downloadLine({ ...base, status: "failed", downloaded: 0, error: "checksum" })).toBe("checksum");
  });
  it("formats sizes, durations and fit badges", () => {
    expect(humanBytes(2_100_000_000)).toBe("2.1 GB");
    expect(humanBytes(512)).toBe("512 B");
    expect(duration(3725)).toBe("1 h 2 min");
    expect(duration(75)).toBe("1 min 15 s");
    expect(fitLabel("too_big")).toBe("Too big");
  });
});

describe("mailStatusLine", () => {
  const idle = { running: false, done: 0, total: 0, last_finished: null, last_new: 0, last_error: null, next_run: null };
  it("shows progress while a run goes", () => {
    expect(mailStatusLine({ ...idle, running: true })).toBe("Checking mail…");
    expect(mailStatusLine({ ...idle, running: true, done: 3, total: 12 })).toBe("Triaging mail: 3 of 12");
  });
  it("says when mail was checked, what came and when the next check is", () => {
    const now = 10_000_000;
    expect(mailStatusLine({ ...idle, last_finished: now - 120_000, last_new: 4, next_run: now + 13 * 60_000 }, now)).toBe(
      "Checked 2 min ago · 4 new · next check in 13 min",
    );
    expect(mailStatusLine({ ...idle, last_finished: now, next_run: now + 10_000 }, now)).toBe(
      "Checked just now · nothing new · next check in under a minute",
    );
    expect(mailStatusLine({ ...idle, last_finished: now, last_error: "work: wrong password" }, now)).toBe(
      "Last check failed: work: wrong password",
    );
    expect(mailStatusLine(idle)).toBe("");
  });
});

describe("dueLabel", () => {
  it("reads a date, with its time when it has one", () => {
    expect(dueLabel("2026-11-23", "en-GB")).toBe("Mon 23 Nov");
    expect(dueLabel("2026-11-23T15:00:00Z", "en-GB")).toMatch(/^Mon 23 Nov(,| at)? \d{2}:00$/);
  });
  it("keeps what is no date as written", () => {
    expect(dueLabel("next week")).toBe("next week");
  });
});

describe("memoryMeta", () => {
  const now = Date.UTC(2026, 11, 7, 12);
  it("says status, source, age and uses", () => {
    expect(memoryMeta({ status: "kept", source_message_id: 4, created_at: now - 30_000, uses: 2 }, now)).toBe(
      "kept · from a chat · just now · used 2 times",
    );
    expect(memoryMeta({ status: "proposed", source_message_id: null, created_at: now, uses: 0 }, now)).toBe(
      "proposed — keep it? · no source chat · just now · not used yet",
    );
  });
});
