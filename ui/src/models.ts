// The Models view: which models fit this machine, downloads with progress (pause, resume,
// cancel; they survive a restart), importing a GGUF, switching the model in use, and the
// tiers (tiers.ts).
import {
  api,
  errorText,
  type DownloadUpdate,
  type ModelListing,
  type ModelsOverview,
} from "./api";
import { downloadLine, fitLabel, fraction, humanBytes } from "./format";
import { $ } from "./dom";
import { initTiers, refreshTiers, renderTiers } from "./tiers";

let overview: ModelsOverview | null = null;
/** Live state of downloads, by id (newer than the overview). */
const downloads = new Map<number, DownloadUpdate>();
let toast: (text: string) => void = () => {};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

function button(label: string, cls: string, onclick: () => Promise<unknown>): HTMLButtonElement {
  const b = el("button", cls, label);
  b.type = "button";
  b.onclick = async () => {
    b.disabled = true;
    try {
      await onclick();
    } catch (e) {
      toast(errorText(e));
    } finally {
      b.disabled = false;
    }
  };
  return b;
}

function downloadFor(m: ModelListing): DownloadUpdate | undefined {
  for (const d of downloads.values()) if (d.catalog_id === m.id && d.status !== "done") return d;
  return undefined;
}

/** Progress bar, line and buttons for one download. */
function downloadBox(d: DownloadUpdate): HTMLElement {
  const box = el("div", `download ${d.status}`);
  box.dataset.download = String(d.id);
  const bar = el("progress", "dl-progress");
  bar.max = 100;
  if (d.total) bar.value = Math.floor(fraction(d.downloaded, d.total) * 100);
  else if (d.status === "downloading") bar.removeAttribute("value");
  const line = el("div", d.status === "failed" ? "dl-line error" : "dl-line", downloadLine(d));
  const actions = el("div", "actions");
  if (d.status === "downloading" || d.status === "queued")
    actions.append(button("Pause", "ghost dl-pause", () => api.pauseDownload(d.id)));
  if (d.status === "paused" || d.status === "failed")
    actions.append(
      button(d.status === "failed" ? "Retry" : "Resume", "ghost dl-resume", () => api.resumeDownload(d.id)),
    );
  actions.append(
    button("Cancel", "ghost danger dl-cancel", async () => {
      await api.removeDownload(d.id);
      downloads.delete(d.id);
      await refreshModels();
    }),
  );
  box.append(bar, line, actions);
  if (d.notice) box.append(el("div", "hint", d.notice));
  return box;
}

function modelRow(m: ModelListing, current: string | null): HTMLElement {
  const row = el("article", "model-row");
  row.dataset.id = m.id;
  const head = el("div", "model-head");
  head.append(el("span", "model-name", m.name));
  const badges = el("span", "badges");
  badges.append(el("span", "badge tier", m.tier));
  if (m.recommended) badges.append(el("span", "badge recommended", "Recommended"));
  if (m.fit) {
    const fit = el("span", `badge fit fit-${m.fit.fit}`, fitLabel(m.fit.fit));
    fit.title = m.fit.reason;
    badges.append(fit);
  }
  head.append(badges);
  const facts = [m.params, m.quantization, humanBytes(m.size_bytes)];
  if (m.fit) facts.push(`needs ~${humanBytes(m.fit.estimate.total)} to run`);
  if (m.license) facts.push(m.license);
  const meta = el("div", "meta", facts.join(" · "));
  row.append(head, meta);
  if (m.best_for) row.append(el("div", "best-for", m.best_for));

  const actions = el("div", "actions");
  const inUse = m.path != null && m.path === current;
  const active = downloadFor(m);
  if (active) {
    row.append(downloadBox(active));
  } else if (inUse) {
    actions.append(el("span", "badge in-use", "In use"));
  } else if (m.path) {
    actions.append(
      button("Use", "primary use", async () => {
        await api.selectModel(m.path!);
        toast(`Switching to ${m.name}…`);
        await refreshModels();
      }),
    );
    if (m.tier !== "imported")
      actions.append(
        button("Delete", "ghost danger delete", async () => {
          if (!window.confirm(`Delete the downloaded file of ${m.name}?`)) return;
          await api.deleteModel(m.id);
          await refreshModels();
        }),
      );
  } else if (m.downloadable) {
    const b = button(`Download ${humanBytes(m.size_bytes)}`, m.recommended ? "primary download" : "ghost download", () =>
      startDownload(m.id, null),
    );
    if (m.fit?.fit === "too_big") b.title = `Probably too big for this machine: ${m.fit.reason}`;
    actions.append(b);
  } else {
    actions.append(el("span", "hint", "No download source"));
  }
  row.append(actions);
  return row;
}

async function startDownload(source: string, sha: string | null) {
  const u = await api.download(source, sha);
  downloads.set(u.id, u);
  render();
}

function hardwareLine(o: ModelsOverview): string {
  const h = o.hardware;
  const parts = [`${humanBytes(h.available_ram)} of ${humanBytes(h.total_ram)} memory free`, `${h.cpu_threads} CPU threads`];
  if (h.gpus.length === 0) parts.push(h.backend === "cpu" ? "no GPU backend in this build" : "no GPU found");
  for (const g of h.gpus) parts.push(`${g.description} (${g.backend}, ${humanBytes(g.memory_free)} free)`);
  return `This machine: ${parts.join(" · ")}. Estimates at ${o.budget.context_size} tokens × ${o.budget.parallel} slots.`;
}

function render() {
  if (!overview) return;
  const o = overview;
  $("hw-summary").textContent = hardwareLine(o);
  const current = o.current;
  const inUse = o.models.find((m) => m.path != null && m.path === current);
  $("model-current").textContent = inUse ? `In use: ${inUse.name}` : current ? `In use: ${current}` : "No model in use";

  // Downloads that are not a catalogue row of their own (URLs).
  const others = $("model-downloads");
  others.replaceChildren();
  for (const d of downloads.values()) {
    if (d.status === "done" || (d.catalog_id && o.models.some((m) => m.id === d.catalog_id))) continue;
    const box = el("div", "url-download");
    box.append(el("div", "model-name", d.file_name), downloadBox(d));
    others.append(box);
  }

  const list = $("model-list");
  list.replaceChildren();
  const groups: [string, ModelListing[]][] = [
    ["On this machine", o.models.filter((m) => m.path != null)],
    ["Workhorse — the best quality a laptop runs well", o.models.filter((m) => m.path == null && m.tier === "workhorse")],
    ["Small — fast everyday work on any laptop", o.models.filter((m) => m.path == null && m.tier === "small")],
    ["Tiny — routine classification, runs anywhere", o.models.filter((m) => m.path == null && m.tier === "tiny")],
  ];
  for (const [title, models] of groups) {
    if (models.length === 0) continue;
    const section = el("section", "model-group");
    section.append(el("h2", "", title));
    for (const m of models) section.append(modelRow(m, current));
    list.append(section);
  }
  if (!o.models.some((m) => m.path != null)) {
    const empty = el("p", "empty-list hint", "No model on this machine yet: download a recommended one below.");
    list.prepend(empty);
  }
  renderTiers(o);
}

export async function refreshModels() {
  overview = await api.models();
  await refreshTiers();
  for (const d of overview.downloads) {
    const live = downloads.get(d.id);
    // Keep live progress for the running one; take the stored state for the rest.
    if (!live || live.status !== "downloading" || d.status !== "downloading") downloads.set(d.id, d);
  }
  for (const id of [...downloads.keys()]) if (!overview.downloads.some((d) => d.id === id)) downloads.delete(id);
  render();
}

/** Adds dropped or picked GGUF files. */
export async function importModels(paths: string[]) {
  for (const path of paths) {
    try {
      const name = await api.importModel(path);
      toast(`Added ${name}`);
    } catch (e) {
      toast(errorText(e));
    }
  }
  await refreshModels();
}

export async function initModels(hooks: { toast: (text: string) => void }) {
  toast = hooks.toast;
  initTiers(hooks);
  const form = $<HTMLFormElement>("model-url-form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const url = $<HTMLInputElement>("model-url").value.trim();
    const sha = $<HTMLInputElement>("model-sha").value.trim();
    if (!url) return;
    startDownload(url, sha || null)
      .then(() => {
        $<HTMLInputElement>("model-url").value = "";
        $<HTMLInputElement>("model-sha").value = "";
      })
      .catch((err) => toast(errorText(err)));
  });
  $("model-import").onclick = async () => {
    try {
      const name = await api.pickModelFile();
      if (name) toast(`Added ${name}`);
      await refreshModels();
    } catch (e) {
      toast(errorText(e));
    }
  };
  await api.on<DownloadUpdate>("download", (u) => {
    const before = downloads.get(u.id);
    downloads.set(u.id, u);
    const box = document.querySelector<HTMLElement>(`[data-download="${u.id}"]`);
    if (u.status === "done" || u.status === "failed" || !before || before.status !== u.status || !box) {
      if (u.status === "done") toast(`${u.file_name} is ready`);
      if (u.status === "failed") toast(`${u.file_name}: ${u.error ?? "failed"}`);
      void refreshModels();
      return;
    }
    box.replaceWith(downloadBox(u));
  });
  // A switch finishing changes "In use"; loading progress alone does not.
  let lastState = "";
  await api.onStatus((s) => {
    if (s.state !== lastState && !$("models-view").hidden) void refreshModels();
    lastState = s.state;
  });
}
