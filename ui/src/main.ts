// The main window: the views (chat, documents, inbox, models, settings), the keyboard
// shortcuts between them, the engine's status line, and start-up. Each view is its own
// module.
import { api, errorText, type StatusView } from "./api";
import { initChat, isStreaming, openConversation, refreshList, stop } from "./chat";
import { initDocuments, refreshDocuments, selectDocument, summarize } from "./documents";
import { $, toast } from "./dom";
import { statusLine } from "./format";
import { initInbox, refreshInbox, revealMail, triageNow } from "./inbox";
import { initMemory, refreshMemory } from "./memory";
import { importModels, initModels, refreshModels } from "./models";
import { initSearch } from "./search";
import { initSettings, loadSettings } from "./settings";
import { applyTheme } from "./theme";

function showStatus(s: StatusView) {
  const el = $("status");
  el.textContent = statusLine(s);
  el.dataset.state = s.state;
  $<HTMLButtonElement>("pause-model").textContent = s.state === "paused" ? "Resume model" : "Pause model";
}

type View = "chat" | "documents" | "inbox" | "memory" | "models" | "settings";
/** Set once the user (or a start-up parameter) has chosen a view: start-up then loads
 *  the chat without switching back to it. */
let navigated = false;

function showView(view: View) {
  navigated = true;
  for (const v of ["chat", "documents", "inbox", "memory", "models", "settings"] as const) $(`${v}-view`).hidden = v !== view;
  $("nav-chats").classList.toggle("active", view === "chat");
  $("nav-documents").classList.toggle("active", view === "documents");
  $("nav-inbox").classList.toggle("active", view === "inbox");
  $("nav-models").classList.toggle("active", view === "models");
  $("nav-memory").classList.toggle("active", view === "memory");
}

async function showMemory() {
  showView("memory");
  await refreshMemory();
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
  await loadSettings();
}

async function openMail(id: number) {
  showView("inbox");
  await revealMail(id);
}

function showChat() {
  showView("chat");
}

function wire() {
  initChat({
    show: showChat,
    showMemory: () => void showMemory(),
    openDocument: (id) => void showDocuments().then(() => selectDocument(id)),
    openMail: (id) => void openMail(id),
  });
  initMemory({
    openConversation: (id) => {
      showChat();
      void refreshList().then(() => openConversation(id));
    },
  });
  initSearch({
    openDocument: (id) => void showDocuments().then(() => selectDocument(id)),
    openMail: (id) => void openMail(id),
    showMemory: () => void showMemory(),
  });
  initSettings({ close: showChat, showModels: () => void showModels() });
  $("open-settings").onclick = () => void showSettings();
  $("nav-chats").onclick = () => showChat();
  $("nav-documents").onclick = () => void showDocuments();
  $("nav-models").onclick = () => void showModels();
  $("nav-inbox").onclick = () => void showInbox();
  $("nav-memory").onclick = () => void showMemory();
  $("pause-model").onclick = async () => {
    const s = await api.status();
    await (s.state === "paused" || s.state === "error" ? api.resume() : api.pause());
  };
  document.addEventListener("keydown", (e) => {
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === "Escape" && isStreaming()) void stop();
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
    } else if (mod && e.shiftKey && e.key.toLowerCase() === "f") {
      e.preventDefault();
      const t = $<HTMLInputElement>("ask-files");
      t.checked = !t.checked;
      t.dispatchEvent(new Event("change"));
      $("composer-input").focus();
    } else if (mod && e.key === "j") {
      e.preventDefault();
      void showMemory();
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
  await api.onNavigate((n) => {
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
    // The status line says "ready" early (it shows loading progress): a view or a
    // conversation the user opened since is kept.
    if (!navigated) {
      await openConversation(conv ? Number(conv) : null);
      // A first start without any model: the way to get one.
      if ((await api.status()).state === "no_model") await showModels();
    }
  }
  document.body.dataset.started = "true";
}

start().catch((e) => toast(errorText(e)));
