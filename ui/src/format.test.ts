import { describe, expect, it } from "vitest";
import { Recall, relativeTime, shortcutFromEvent, statsLine, statusLine } from "./format";
import { documentMarkdown, fraction } from "./format";

describe("statusLine", () => {
  it("shows loading progress and errors", () => {
    expect(statusLine({ state: "loading", model: "m", progress: 0.42, active: 0, queued: 0, summary: "" })).toBe(
      "Loading m… 42%",
    );
    expect(statusLine({ state: "error", model: "m", message: "bad", active: 0, queued: 0, summary: "" })).toBe(
      "Model failed: bad",
    );
    expect(
      statusLine({ state: "ready", model: "m", quantization: "Q4", parameters: 1, active: 1, queued: 2, summary: "" }),
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
  const meta = {
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
