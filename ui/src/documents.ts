// The Documents view: files dropped on the window (or the clipboard) are summarized with
// progress per file and a streamed summary; past documents can be searched and reopened.
import { getCurrentWebview } from "@tauri-apps/api/webview";
import {
  api,
  errorText,
  type DocEvent,
  type DocumentMetadata,
  type DocumentRow,
  type SummarizeTarget,
  type SummaryLength,
} from "./api";
import { documentMarkdown, fraction, relativeTime } from "./format";
import { renderMarkdown } from "./markdown";
import { $ } from "./dom";

/** One summary being made (or just made) in this window. */
interface Job {
  key: number;
  runId: number | null;
  name: string;
  documentId: number | null;
  status: "reading" | "summarizing" | "writing" | "done" | "failed";
  done: number;
  total: number;
  text: string;
  metadata: DocumentMetadata | null;
  error: string | null;
  info: string;
}

interface Hooks {
  show: () => void;
  openConversation: (id: number) => Promise<void>;
  refreshConversations: () => Promise<void>;
  toast: (text: string) => void;
  /** GGUF files dropped on the window go to the model manager. */
  importModels: (paths: string[]) => Promise<void>;
}

const jobs: Job[] = [];
let documents: DocumentRow[] = [];
let selected: { job?: number; document?: number } = {};
let nextKey = 1;
let hooks: Hooks;
let searchTimer = 0;

function length(): SummaryLength {
  return $<HTMLSelectElement>("doc-length").value as SummaryLength;
}

/** Shows one document's summary and metadata (a citation opens it). */
export function selectDocument(id: number) {
  selected = { document: id };
  render();
}

export async function refreshDocuments() {
  const q = $<HTMLInputElement>("doc-search").value.trim();
  documents = await api.documents(q || null);
  renderList();
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** Starts a summary per target; each job shows its own progress and result. */
export async function summarize(targets: { target: SummarizeTarget; name: string }[], redo = false) {
  hooks.show();
  for (const { target, name } of targets) {
    const job: Job = {
      key: nextKey++,
      runId: null,
      name,
      documentId: target.document_id ?? null,
      status: "reading",
      done: 0,
      total: 0,
      text: "",
      metadata: null,
      error: null,
      info: "",
    };
    jobs.unshift(job);
    selected = { job: job.key };
    render();
    try {
      job.runId = await api.summarize(target, length(), redo, (e) => onEvent(job, e));
    } catch (e) {
      job.status = "failed";
      job.error = errorText(e);
      render();
    }
  }
}

function onEvent(job: Job, e: DocEvent) {
  switch (e.type) {
    case "ingested": {
      job.documentId = e.document_id;
      job.name = e.name;
      const pages = e.pages != null ? `${e.pages} pages · ` : "";
      job.info = `${e.format.toUpperCase()} · ${pages}${e.words.toLocaleString()} words · ${e.chunks} part${e.chunks === 1 ? "" : "s"}`;
      job.status = "summarizing";
      break;
    }
    case "mapped":
      job.done = e.done;
      job.total = e.total;
      break;
    case "token":
      job.status = "writing";
      job.text += e.text;
      break;
    case "metadata":
      job.metadata = e.metadata;
      break;
    case "done":
      job.status = "done";
      job.text = e.text;
      job.runId = null;
      if (e.cached) job.info += " · stored summary";
      void refreshDocuments();
      break;
    case "failed":
      job.status = "failed";
      job.error = e.message;
      job.runId = null;
      break;
  }
  render();
}

function statusText(j: Job): string {
  switch (j.status) {
    case "reading":
      return "Reading…";
    case "summarizing":
      return j.total > 1 ? `Summarizing parts ${j.done}/${j.total}` : "Summarizing…";
    case "writing":
      return "Writing the summary…";
    case "done":
      return "Done";
    case "failed":
      return "Failed";
  }
}

function render() {
  renderList();
  void renderDetail();
}

function renderList() {
  const list = $("doc-list");
  list.replaceChildren();
  const shownDocs = new Set<number>();
  for (const j of jobs) {
    if (j.documentId != null) shownDocs.add(j.documentId);
    const b = document.createElement("button");
    b.className = `doc-item job ${j.status}` + (selected.job === j.key ? " active" : "");
    b.dataset.status = j.status;
    b.innerHTML = `<span class="title"></span><span class="meta"></span><progress max="1"></progress>`;
    b.querySelector(".title")!.textContent = j.name;
    b.querySelector(".meta")!.textContent = j.error ?? statusText(j);
    const bar = b.querySelector("progress")!;
    if (j.status === "summarizing" && j.total > 1) bar.value = fraction(j.done, j.total);
    else if (j.status === "reading" || j.status === "summarizing") bar.removeAttribute("value");
    else bar.hidden = true;
    b.onclick = () => {
      selected = { job: j.key };
      render();
    };
    list.append(b);
  }
  for (const d of documents) {
    if (shownDocs.has(d.id)) continue;
    const b = document.createElement("button");
    b.className = "doc-item" + (selected.document === d.id ? " active" : "");
    b.innerHTML = `<span class="title"></span><span class="meta"></span>`;
    b.querySelector(".title")!.textContent = d.title || d.name;
    b.querySelector(".meta")!.textContent = `${d.format.toUpperCase()} · ${d.words.toLocaleString()} words · ${relativeTime(d.updated_at)}`;
    b.onclick = () => {
      selected = { document: d.id };
      render();
    };
    list.append(b);
  }
  if (list.childElementCount === 0) {
    const p = document.createElement("p");
    p.className = "hint empty-list";
    p.textContent = $<HTMLInputElement>("doc-search").value.trim() ? "No document matches." : "No documents yet.";
    list.append(p);
  }
}

function metadataTable(m: DocumentMetadata): HTMLElement {
  const dl = document.createElement("dl");
  dl.className = "metadata";
  const row = (label: string, value: string | string[] | number | null) => {
    const v = Array.isArray(value) ? value.join(", ") : value == null ? "" : String(value);
    if (!v) return;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  };
  row("Title", m.title);
  row("Type", m.document_type);
  row("Authors", m.authors);
  row("Dates", m.dates);
  row("Language", m.language);
  row("Pages", m.pages);
  row("Words", m.words.toLocaleString());
  row("People", m.people);
  row("Organizations", m.organizations);
  row("Places", m.places);
  row("Key numbers", m.key_numbers);
  return dl;
}

async function renderDetail() {
  const box = $("doc-detail");
  const empty = $("doc-empty");
  let name = "";
  let text = "";
  let metadata: DocumentMetadata | null = null;
  let documentId: number | null = null;
  let status = "";
  let job: Job | undefined;
  if (selected.job != null) {
    job = jobs.find((j) => j.key === selected.job);
    if (!job) return;
    ({ name, text, metadata, documentId } = job);
    status = job.error ?? `${statusText(job)}${job.info ? " · " + job.info : ""}`;
  } else if (selected.document != null) {
    const detail = await api.document(selected.document).catch(() => null);
    if (!detail) return;
    const want = length();
    const summary = detail.summaries.find((s) => s.length === want) ?? detail.summaries[detail.summaries.length - 1];
    name = detail.document.name;
    text = summary?.text ?? "";
    metadata = detail.metadata;
    documentId = detail.document.id;
    const pages = detail.document.pages != null ? `${detail.document.pages} pages · ` : "";
    status = `${detail.document.format.toUpperCase()} · ${pages}${detail.document.words.toLocaleString()} words`;
    if (!summary) status += " · not summarized yet";
  } else {
    box.replaceChildren(empty);
    empty.hidden = false;
    return;
  }
  const article = document.createElement("article");
  article.className = "doc-card";
  article.innerHTML = `<header><h2></h2><p class="hint doc-status"></p></header>
    <div class="doc-summary body"></div>
    <h3 class="points-head" hidden>Key points</h3><ul class="points"></ul>
    <div class="doc-meta"></div>
    <div class="row doc-actions"></div>`;
  article.querySelector("h2")!.textContent = metadata?.title || name;
  article.querySelector(".doc-status")!.textContent = status;
  const summary = article.querySelector<HTMLElement>(".doc-summary")!;
  summary.innerHTML = text ? renderMarkdown(text) : "";
  summary.dataset.raw = text;
  if (job?.status === "failed") {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = job.error;
    summary.replaceChildren(p);
  }
  if (metadata) {
    const ul = article.querySelector(".points")!;
    for (const p of metadata.key_points) {
      const li = document.createElement("li");
      li.textContent = p;
      ul.append(li);
    }
    article.querySelector<HTMLElement>(".points-head")!.hidden = metadata.key_points.length === 0;
    article.querySelector(".doc-meta")!.append(metadataTable(metadata));
  }
  const actions = article.querySelector(".doc-actions")!;
  const button = (label: string, cls: string, f: () => void) => {
    const b = document.createElement("button");
    b.className = cls;
    b.textContent = label;
    b.onclick = f;
    actions.append(b);
    return b;
  };
  if (job?.runId != null) {
    const runId = job.runId;
    button("Stop", "danger doc-stop", () => void api.cancelSummary(runId).then(() => {
      if (job) {
        job.status = "failed";
        job.error = "Stopped — parts already summarized are kept";
        job.runId = null;
      }
      render();
    }));
  }
  if (text) {
    button("Copy Markdown", "ghost doc-copy", () =>
      void navigator.clipboard?.writeText(documentMarkdown(name, text, metadata)).then(() => hooks.toast("Copied")),
    );
  }
  if (documentId != null && job?.runId == null) {
    const id = documentId;
    button(text ? "Summarize again" : "Summarize", "ghost doc-redo", () =>
      void summarize([{ target: { document_id: id }, name }], Boolean(text)),
    );
    button("Ask about it", "primary doc-ask", async () => {
      try {
        const conversation = await api.documentChat(id);
        await hooks.refreshConversations();
        await hooks.openConversation(conversation);
      } catch (e) {
        hooks.toast(errorText(e));
      }
    });
    button("Forget", "ghost danger doc-delete", async () => {
      if (!window.confirm(`Forget ${name} and its summaries?`)) return;
      await api.deleteDocument(id);
      selected = {};
      const i = jobs.findIndex((j) => j.documentId === id);
      if (i >= 0) jobs.splice(i, 1);
      await refreshDocuments();
      void renderDetail();
    });
  }
  empty.hidden = true;
  box.replaceChildren(empty, article);
}

/** Wires the view and the window-wide file drop. */
export async function initDocuments(h: Hooks) {
  hooks = h;
  $("doc-clipboard").onclick = () => void summarize([{ target: { clipboard: true }, name: "Clipboard" }]);
  $("doc-length").onchange = () => void renderDetail();
  $<HTMLInputElement>("doc-search").addEventListener("input", () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => void refreshDocuments(), 150);
  });
  const overlay = $("drop-overlay");
  await getCurrentWebview().onDragDropEvent((e) => {
    const p = e.payload;
    if (p.type === "enter" || p.type === "over") overlay.hidden = false;
    else if (p.type === "leave") overlay.hidden = true;
    else if (p.type === "drop") {
      overlay.hidden = true;
      const models = p.paths.filter((path) => path.toLowerCase().endsWith(".gguf"));
      const docs = p.paths.filter((path) => !path.toLowerCase().endsWith(".gguf"));
      if (models.length) void hooks.importModels(models);
      if (docs.length) void summarize(docs.map((path) => ({ target: { path }, name: baseName(path) })));
    }
  });
}
