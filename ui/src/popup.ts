import { api, errorText, type ChatEvent } from "./api";
import { Recall, statsLine, statusLine } from "./format";
import { renderMarkdown } from "./markdown";
import { applyTheme } from "./theme";
import { $ } from "./dom";
const input = $<HTMLInputElement>("ask-input");
const answer = $("answer");
const RECALL_KEY = "bantam.popup.recall";
const recall = new Recall(JSON.parse(localStorage.getItem(RECALL_KEY) ?? "[]"));

let conversation: number | null = null;
let streaming = false;

function setStreaming(on: boolean) {
  streaming = on;
  $("ask-stop").hidden = !on;
  document.body.classList.toggle("streaming", on);
}

async function ask(question: string) {
  const q = question.trim();
  if (!q || streaming) return;
  recall.push(q);
  localStorage.setItem(RECALL_KEY, JSON.stringify(recall.all()));
  input.value = "";
  input.placeholder = q;
  let text = "";
  answer.innerHTML = "";
  answer.classList.remove("failed");
  document.body.classList.remove("answered");
  const stats = $("popup-status");
  stats.textContent = "Thinking…";
  setStreaming(true);
  const onEvent = (e: ChatEvent) => {
    if (e.type === "token") {
      text += e.text;
      answer.innerHTML = renderMarkdown(text);
      answer.scrollTop = answer.scrollHeight;
    } else if (e.type === "done") {
      answer.innerHTML = renderMarkdown(e.text);
      answer.dataset.finish = e.finish_reason;
      stats.textContent = statsLine(e.generated_tokens, e.tokens_per_s, e.time_to_first_token_ms, e.finish_reason);
      setStreaming(false);
      $("continue").hidden = false;
      document.body.classList.add("answered");
    } else if (e.type === "failed") {
      answer.textContent = e.message;
      answer.classList.add("failed");
      setStreaming(false);
    }
  };
  try {
    conversation = await api.send(conversation, q, null, onEvent);
  } catch (e) {
    answer.textContent = errorText(e);
    answer.classList.add("failed");
    stats.textContent = "";
    setStreaming(false);
  }
}

async function hide() {
  if (streaming && conversation != null) await api.stop(conversation);
  await api.hidePopup();
}

$("ask-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void ask(input.value);
});
$("ask-stop").onclick = () => conversation != null && void api.stop(conversation);
$("continue").onclick = async () => {
  const id = conversation;
  await api.openMain(id);
  await api.hidePopup();
  // The next question in the popup starts a new exchange.
  conversation = null;
  $("continue").hidden = true;
};
input.addEventListener("keydown", (e) => {
  if (e.key === "ArrowUp") {
    e.preventDefault();
    const q = recall.up();
    if (q != null) input.value = q;
  } else if (e.key === "ArrowDown") {
    e.preventDefault();
    input.value = recall.down();
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") {
    e.preventDefault();
    void hide();
  }
});

void api.on("popup-shown", () => {
  input.focus();
  input.select();
});
void api.onStatus((s) => {
  if (!streaming) $("popup-status").textContent = s.state === "ready" ? "" : statusLine(s);
});
void api.on<{ theme: string }>("settings-changed", (s) => applyTheme(s.theme));
void api.settings().then((s) => applyTheme(s.theme)).catch(() => applyTheme("system"));
void api.status().then((s) => {
  if (s.state !== "ready") $("popup-status").textContent = statusLine(s);
});
input.focus();
