import { api, errorText, type ChatEvent, type Conversation, type Message, type Sampling, type Status } from "./api";
import { relativeTime, shortcutFromEvent, statsLine, statusLine } from "./format";
import { renderMarkdown } from "./markdown";
import { applyTheme } from "./theme";
import { initDocuments, refreshDocuments, summarize } from "./documents";
import { importModels, initModels, refreshModels } from "./models";
import { initInbox, refreshAccounts, refreshInbox, triageNow } from "./inbox";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const state = {
  conversation: null as number | null,
  streaming: false,
  conversations: [] as Conversation[],
};

// ---- status -------------------------------------------------------------------------
function showStatus(s: Status) {
  const el = $("status");
  el.textContent = statusLine(s);
  el.dataset.state = s.state;
  $<HTMLButtonElement>("pause-model").textContent = s.state === "paused" ? "Resume model" : "Pause model";
}

function toast(text: string) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  window.setTimeout(() => (t.hidden = true), 5000);
}

// ---- conversation list ----------------------------------------------------------------
async function refreshList() {
  state.conversations = await api.conversations();
  const list = $("conversation-list");
  list.replaceChildren();
  if (state.conversations.length === 0) {
    const p = document.createElement("p");
    p.className = "hint empty-list";
    p.textContent = "No conversations yet.";
    list.append(p);
  }
  for (const c of state.conversations) {
    const a = document.createElement("button");
    a.className = "conversation" + (c.id === state.conversation ? " active" : "");
    a.dataset.id = String(c.id);
    a.innerHTML = `<span class="title"></span><span class="meta"></span>`;
    a.querySelector(".title")!.textContent = c.title;
    a.querySelector(".meta")!.textContent = `${relativeTime(c.updated_at)} · ${c.message_count} msgs`;
    a.onclick = () => openConversation(c.id);
    list.append(a);
  }
}

function messageEl(role: string, text: string): HTMLElement {
  const div = document.createElement("article");
  div.className = `message ${role}`;
  const body = document.createElement("div");
  body.className = "body";
  if (role === "assistant") body.innerHTML = renderMarkdown(text);
  else body.textContent = text;
  div.append(body);
  if (role === "assistant") {
    const tools = document.createElement("div");
    tools.className = "tools";
    const copy = document.createElement("button");
    copy.className = "ghost small copy";
    copy.textContent = "Copy";
    copy.onclick = () => navigator.clipboard?.writeText(div.dataset.raw ?? text).then(() => toast("Copied"));
    tools.append(copy);
    const stats = document.createElement("span");
    stats.className = "stats";
    tools.append(stats);
    div.append(tools);
    div.dataset.raw = text;
  }
  return div;
}

function renderMessages(messages: Message[]) {
  const box = $("messages");
  box.replaceChildren();
  if (messages.length === 0) {
    box.append(emptyState());
    return;
  }
  for (const m of messages) {
    const el = messageEl(m.role, m.content);
    if (m.role === "assistant" && m.generated_tokens != null) {
      el.querySelector(".stats")!.textContent = statsLine(
        m.generated_tokens,
        m.tokens_per_s ?? 0,
        m.ttft_ms ?? 0,
        m.finish_reason ?? "stop",
      );
    }
    box.append(el);
  }
  addRegenerate();
  box.scrollTop = box.scrollHeight;
}

const emptyTemplate = $("empty").cloneNode(true) as HTMLElement;
function emptyState(): HTMLElement {
  return emptyTemplate.cloneNode(true) as HTMLElement;
}

function addRegenerate() {
  document.querySelectorAll(".regenerate").forEach((b) => b.remove());
  const last = [...document.querySelectorAll<HTMLElement>(".message")].pop();
  if (!last || !last.classList.contains("assistant") || state.conversation == null) return;
  const b = document.createElement("button");
  b.className = "ghost small regenerate";
  b.textContent = "Regenerate";
  b.onclick = () => regenerate();
  last.querySelector(".tools")!.prepend(b);
}

async function openConversation(id: number | null) {
  if (state.streaming) return;
  state.conversation = id;
  showChat();
  const c = state.conversations.find((c) => c.id === id);
  $("chat-title").textContent = c ? c.title : "New chat";
  $("rename").hidden = $("delete").hidden = id == null;
  if (id == null) renderMessages([]);
  else {
    try {
      renderMessages(await api.messages(id));
    } catch (e) {
      toast(errorText(e));
      state.conversation = null;
      renderMessages([]);
    }
  }
  document.querySelectorAll(".conversation").forEach((el) => {
    el.classList.toggle("active", (el as HTMLElement).dataset.id === String(id));
  });
  $<HTMLTextAreaElement>("composer-input").focus();
}

// ---- asking -----------------------------------------------------------------------------
function sampling(): Sampling {
  const t = parseFloat($<HTMLInputElement>("opt-temperature").value);
  const n = parseInt($<HTMLInputElement>("opt-max-tokens").value, 10);
  const sys = $<HTMLTextAreaElement>("opt-system").value.trim();
  return {
    temperature: Number.isFinite(t) ? t : undefined,
    max_tokens: Number.isFinite(n) ? n : undefined,
    system_prompt: sys || undefined,
  };
}

function setStreaming(on: boolean) {
  state.streaming = on;
  $("send").hidden = on;
  $("stop").hidden = !on;
}

/// Streams one answer into a new assistant bubble.
function streamInto(el: HTMLElement, done: () => void): (e: ChatEvent) => void {
  let text = "";
  const body = el.querySelector<HTMLElement>(".body")!;
  el.classList.add("streaming");
  return (e) => {
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    switch (e.type) {
      case "started":
        if (e.dropped_messages > 0)
          toast(`The oldest ${e.dropped_messages} messages no longer fit the context and were left out.`);
        break;
      case "token":
        text += e.text;
        body.innerHTML = renderMarkdown(text);
        el.dataset.raw = text;
        break;
      case "done":
        body.innerHTML = renderMarkdown(e.text);
        el.dataset.raw = e.text;
        el.classList.remove("streaming");
        el.dataset.finish = e.finish_reason;
        el.querySelector(".stats")!.textContent = statsLine(
          e.generated_tokens,
          e.tokens_per_s,
          e.time_to_first_token_ms,
          e.finish_reason,
        );
        done();
        break;
      case "failed":
        el.classList.remove("streaming");
        el.classList.add("failed");
        body.textContent = e.message;
        done();
        break;
    }
    if (atBottom) box.scrollTop = box.scrollHeight;
  };
}

async function ask(text: string) {
  const question = text.trim();
  if (!question || state.streaming) return;
  const box = $("messages");
  box.querySelector(".empty")?.remove();
  box.append(messageEl("user", question));
  const answer = messageEl("assistant", "");
  box.append(answer);
  box.scrollTop = box.scrollHeight;
  setStreaming(true);
  const finish = async () => {
    setStreaming(false);
    await refreshList();
    addRegenerate();
  };
  try {
    const id = await api.send(state.conversation, question, sampling(), streamInto(answer, finish));
    if (state.conversation == null) {
      state.conversation = id;
      $("rename").hidden = $("delete").hidden = false;
      await refreshList();
      const c = state.conversations.find((c) => c.id === id);
      if (c) $("chat-title").textContent = c.title;
    }
  } catch (e) {
    answer.classList.add("failed");
    answer.querySelector(".body")!.textContent = errorText(e);
    setStreaming(false);
  }
}

async function regenerate() {
  if (state.conversation == null || state.streaming) return;
  const last = [...document.querySelectorAll<HTMLElement>(".message")].pop();
  if (last?.classList.contains("assistant")) last.remove();
  const answer = messageEl("assistant", "");
  $("messages").append(answer);
  setStreaming(true);
  try {
    await api.regenerate(state.conversation, sampling(), streamInto(answer, () => {
      setStreaming(false);
      addRegenerate();
    }));
  } catch (e) {
    answer.querySelector(".body")!.textContent = errorText(e);
    setStreaming(false);
  }
}

async function stop() {
  if (state.conversation != null) await api.stop(state.conversation);
}

// ---- search -----------------------------------------------------------------------------
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

// ---- settings ---------------------------------------------------------------------------
let pendingHotkey: string | null = null;
type View = "chat" | "documents" | "inbox" | "models" | "settings";
function showView(view: View) {
  for (const v of ["chat", "documents", "inbox", "models", "settings"] as const) $(`${v}-view`).hidden = v !== view;
  $("nav-chats").classList.toggle("active", view === "chat");
  $("nav-documents").classList.toggle("active", view === "documents");
  $("nav-inbox").classList.toggle("active", view === "inbox");
  $("nav-models").classList.toggle("active", view === "models");
}

async function showInbox() {
  showView("inbox");
  await refreshInbox();
}

async function showModels() {
  showView("models");
  await refreshModels();
}

async function showDocuments() {
  showView("documents");
  await refreshDocuments();
}

async function showSettings() {
  showView("settings");
  const [s, overview] = await Promise.all([api.settings(), api.models()]);
  const models = overview.models.filter((m) => m.path != null);
  pendingHotkey = s.hotkey;
  $<HTMLInputElement>("set-hotkey").value = s.hotkey ?? "Off";
  $<HTMLInputElement>("set-context").value = String(s.context_size);
  $<HTMLInputElement>("set-gpu").value = s.gpu_layers == null ? "" : String(s.gpu_layers);
  $<HTMLSelectElement>("set-theme").value = s.theme;
  $<HTMLInputElement>("set-login").checked = s.launch_at_login;
  $("data-dir").textContent = s.data_dir;
  void refreshAccounts();
  const err = $("hotkey-error");
  err.hidden = !s.hotkey_error;
  err.textContent = s.hotkey_error ?? "";
  const select = $<HTMLSelectElement>("set-model");
  select.replaceChildren();
  if (models.length === 0) select.append(new Option("No model on this machine", ""));
  for (const m of models) {
    const selected = m.path === overview.current;
    select.append(new Option(m.name, m.path!, selected, selected));
  }
}

function showChat() {
  showView("chat");
}

async function saveSettings(ev: Event) {
  ev.preventDefault();
  const gpu = $<HTMLInputElement>("set-gpu").value.trim();
  const settings = {
    hotkey: pendingHotkey,
    context_size: parseInt($<HTMLInputElement>("set-context").value, 10),
    gpu_layers: gpu === "" ? null : parseInt(gpu, 10),
    theme: $<HTMLSelectElement>("set-theme").value as "system" | "light" | "dark",
    launch_at_login: $<HTMLInputElement>("set-login").checked,
  };
  const err = $("hotkey-error");
  try {
    await api.saveSettings(settings);
    const model = $<HTMLSelectElement>("set-model").value;
    const current = (await api.models()).current;
    if (model && model !== current) await api.selectModel(model);
    applyTheme(settings.theme);
    err.hidden = true;
    const saved = $("settings-saved");
    saved.hidden = false;
    window.setTimeout(() => (saved.hidden = true), 2000);
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

// ---- wiring -----------------------------------------------------------------------------
function wire() {
  const input = $<HTMLTextAreaElement>("composer-input");
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value;
    input.value = "";
    void ask(text);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $<HTMLFormElement>("composer").requestSubmit();
    }
  });
  $("stop").onclick = () => void stop();
  $("new-chat").onclick = () => void openConversation(null);
  $("open-settings").onclick = () => void showSettings();
  $("nav-chats").onclick = () => showChat();
  $("nav-documents").onclick = () => void showDocuments();
  $("nav-models").onclick = () => void showModels();
  $("nav-inbox").onclick = () => void showInbox();
  $("settings-models").onclick = (e) => {
    e.preventDefault();
    void showModels();
  };
  $("close-settings").onclick = () => showChat();
  $("settings-form").addEventListener("submit", (e) => void saveSettings(e));
  $("rename").onclick = async () => {
    if (state.conversation == null) return;
    const current = $("chat-title").textContent ?? "";
    const title = window.prompt("Rename conversation", current);
    if (title && title.trim()) {
      await api.rename(state.conversation, title);
      $("chat-title").textContent = title.trim();
      await refreshList();
    }
  };
  $("delete").onclick = async () => {
    if (state.conversation == null) return;
    if (!window.confirm("Delete this conversation?")) return;
    await api.remove(state.conversation);
    state.conversation = null;
    await refreshList();
    await openConversation(null);
  };
  $<HTMLInputElement>("search").addEventListener("input", (e) => {
    window.clearTimeout(searchTimer);
    const q = (e.target as HTMLInputElement).value;
    searchTimer = window.setTimeout(() => void search(q), 150);
  });
  $("set-hotkey").addEventListener("keydown", (e) => {
    e.preventDefault();
    const combo = shortcutFromEvent(e as KeyboardEvent);
    if (combo) {
      pendingHotkey = combo;
      $<HTMLInputElement>("set-hotkey").value = combo;
    }
  });
  $("clear-hotkey").onclick = () => {
    pendingHotkey = null;
    $<HTMLInputElement>("set-hotkey").value = "Off";
  };
  $("pause-model").onclick = async () => {
    const s = await api.status();
    await (s.state === "paused" || s.state === "error" ? api.resume() : api.pause());
  };
  document.addEventListener("keydown", (e) => {
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === "Escape" && state.streaming) void stop();
    else if (mod && e.key === "n") {
      e.preventDefault();
      void openConversation(null);
    } else if (mod && e.key === "k") {
      e.preventDefault();
      $("search").focus();
    } else if (mod && e.key === "d") {
      e.preventDefault();
      void showDocuments();
    } else if (mod && e.key === "i") {
      e.preventDefault();
      void showInbox();
    } else if (mod && e.key === "m") {
      e.preventDefault();
      void showModels();
    } else if (mod && e.key === ",") {
      e.preventDefault();
      void showSettings();
    }
  });
}

function summarizeClipboard() {
  return summarize([{ target: { clipboard: true }, name: "Clipboard" }]);
}

async function start() {
  wire();
  await api.onStatus(showStatus);
  await api.on<{ conversation: number | null; view: string | null }>("navigate", (n) => {
    if (n.view === "settings") void showSettings();
    else if (n.view === "documents") void showDocuments();
    else if (n.view === "models") void showModels();
    else if (n.view === "inbox") void showInbox();
    else if (n.view === "triage") void showInbox().then(triageNow);
    else if (n.view === "clipboard") void summarizeClipboard();
    else if (n.conversation != null) void refreshList().then(() => openConversation(n.conversation));
  });
  await api.on<{ theme: string }>("settings-changed", (s) => applyTheme(s.theme));
  showStatus(await api.status());
  applyTheme((await api.settings()).theme);
  await refreshList();
  const params = new URLSearchParams(location.search);
  const conv = params.get("conversation");
  await initDocuments({
    show: () => void showDocuments(),
    openConversation: async (id) => {
      showChat();
      await openConversation(id);
    },
    refreshConversations: refreshList,
    toast,
    importModels: async (paths) => {
      await showModels();
      await importModels(paths);
    },
  });
  await initModels({ toast });
  initInbox({ toast });
  if (params.get("view") === "settings") await showSettings();
  else if (params.get("view") === "documents") await showDocuments();
  else if (params.get("view") === "models") await showModels();
  else if (params.get("view") === "inbox") await showInbox();
  else if (params.get("view") === "triage") await showInbox().then(triageNow);
  else if (params.get("view") === "clipboard") await summarizeClipboard();
  else {
    await openConversation(conv ? Number(conv) : null);
    // A first start without any model: the way to get one.
    if ((await api.status()).state === "no_model") await showModels();
  }
}

start().catch((e) => toast(errorText(e)));
