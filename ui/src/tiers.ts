// Models → Tiers: the workhorse, the remote endpoint (checked before it is saved, its key
// kept in the OS keyring) and where each kind of work runs. The same settings as
// `bantam tiers`.
import { api, errorText, type ModelsOverview, type Task, type TierChoice, type TiersView } from "./api";
import { $ } from "./dom";

const TASKS: { task: Task; label: string; choices: [TierChoice, string][] }[] = [
  {
    task: "chat",
    label: "Chat and quick ask (new conversations)",
    choices: [
      ["auto", "Auto: the router decides"],
      ["small", "Small (the model in use)"],
      ["workhorse", "Workhorse"],
      ["remote", "Remote"],
    ],
  },
  { task: "documents", label: "Document summaries", choices: [["small", "Small (the model in use)"], ["workhorse", "Workhorse"]] },
  { task: "triage", label: "Email triage", choices: [["small", "Small (the model in use)"], ["workhorse", "Workhorse"]] },
  { task: "redaction", label: "PII redaction", choices: [["small", "Small (the model in use)"], ["workhorse", "Workhorse"]] },
];

let view: TiersView | null = null;
let toast: (text: string) => void = () => {};

/** Runs a change; the panel shows what was saved (or stays as it was, with the error). */
async function change(what: Promise<TiersView>, done: string) {
  try {
    view = await what;
    toast(done);
  } catch (e) {
    toast(errorText(e));
  }
  renderTiers(null);
}

let lastOverview: ModelsOverview | null = null;

/** Draws the panel; `o` brings the models on this machine for the workhorse menu. */
export function renderTiers(o: ModelsOverview | null) {
  if (o) lastOverview = o;
  if (!view) return;
  const s = view.settings;
  const select = $<HTMLSelectElement>("tier-workhorse");
  select.replaceChildren(new Option("None", ""));
  const local = (lastOverview?.models ?? []).filter((m) => m.path != null);
  for (const m of local) select.append(new Option(m.name, m.path!, false, s.workhorse === m.path));
  if (s.workhorse && !local.some((m) => m.path === s.workhorse))
    select.append(new Option(s.workhorse, s.workhorse, false, true));
  $<HTMLInputElement>("tier-idle").value = String(s.workhorse_idle_minutes);

  const url = $<HTMLInputElement>("tier-remote-url");
  const model = $<HTMLInputElement>("tier-remote-model");
  if (document.activeElement !== url) url.value = s.remote?.base_url ?? "";
  if (document.activeElement !== model) model.value = s.remote?.model ?? "";
  $<HTMLInputElement>("tier-remote-key").value = "";
  $("tier-remote-state").textContent = s.remote
    ? `In use: ${s.remote.model}${view.remote_key ? " (key kept)" : " (no key)"}`
    : "Not set up";
  $<HTMLButtonElement>("tier-remote-off").disabled = !s.remote;

  const tasks = $("tier-tasks");
  tasks.replaceChildren();
  for (const { task, label, choices } of TASKS) {
    const l = document.createElement("label");
    l.textContent = label + " ";
    const sel = document.createElement("select");
    sel.dataset.task = task;
    const current: TierChoice = task === "chat" ? s.tasks.chat : s.tasks[task];
    for (const [value, text] of choices) sel.append(new Option(text, value, false, value === current));
    sel.onchange = () =>
      void change(api.setTaskTier(task, sel.value as TierChoice), `${label}: ${sel.selectedOptions[0]?.text ?? ""}`);
    l.append(sel);
    tasks.append(l);
  }
}

export async function refreshTiers() {
  view = await api.tierSettings();
  renderTiers(null);
}

export function initTiers(hooks: { toast: (text: string) => void }) {
  toast = hooks.toast;
  const saveWorkhorse = () => {
    const path = $<HTMLSelectElement>("tier-workhorse").value || null;
    const idle = Math.max(1, Math.round(Number($<HTMLInputElement>("tier-idle").value) || 10));
    void change(api.setWorkhorse(path, idle), path ? "Workhorse saved" : "No workhorse");
  };
  $("tier-workhorse").onchange = saveWorkhorse;
  $("tier-idle").onchange = saveWorkhorse;
  $<HTMLFormElement>("tier-remote-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const url = $<HTMLInputElement>("tier-remote-url").value.trim();
    const model = $<HTMLInputElement>("tier-remote-model").value.trim();
    const key = $<HTMLInputElement>("tier-remote-key").value;
    if (!url || !model) {
      toast("The remote endpoint needs a URL and a model");
      return;
    }
    $("tier-remote-state").textContent = "Checking…";
    void change(api.setRemote(url, model, key || null), `Remote: ${model}`);
  });
  $("tier-remote-off").onclick = () => void change(api.removeRemote(), "No remote tier");
}
