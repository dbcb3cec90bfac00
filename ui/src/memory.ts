// The Memory view: the facts Bantam keeps about the user (and those proposed, waiting for
// a yes), where each came from, how often it was used; add, edit, keep, delete, forget all.
import { api, errorText, type Memory } from "./api";
import { $, toast } from "./dom";
import { memoryMeta } from "./format";

let hooks: { openConversation: (id: number) => void } = { openConversation: () => {} };
let facts: Memory[] = [];
let forgetArmed = 0;

export async function refreshMemory() {
  try {
    const [all, settings] = await Promise.all([api.memories(), api.memorySettings()]);
    facts = all;
    $<HTMLInputElement>("mem-propose").checked = settings.propose;
    $<HTMLInputElement>("mem-auto-keep").checked = settings.auto_keep;
    $<HTMLInputElement>("mem-auto-keep").disabled = !settings.propose;
  } catch (e) {
    toast(errorText(e));
  }
  render();
}

function render() {
  const list = $("memory-list");
  const filter = $<HTMLInputElement>("mem-filter").value.trim().toLowerCase();
  const shown = facts.filter((f) => !filter || f.text.toLowerCase().includes(filter));
  list.replaceChildren();
  if (facts.length === 0) {
    const empty = document.createElement("div");
    empty.className = "empty";
    empty.innerHTML =
      "<h2>Nothing remembered yet</h2><p>Tell Bantam about yourself in a chat (“My daughter is called Ana”) and it proposes the fact here, or write one above.</p>";
    list.append(empty);
    return;
  }
  if (shown.length === 0) {
    const none = document.createElement("p");
    none.className = "hint";
    none.textContent = "No fact matches the filter.";
    list.append(none);
    return;
  }
  for (const f of shown) list.append(item(f));
}

function item(f: Memory): HTMLElement {
  const el = document.createElement("div");
  el.className = `memory-item ${f.status}`;
  el.dataset.id = String(f.id);
  el.dataset.status = f.status;
  const text = document.createElement("div");
  text.className = "memory-text";
  text.textContent = f.text;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = memoryMeta(f);
  if (f.source_conversation_id != null) {
    const link = document.createElement("a");
    link.href = "#";
    link.className = "memory-source";
    link.textContent = "open the chat";
    const id = f.source_conversation_id;
    link.onclick = (e) => {
      e.preventDefault();
      hooks.openConversation(id);
    };
    meta.append(" · ", link);
  }
  const actions = document.createElement("div");
  actions.className = "row memory-actions";
  if (f.status === "proposed") actions.append(button("Keep", "keep", () => keep(f.id)));
  actions.append(button("Edit", "edit", () => edit(el, f)));
  actions.append(button(f.status === "proposed" ? "Dismiss" : "Delete", "delete", () => remove(f.id)));
  el.append(text, meta, actions);
  return el;
}

function button(label: string, cls: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `ghost small ${cls}`;
  b.textContent = label;
  b.onclick = onClick;
  return b;
}

async function act(work: () => Promise<unknown>, done: string) {
  try {
    await work();
    toast(done);
  } catch (e) {
    toast(errorText(e));
  }
  await refreshMemory();
}

export const keep = (id: number) => act(() => api.memoryKeep(id), "Kept");
export const remove = (id: number) => act(() => api.memoryDelete(id), "Forgotten");

/// Edits in place: Enter saves, Escape puts the text back.
function edit(el: HTMLElement, f: Memory) {
  const input = document.createElement("input");
  input.className = "memory-edit";
  input.value = f.text;
  el.querySelector(".memory-text")!.replaceWith(input);
  input.focus();
  input.onkeydown = (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      void act(() => api.memoryEdit(f.id, input.value), "Saved");
    } else if (e.key === "Escape") {
      e.stopPropagation();
      render();
    }
  };
}

async function add(e: Event) {
  e.preventDefault();
  const input = $<HTMLInputElement>("mem-add");
  const text = input.value.trim();
  if (!text) return;
  try {
    await api.memoryAdd(text);
    input.value = "";
    toast("Remembered");
  } catch (err) {
    toast(errorText(err));
  }
  await refreshMemory();
}

/// Two clicks, so one slip forgets nothing.
async function forgetAll() {
  const b = $<HTMLButtonElement>("mem-forget-all");
  if (Date.now() - forgetArmed > 5000) {
    forgetArmed = Date.now();
    b.textContent = `Click again to forget ${facts.length} fact${facts.length === 1 ? "" : "s"}`;
    window.setTimeout(() => (b.textContent = "Forget everything"), 5000);
    return;
  }
  forgetArmed = 0;
  b.textContent = "Forget everything";
  await act(async () => {
    const n = await api.memoryForgetAll();
    return n;
  }, "Everything forgotten");
}

async function saveSettings() {
  const propose = $<HTMLInputElement>("mem-propose").checked;
  const auto_keep = propose && $<HTMLInputElement>("mem-auto-keep").checked;
  await act(() => api.memorySettingsSet({ propose, auto_keep }), "Memory settings saved");
}

export function initMemory(h: typeof hooks) {
  hooks = h;
  $("mem-add-form").onsubmit = (e) => void add(e);
  $("mem-filter").oninput = () => render();
  $("mem-forget-all").onclick = () => void forgetAll();
  $("mem-propose").onchange = () => void saveSettings();
  $("mem-auto-keep").onchange = () => void saveSettings();
}
