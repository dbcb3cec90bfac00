// Settings: the model, context size, GPU layers, the hotkey (press a combination), theme,
// launch at login, the API for other programs, and the mail accounts (in inbox.ts).
import { api, errorText } from "./api";
import { $, toast } from "./dom";
import { shortcutFromEvent } from "./format";
import { refreshAccounts } from "./inbox";
import { applyTheme } from "./theme";

let pendingHotkey: string | null = null;

/** Fills the form from the saved settings. */
export async function loadSettings() {
  const [s, overview] = await Promise.all([api.settings(), api.models()]);
  const models = overview.models.filter((m) => m.path != null);
  pendingHotkey = s.hotkey;
  $<HTMLInputElement>("set-hotkey").value = s.hotkey ?? "Off";
  $<HTMLInputElement>("set-context").value = String(s.context_size);
  $<HTMLInputElement>("set-gpu").value = s.gpu_layers == null ? "" : String(s.gpu_layers);
  $<HTMLSelectElement>("set-theme").value = s.theme;
  $<HTMLInputElement>("set-login").checked = s.launch_at_login;
  $("data-dir").textContent = s.data_dir;
  $<HTMLInputElement>("set-api").checked = s.api_enabled;
  $<HTMLInputElement>("set-api-port").value = String(s.api_port);
  void showApiStatus();
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

async function saveSettings(ev: Event) {
  ev.preventDefault();
  const gpu = $<HTMLInputElement>("set-gpu").value.trim();
  const settings = {
    hotkey: pendingHotkey,
    context_size: parseInt($<HTMLInputElement>("set-context").value, 10),
    gpu_layers: gpu === "" ? null : parseInt(gpu, 10),
    theme: $<HTMLSelectElement>("set-theme").value as "system" | "light" | "dark",
    launch_at_login: $<HTMLInputElement>("set-login").checked,
    api_enabled: $<HTMLInputElement>("set-api").checked,
    api_port: parseInt($<HTMLInputElement>("set-api-port").value, 10),
  };
  const err = $("hotkey-error");
  try {
    await api.saveSettings(settings);
    const model = $<HTMLSelectElement>("set-model").value;
    const current = (await api.models()).current;
    if (model && model !== current) await api.selectModel(model);
    applyTheme(settings.theme);
    void showApiStatus();
    err.hidden = true;
    const saved = $("settings-saved");
    saved.hidden = false;
    window.setTimeout(() => (saved.hidden = true), 2000);
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

/** Where the API listens and its token, or why it is not running. */
async function showApiStatus() {
  const status = await api.apiStatus();
  const on = $<HTMLInputElement>("set-api").checked;
  const state = $("api-state");
  state.classList.toggle("error", status.error != null);
  if (status.error) state.textContent = `Not running: ${status.error}`;
  else if (status.url) state.textContent = `Running at ${status.url}`;
  else if (on) state.textContent = "Turned on: press Save to start it.";
  else state.textContent = "Off: editors, scripts and agents can use the loaded model once you turn it on.";
  $("api-token-row").hidden = status.token == null;
  $<HTMLInputElement>("api-token").value = status.token ?? "";
}

/** Wires the form; `close` leaves Settings, `showModels` opens the Models view. */
export function initSettings(hooks: { close: () => void; showModels: () => void }) {
  $("settings-form").addEventListener("submit", (e) => void saveSettings(e));
  $("close-settings").onclick = () => hooks.close();
  $("settings-models").onclick = (e) => {
    e.preventDefault();
    hooks.showModels();
  };
  $("set-hotkey").addEventListener("keydown", (e) => {
    e.preventDefault();
    const combo = shortcutFromEvent(e as KeyboardEvent);
    if (combo) {
      pendingHotkey = combo;
      $<HTMLInputElement>("set-hotkey").value = combo;
    }
  });
  $("api-show-token").onclick = () => {
    const field = $<HTMLInputElement>("api-token");
    field.type = field.type === "password" ? "text" : "password";
    $("api-show-token").textContent = field.type === "password" ? "Show" : "Hide";
  };
  $("api-copy-token").onclick = () =>
    void navigator.clipboard?.writeText($<HTMLInputElement>("api-token").value).then(() => toast("Token copied"));
  $("clear-hotkey").onclick = () => {
    pendingHotkey = null;
    $<HTMLInputElement>("set-hotkey").value = "Off";
  };
}
