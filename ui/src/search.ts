// The search box (Ctrl+K): chats, documents, mail and the memory of the user, by words and
// by meaning. Hits show where they are and the matched words; a click opens the source.
import { api } from "./api";
import { openConversation } from "./chat";
import { $ } from "./dom";
import type { FoundHit, SearchKind } from "./types.gen";

const FILTERS: [SearchKind | null, string][] = [
  [null, "All"],
  ["chat", "Chats"],
  ["doc", "Documents"],
  ["mail", "Mail"],
  ["memory", "Memory"],
];

const BADGES: Record<FoundHit["kind"], string> = { message: "chat", chunk: "doc", mail: "mail", memory: "memory" };

let hooks: { openDocument: (id: number) => void; openMail: (id: number) => void; showMemory: () => void };
let kind: SearchKind | null = null;
let searchTimer = 0;
/** Answers can land out of order: only the newest search's are shown. */
let latest = 0;

function open(h: FoundHit) {
  if (h.kind === "chunk") hooks.openDocument(h.parent_id);
  else if (h.kind === "mail") hooks.openMail(h.parent_id);
  else if (h.kind === "memory") hooks.showMemory();
  else void openConversation(h.parent_id);
}

function hitEl(h: FoundHit): HTMLElement {
  const b = document.createElement("button");
  b.className = `conversation hit kind-${h.kind}`;
  b.dataset.id = String(h.parent_id);
  b.dataset.kind = h.kind;
  b.innerHTML = `<span class="title"><span class="badge"></span><span class="place"></span></span><span class="snippet"></span>`;
  b.querySelector(".badge")!.textContent = BADGES[h.kind];
  b.querySelector(".place")!.textContent = h.place;
  b.title = h.by_words && h.by_meaning ? "Found by its words and its meaning" : h.by_words ? "Found by its words" : "Found by its meaning";
  // The store marks matches with [..]; shown as highlights, the text itself stays text.
  const snippet = b.querySelector(".snippet")!;
  for (const [i, part] of h.snippet.split(/\[|\]/).entries()) {
    const span = document.createElement(i % 2 ? "mark" : "span");
    span.textContent = part;
    snippet.append(span);
  }
  b.onclick = () => open(h);
  return b;
}

/** The filter chips, made once (re-made on every search, a chip could vanish under the
 *  click that chose it); a search marks the active one. */
function makeFilters() {
  const chips = $("search-filters");
  chips.replaceChildren();
  for (const [k, label] of FILTERS) {
    const c = document.createElement("button");
    c.type = "button";
    c.className = "ghost chip";
    c.dataset.kind = k ?? "all";
    c.textContent = label;
    c.onclick = () => {
      kind = k;
      void search($<HTMLInputElement>("search").value);
    };
    chips.append(c);
  }
}

function markFilter() {
  for (const c of $("search-filters").querySelectorAll<HTMLElement>(".chip")) {
    c.classList.toggle("active", c.dataset.kind === (kind ?? "all"));
  }
}

async function search(q: string) {
  const results = $("search-results");
  const list = $("conversation-list");
  const chips = $("search-filters");
  if (!q.trim()) {
    results.hidden = true;
    chips.hidden = true;
    list.hidden = false;
    return;
  }
  const mine = ++latest;
  markFilter();
  chips.hidden = false;
  results.hidden = false;
  list.hidden = true;
  results.setAttribute("aria-busy", "true");
  let hits: FoundHit[];
  try {
    hits = await api.search(q, kind);
  } catch (e) {
    if (mine !== latest) return;
    results.replaceChildren(Object.assign(document.createElement("p"), { className: "hint error", textContent: String(e) }));
    results.removeAttribute("aria-busy");
    return;
  }
  if (mine !== latest) return;
  results.removeAttribute("aria-busy");
  results.replaceChildren();
  if (hits.length === 0) {
    const p = document.createElement("p");
    p.className = "hint";
    const where = FILTERS.find(([k]) => k === kind)?.[1].toLowerCase() ?? "all";
    p.textContent = kind ? `Nothing in ${where} for “${q}”.` : `Nothing found for “${q}”.`;
    results.append(p);
  }
  for (const h of hits) results.append(hitEl(h));
}

export function initSearch(h: typeof hooks) {
  hooks = h;
  makeFilters();
  $<HTMLInputElement>("search").addEventListener("input", (e) => {
    window.clearTimeout(searchTimer);
    const q = (e.target as HTMLInputElement).value;
    searchTimer = window.setTimeout(() => void search(q), 150);
  });
}
