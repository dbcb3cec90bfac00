// The chat view: the conversation list, a conversation's messages, asking with a
// streamed answer, Stop, Regenerate, rename and delete.
import {
  api,
  errorText,
  type AskEvent,
  type AskSource,
  type ChatEvent,
  type Conversation,
  type Decision,
  type Memory,
  type SamplingOverrides,
  type StoredMessage,
  type Tier,
  type TierChoice,
} from "./api";
import { $, toast } from "./dom";
import { relativeTime, statsLine } from "./format";
import { renderMarkdown } from "./markdown";

const state = {
  conversation: null as number | null,
  streaming: false,
  conversations: [] as Conversation[],
  /** The tiers set up (`bantam tiers`); more than one shows the tier menu and re-ask. */
  tiers: ["small"] as Tier[],
};

let showChat: () => void = () => {};
let showMemory: () => void = () => {};
let openDocumentHook: (id: number) => void = () => {};
let openMailHook: (id: number) => void = () => {};

export function isStreaming(): boolean {
  return state.streaming;
}

// ---- conversation list ----------------------------------------------------------------
export async function refreshList() {
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
    const route = document.createElement("span");
    route.className = "route";
    tools.append(route);
    const stats = document.createElement("span");
    stats.className = "stats";
    tools.append(stats);
    div.append(tools);
    const note = document.createElement("div");
    note.className = "route-note";
    div.append(note);
    div.dataset.raw = text;
  }
  return div;
}

/// The badge: which tier answered and why; a fallback's note under the answer.
function showRoute(el: HTMLElement, route: Decision | null, model: string | null) {
  if (!route) return;
  const badge = el.querySelector<HTMLElement>(".route")!;
  badge.textContent = `${route.tier} · ${route.reason}`;
  badge.classList.toggle("fallback", route.note != null);
  badge.title = [model, route.by === "model" ? `router score ${route.score?.toFixed(2)}` : null, route.note]
    .filter(Boolean)
    .join(" · ");
  el.dataset.tier = route.tier;
  el.querySelector<HTMLElement>(".route-note")!.textContent = route.note ?? "";
}

/// Which facts from the memory the answer was given (a link to the Memory view).
function showRecalled(el: HTMLElement, facts: Memory[]) {
  if (facts.length === 0) return;
  const line = document.createElement("div");
  line.className = "memory-used";
  const link = document.createElement("a");
  link.href = "#";
  link.textContent = "From memory";
  link.title = "Open Memory (Ctrl+J)";
  link.onclick = (e) => {
    e.preventDefault();
    showMemory();
  };
  line.append(link, ": ", facts.map((f) => f.text).join(" · "));
  el.append(line);
}

/// Facts the user's message stated: Keep or Dismiss each (or Forget, when kept already).
function showProposals(el: HTMLElement, facts: Memory[]) {
  const box = document.createElement("div");
  box.className = "memory-proposal";
  for (const f of facts) {
    const row = document.createElement("div");
    row.className = "row";
    row.dataset.id = String(f.id);
    const text = document.createElement("span");
    text.textContent = f.status === "kept" ? `Remembered: ${f.text}` : `Remember this? ${f.text}`;
    const act = (label: string, cls: string, work: () => Promise<unknown>, after: string) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `ghost small ${cls}`;
      b.textContent = label;
      b.onclick = async () => {
        try {
          await work();
          row.replaceChildren(after);
        } catch (e) {
          toast(errorText(e));
        }
      };
      return b;
    };
    if (f.status === "kept") row.append(text, act("Forget", "delete", () => api.memoryDelete(f.id), "Forgotten."));
    else
      row.append(
        text,
        act("Keep", "keep", () => api.memoryKeep(f.id), `Kept: ${f.text}`),
        act("Dismiss", "delete", () => api.memoryDelete(f.id), "Dismissed."),
      );
    box.append(row);
  }
  el.append(box);
}

function renderMessages(messages: StoredMessage[]) {
  const box = $("messages");
  box.replaceChildren();
  if (messages.length === 0) {
    box.append(emptyState());
    return;
  }
  for (const m of messages) {
    const el = messageEl(m.role, m.content);
    if (m.role === "assistant") showRoute(el, m.route, m.model);
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
  document.querySelectorAll(".regenerate, .reask").forEach((b) => b.remove());
  const last = [...document.querySelectorAll<HTMLElement>(".message")].pop();
  if (!last || !last.classList.contains("assistant") || state.conversation == null) return;
  // An answer from the user's files is asked again, not regenerated as a chat answer.
  if (last.classList.contains("from-files")) return;
  const tools = last.querySelector(".tools")!;
  // Re-ask on each other tier set up, one click each.
  for (const tier of [...state.tiers].reverse()) {
    if (tier === last.dataset.tier) continue;
    const r = document.createElement("button");
    r.className = "ghost small reask";
    r.dataset.tier = tier;
    r.textContent = `Ask ${tier}`;
    r.title = `Answer this again on the ${tier} tier`;
    r.onclick = () => regenerate(tier);
    tools.prepend(r);
  }
  const b = document.createElement("button");
  b.className = "ghost small regenerate";
  b.textContent = "Regenerate";
  b.onclick = () => regenerate();
  tools.prepend(b);
}

/// Where a new conversation starts (Models → Tiers → Chat).
async function newChatTier(): Promise<TierChoice> {
  try {
    return (await api.tierSettings()).settings.tasks.chat;
  } catch {
    return "auto";
  }
}

/// The conversation's tier menu, shown when a bigger tier is set up.
async function refreshTiers(choice: TierChoice) {
  try {
    state.tiers = await api.tiers();
  } catch {
    state.tiers = ["small"];
  }
  const select = $<HTMLSelectElement>("chat-tier");
  for (const option of select.options) {
    option.hidden = option.value !== "auto" && !state.tiers.includes(option.value as Tier);
  }
  select.value = choice;
  $("chat-tier-label").hidden = state.tiers.length < 2;
}

export async function openConversation(id: number | null) {
  if (state.streaming) return;
  state.conversation = id;
  showChat();
  const c = state.conversations.find((c) => c.id === id);
  $("chat-title").textContent = c ? c.title : "New chat";
  $("rename").hidden = $("delete").hidden = id == null;
  await refreshTiers(c?.tier_choice ?? (await newChatTier()));
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
function sampling(): SamplingOverrides {
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

function showFailed(el: HTMLElement, message: string) {
  el.classList.remove("streaming");
  el.classList.add("failed");
  el.querySelector<HTMLElement>(".body")!.textContent = message;
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
        showRoute(el, e.route, e.model);
        showRecalled(el, e.recalled);
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
        showFailed(el, e.message);
        done();
        break;
      case "remember":
        showProposals(el, e.memories);
        break;
    }
    if (atBottom) box.scrollTop = box.scrollHeight;
  };
}

/// Streams an answer from the user's files; its `[n]` marks and the sources under it
/// open where each passage is.
function askInto(el: HTMLElement, done: () => void): (e: AskEvent) => void {
  let text = "";
  const body = el.querySelector<HTMLElement>(".body")!;
  el.classList.add("streaming", "from-files");
  return (e) => {
    switch (e.type) {
      case "indexing":
        body.textContent = `Indexing your files for search: ${e.done} of ${e.total}…`;
        break;
      case "reading":
        body.textContent = `Reading the whole document: part ${e.done} of ${e.total}…`;
        break;
      case "token":
        text += e.text;
        body.innerHTML = renderMarkdown(text);
        break;
      case "done": {
        const answer = e.whole ? e.text : e.text.split("\n\nSources:")[0];
        body.innerHTML = e.whole ? renderMarkdown(answer) : linkCitations(renderMarkdown(answer));
        el.dataset.raw = e.text;
        el.dataset.outcome = e.outcome;
        el.classList.remove("streaming");
        el.dataset.finish = "stop";
        if (e.whole) showWholeRead(el, e.whole.document_id, e.whole.document);
        else showSources(el, e.sources, e.by_meaning);
        done();
        break;
      }
      case "failed":
        showFailed(el, e.message);
        done();
        break;
      case "stopped":
        // Progress ("Reading … part 3 of 50…") would read as still running.
        if (!text) body.textContent = "Stopped before an answer was written.";
        el.classList.remove("streaming");
        el.dataset.finish = "cancelled";
        el.querySelector(".stats")!.textContent = "stopped · answer not kept";
        done();
        break;
    }
  };
}

function linkCitations(html: string): string {
  return html.replace(/\[(\d{1,2})\]/g, '<a href="#" class="cite" data-n="$1">[$1]</a>');
}

/// The cited passages as links, then every passage looked in.
function showSources(el: HTMLElement, sources: AskSource[], byMeaning: boolean) {
  const link = (s: AskSource) => {
    const a = document.createElement("a");
    a.href = "#";
    a.className = "citation";
    a.dataset.n = String(s.n);
    a.dataset.kind = s.kind;
    a.textContent = `[${s.n}] ${s.place}`;
    a.title = s.snippet;
    a.onclick = (e) => {
      e.preventDefault();
      openSource(s);
    };
    return a;
  };
  const cited = sources.filter((s) => s.cited);
  if (cited.length > 0) {
    const box = document.createElement("div");
    box.className = "citations";
    box.append(...cited.map(link));
    el.append(box);
  }
  el.querySelectorAll<HTMLElement>(".body .cite").forEach((c) => {
    const s = sources.find((s) => String(s.n) === c.dataset.n);
    c.onclick = (e) => {
      e.preventDefault();
      if (s) openSource(s);
    };
  });
  const looked = document.createElement("details");
  looked.className = "looked-in";
  const summary = document.createElement("summary");
  summary.textContent =
    sources.length === 0
      ? "Nothing in your files came close"
      : `Looked in ${sources.length} passage${sources.length === 1 ? "" : "s"}${byMeaning ? "" : " (by words only: no embedding model)"}`;
  looked.append(summary, ...sources.map(link));
  el.append(looked);
}

/// A whole-document answer names the document it read, a link that opens it.
function showWholeRead(el: HTMLElement, id: number, name: string) {
  const box = document.createElement("div");
  box.className = "citations whole-read";
  const a = document.createElement("a");
  a.href = "#";
  a.className = "citation";
  a.dataset.kind = "chunk";
  a.textContent = `Open ${name}`;
  a.onclick = (e) => {
    e.preventDefault();
    openDocumentHook(id);
  };
  box.append(a);
  el.append(box);
}

function openSource(s: AskSource) {
  if (s.kind === "chunk") openDocumentHook(s.parent_id);
  else if (s.kind === "mail") openMailHook(s.parent_id);
  else if (s.kind === "memory") showMemory();
  else void openConversation(s.parent_id);
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
    const tier = $<HTMLSelectElement>("chat-tier").value as TierChoice;
    const id = $<HTMLInputElement>("ask-files").checked
      ? await api.askFiles(state.conversation, question, askInto(answer, finish))
      : await api.send(state.conversation, question, sampling(), streamInto(answer, finish), tier);
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

async function regenerate(tier: Tier | null = null) {
  if (state.conversation == null || state.streaming) return;
  const last = [...document.querySelectorAll<HTMLElement>(".message")].pop();
  if (last?.classList.contains("assistant")) last.remove();
  const answer = messageEl("assistant", "");
  $("messages").append(answer);
  setStreaming(true);
  try {
    await api.regenerate(
      state.conversation,
      sampling(),
      streamInto(answer, () => {
        setStreaming(false);
        addRegenerate();
      }),
      tier,
    );
  } catch (e) {
    answer.querySelector(".body")!.textContent = errorText(e);
    setStreaming(false);
  }
}

export async function stop() {
  if (state.conversation != null) await api.stop(state.conversation);
}

async function rename() {
  if (state.conversation == null) return;
  const current = $("chat-title").textContent ?? "";
  const title = window.prompt("Rename conversation", current);
  if (title && title.trim()) {
    await api.rename(state.conversation, title);
    $("chat-title").textContent = title.trim();
    await refreshList();
  }
}

async function remove() {
  if (state.conversation == null) return;
  if (!window.confirm("Delete this conversation?")) return;
  await api.remove(state.conversation);
  state.conversation = null;
  await refreshList();
  await openConversation(null);
}

/** Wires the composer and the chat header; `show` brings the chat view forward. */
export function initChat(hooks: {
  show: () => void;
  showMemory: () => void;
  openDocument: (id: number) => void;
  openMail: (id: number) => void;
}) {
  showChat = hooks.show;
  showMemory = hooks.showMemory;
  openDocumentHook = hooks.openDocument;
  openMailHook = hooks.openMail;
  const askFiles = $<HTMLInputElement>("ask-files");
  askFiles.onchange = () => {
    $<HTMLTextAreaElement>("composer-input").placeholder = askFiles.checked
      ? "Ask your documents, chats and memory…"
      : "Message Bantam…";
  };
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
  $("rename").onclick = () => void rename();
  $("delete").onclick = () => void remove();
}
