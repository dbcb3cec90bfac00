// Search across every conversation (Ctrl+K): hits with the matches highlighted, a click
// opens the conversation.
import { api } from "./api";
import { openConversation } from "./chat";
import { $ } from "./dom";

let searchTimer = 0;
async function search(q: string) {
  const results = $("search-results");
  const list = $("conversation-list");
  if (!q.trim()) {
    results.hidden = true;
    list.hidden = false;
    return;
  }
  const hits = await api.search(q);
  results.replaceChildren();
  results.hidden = false;
  list.hidden = true;
  if (hits.length === 0) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = `Nothing found for “${q}”.`;
    results.append(p);
  }
  for (const h of hits) {
    const b = document.createElement("button");
    b.className = "conversation hit";
    b.dataset.id = String(h.conversation_id);
    b.innerHTML = `<span class="title"></span><span class="snippet"></span>`;
    b.querySelector(".title")!.textContent = h.conversation_title;
    // The store marks matches with [..]; shown as highlights, the text itself stays text.
    const snippet = b.querySelector(".snippet")!;
    for (const [i, part] of h.snippet.split(/\[|\]/).entries()) {
      const span = document.createElement(i % 2 ? "mark" : "span");
      span.textContent = part;
      snippet.append(span);
    }
    b.onclick = () => openConversation(h.conversation_id);
    results.append(b);
  }
}

export function initSearch() {
  $<HTMLInputElement>("search").addEventListener("input", (e) => {
    window.clearTimeout(searchTimer);
    const q = (e.target as HTMLInputElement).value;
    searchTimer = window.setTimeout(() => void search(q), 150);
  });
}
