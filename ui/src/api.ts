// Typed wrappers over the shell's commands. The page never touches the filesystem or
// the network: everything goes through these.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type EngineState =
  | { state: "no_model" }
  | { state: "loading"; model: string; progress: number }
  | { state: "ready"; model: string; path: string; quantization: string; parameters: number }
  | { state: "paused"; model: string }
  | { state: "error"; model: string; message: string };

export type Status = EngineState & { active: number; queued: number; summary: string };

export interface Conversation {
  id: number;
  title: string;
  model: string | null;
  system_prompt: string | null;
  created_at: number;
  updated_at: number;
  message_count: number;
}

export interface Message {
  id: number;
  conversation_id: number;
  role: "user" | "assistant" | "system";
  content: string;
  generated_tokens: number | null;
  ttft_ms: number | null;
  tokens_per_s: number | null;
  finish_reason: string | null;
  created_at: number;
}

export interface SearchHit {
  conversation_id: number;
  conversation_title: string;
  message_id: number;
  role: string;
  snippet: string;
  created_at: number;
}

export type ChatEvent =
  | { type: "started"; conversation_id: number; prompt_tokens: number; cached_tokens: number; dropped_messages: number }
  | { type: "token"; text: string }
  | {
      type: "done";
      text: string;
      finish_reason: string;
      generated_tokens: number;
      tokens_per_s: number;
      time_to_first_token_ms: number;
    }
  | { type: "failed"; message: string };

export interface Sampling {
  temperature?: number;
  max_tokens?: number;
  system_prompt?: string;
}

export interface Settings {
  hotkey: string | null;
  context_size: number;
  gpu_layers: number | null;
  theme: "system" | "light" | "dark";
  launch_at_login: boolean;
}

export type SettingsView = Settings & {
  default_model: string | null;
  data_dir: string;
  hotkey_error: string | null;
};

export type Fit = "gpu" | "ram" | "too_big";

export interface MemoryEstimate {
  weights: number;
  kv_cache: number;
  buffers: number;
  total: number;
  gpu_total: number;
}

export interface ModelListing {
  id: string;
  name: string;
  tier: "tiny" | "small" | "workhorse" | "imported";
  params: string;
  quantization: string;
  size_bytes: number;
  license: string | null;
  best_for: string | null;
  path: string | null;
  default: boolean;
  recommended: boolean;
  downloadable: boolean;
  fit: { fit: Fit; estimate: MemoryEstimate; reason: string } | null;
}

export interface Gpu {
  name: string;
  description: string;
  backend: string;
  memory_total: number;
  memory_free: number;
  integrated: boolean;
}

export interface Hardware {
  total_ram: number;
  available_ram: number;
  cpu_threads: number;
  backend: string;
  gpus: Gpu[];
}

export type DownloadStatus = "queued" | "downloading" | "paused" | "failed" | "done";

export interface DownloadUpdate {
  id: number;
  file_name: string;
  catalog_id: string | null;
  status: DownloadStatus;
  phase: "checking" | "downloading" | "verifying" | "done" | null;
  downloaded: number;
  total: number | null;
  rate: number;
  eta_seconds: number | null;
  notice: string | null;
  error: string | null;
  error_kind: string | null;
}

export type Task = "chat" | "documents" | "triage" | "redaction";

export type MailPriority = "urgent" | "high" | "normal" | "low";

export interface TriageRecord {
  category: string;
  priority: MailPriority;
  needs_reply: boolean;
  action_items: { text: string; due: string | null }[];
  summary: string;
  route: string;
  reason: string;
  decided_by: "rule" | "learned" | "headers" | "model";
}

export interface InboxItem {
  message_id: number;
  key: string;
  from: string | null;
  subject: string;
  date: string | null;
  record: TriageRecord;
  /** A local reply draft (never sent), when drafts are on. */
  draft: string | null;
}

/** Background triage: progress of the current run, the last one and the next. */
export interface MailStatus {
  running: boolean;
  done: number;
  total: number;
  last_finished: number | null;
  last_new: number;
  last_error: string | null;
  next_run: number | null;
}

export interface MailOptions {
  /** Minutes between background checks; 0 = off. */
  every_minutes: number;
  notify_urgent: boolean;
  drafts: boolean;
}

export interface InboxView {
  items: InboxItem[];
  categories: string[];
  accounts: number;
}

export type TriageEvent =
  | { type: "account"; name: string }
  | { type: "record"; item: InboxItem; cached: boolean }
  | { type: "failed"; message: string }
  | { type: "done"; account: string; fetched: number }
  | { type: "finished" };

export interface ImapAccount {
  name: string;
  host: string;
  port: number;
  security: "tls" | "starttls";
  user: string;
  folder: string;
  ca_file: string | null;
  move_to_route: boolean;
}

export interface ModelsOverview {
  hardware: Hardware;
  budget: { context_size: number; parallel: number; ubatch: number };
  models: ModelListing[];
  downloads: DownloadUpdate[];
  tasks: Record<Task, string | null>;
  current: string | null;
}

export interface DocumentMetadata {
  title: string;
  authors: string[];
  dates: string[];
  document_type: string;
  language: string;
  people: string[];
  organizations: string[];
  places: string[];
  key_numbers: string[];
  key_points: string[];
  file_name: string;
  format: string;
  size_bytes: number;
  sha256: string;
  words: number;
  pages: number | null;
  chunks: number;
  model: string;
}

export interface StoredDocument {
  id: number;
  sha256: string;
  path: string;
  name: string;
  format: string;
  size_bytes: number;
  pages: number | null;
  words: number;
  metadata: string | null;
  updated_at: number;
}

export type DocumentRow = StoredDocument & { title: string | null };

export interface StoredSummary {
  document_id: number;
  length: SummaryLength;
  text: string;
  model: string;
  created_at: number;
}

export interface DocumentDetail {
  document: StoredDocument;
  metadata: DocumentMetadata | null;
  summaries: StoredSummary[];
}

export type SummaryLength = "tldr" | "short" | "bullets";

export type SummarizeTarget = { path: string } | { document_id: number } | { clipboard: true };

export type DocEvent =
  | { type: "ingested"; document_id: number; name: string; format: string; pages: number | null; words: number; chunks: number }
  | { type: "mapped"; done: number; total: number }
  | { type: "token"; text: string }
  | { type: "metadata"; metadata: DocumentMetadata }
  | { type: "done"; document_id: number; text: string; cached: boolean; chunks: number; mapped: number }
  | { type: "failed"; message: string };

function channel<T>(onEvent: (e: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onEvent;
  return ch;
}

export const api = {
  send: (conversationId: number | null, text: string, sampling: Sampling | null, onEvent: (e: ChatEvent) => void) =>
    invoke<number>("chat_send", { conversationId, text, sampling, onEvent: channel(onEvent) }),
  regenerate: (conversationId: number, sampling: Sampling | null, onEvent: (e: ChatEvent) => void) =>
    invoke<number>("chat_regenerate", { conversationId, sampling, onEvent: channel(onEvent) }),
  stop: (conversationId: number) => invoke<boolean>("chat_stop", { conversationId }),
  conversations: () => invoke<Conversation[]>("conversations_list"),
  messages: (conversationId: number) => invoke<Message[]>("conversation_messages", { conversationId }),
  search: (query: string) => invoke<SearchHit[]>("conversations_search", { query }),
  rename: (conversationId: number, title: string) => invoke<void>("conversation_rename", { conversationId, title }),
  remove: (conversationId: number) => invoke<void>("conversation_delete", { conversationId }),
  status: () => invoke<Status>("engine_status"),
  pause: () => invoke<void>("engine_pause"),
  resume: () => invoke<void>("engine_resume"),
  models: () => invoke<ModelsOverview>("models_overview"),
  selectModel: (path: string) => invoke<void>("model_select", { path }),
  download: (source: string, sha256: string | null) => invoke<DownloadUpdate>("model_download", { source, sha256 }),
  pauseDownload: (id: number) => invoke<void>("download_pause", { id }),
  resumeDownload: (id: number) => invoke<DownloadUpdate>("download_resume", { id }),
  removeDownload: (id: number) => invoke<void>("download_remove", { id }),
  importModel: (path: string) => invoke<string>("model_import", { path }),
  pickModelFile: () => invoke<string | null>("model_import_pick"),
  setTaskModel: (task: Task, path: string | null) => invoke<void>("model_task_set", { task, path }),
  deleteModel: (id: string) => invoke<void>("model_delete", { id }),
  inbox: (query: string | null) => invoke<InboxView>("inbox_list", { query }),
  correctTriage: (messageId: number, category: string | null, priority: MailPriority | null) =>
    invoke<TriageRecord>("triage_correct", { messageId, category, priority }),
  triageNow: (onEvent: (e: TriageEvent) => void) => invoke<void>("triage_now", { onEvent: channel(onEvent) }),
  mailStatus: () => invoke<MailStatus>("mail_status"),
  mailOptions: () => invoke<MailOptions>("mail_options"),
  setMailOptions: (options: MailOptions) => invoke<void>("mail_options_set", { options }),
  accounts: () => invoke<ImapAccount[]>("accounts_list"),
  addAccount: (account: ImapAccount, password: string) => invoke<number>("account_add", { account, password }),
  removeAccount: (name: string) => invoke<void>("account_remove", { name }),
  testAccount: (name: string) => invoke<number>("account_test", { name }),
  settings: () => invoke<SettingsView>("settings_get"),
  saveSettings: (settings: Settings) => invoke<void>("settings_set", { settings }),
  openMain: (conversationId: number | null, view: string | null = null) =>
    invoke<void>("open_main", { conversationId, view }),
  hidePopup: () => invoke<void>("popup_hide"),
  summarize: (target: SummarizeTarget, length: SummaryLength, redo: boolean, onEvent: (e: DocEvent) => void) =>
    invoke<number>("documents_summarize", { target, length, redo, onEvent: channel(onEvent) }),
  cancelSummary: (runId: number) => invoke<boolean>("documents_cancel", { runId }),
  documents: (query: string | null) => invoke<DocumentRow[]>("documents_list", { query }),
  document: (documentId: number) => invoke<DocumentDetail>("document_get", { documentId }),
  deleteDocument: (documentId: number) => invoke<void>("document_delete", { documentId }),
  documentChat: (documentId: number) => invoke<number>("document_chat", { documentId }),
  onStatus: (f: (s: Status) => void): Promise<UnlistenFn> => listen<Status>("engine-state", (e) => f(e.payload)),
  on: <T>(event: string, f: (payload: T) => void): Promise<UnlistenFn> => listen<T>(event, (e) => f(e.payload)),
};

/// Errors from commands arrive as strings (the Rust side serializes the message).
export function errorText(e: unknown): string {
  return typeof e === "string" ? e : e instanceof Error ? e.message : JSON.stringify(e);
}
