// Typed wrappers over the shell's commands. The page never touches the filesystem or
// the network: everything goes through these. The types are generated from the Rust
// ones (types.gen.ts); only the names the pages use differently are defined here.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  ApiStatus,
  AskEvent,
  AppSettings,
  ChatEvent,
  Conversation,
  DocEvent,
  DocumentDetail,
  DocumentRow,
  DownloadUpdate,
  ImapAccount,
  InboxView,
  MailOptions,
  MailStatus,
  Memory,
  MemorySettings,
  ModelsOverview,
  Navigate,
  Priority4,
  SamplingOverrides,
  FoundHit,
  SearchKind,
  SettingsView,
  StatusView,
  StoredMessage,
  SummarizeTarget,
  Tier,
  TierChoice,
  SummaryLength,
  Task,
  TiersView,
  TriageEvent,
  TriageRecord,
} from "./types.gen";

export type * from "./types.gen";

function channel<T>(onEvent: (e: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onEvent;
  return ch;
}

export const api = {
  send: (
    conversationId: number | null,
    text: string,
    sampling: SamplingOverrides | null,
    onEvent: (e: ChatEvent) => void,
    tier: TierChoice | null = null,
  ) => invoke<number>("chat_send", { conversationId, text, sampling, tier, onEvent: channel(onEvent) }),
  /** Replaces the last answer; `tier` asks another tier this once. */
  regenerate: (
    conversationId: number,
    sampling: SamplingOverrides | null,
    onEvent: (e: ChatEvent) => void,
    tier: Tier | null = null,
  ) => invoke<number>("chat_regenerate", { conversationId, sampling, tier, onEvent: channel(onEvent) }),
  tiers: () => invoke<Tier[]>("chat_tiers"),
  /** Answers from the user's files with citations; kept in the conversation. */
  askFiles: (conversationId: number | null, text: string, onEvent: (e: AskEvent) => void) =>
    invoke<number>("ask_send", { conversationId, text, onEvent: channel(onEvent) }),
  memories: () => invoke<Memory[]>("memory_list"),
  memoryAdd: (text: string) => invoke<Memory>("memory_add", { text }),
  memoryEdit: (id: number, text: string) => invoke<Memory>("memory_edit", { id, text }),
  memoryKeep: (id: number) => invoke<Memory>("memory_keep", { id }),
  memoryDelete: (id: number) => invoke<void>("memory_delete", { id }),
  memoryForgetAll: () => invoke<number>("memory_forget_all"),
  memorySettings: () => invoke<MemorySettings>("memory_settings"),
  memorySettingsSet: (settings: MemorySettings) => invoke<void>("memory_settings_set", { settings }),
  stop: (conversationId: number) => invoke<boolean>("chat_stop", { conversationId }),
  conversations: () => invoke<Conversation[]>("conversations_list"),
  messages: (conversationId: number) => invoke<StoredMessage[]>("conversation_messages", { conversationId }),
  search: (query: string, kind: SearchKind | null) => invoke<FoundHit[]>("search_everything", { query, kind }),
  rename: (conversationId: number, title: string) => invoke<void>("conversation_rename", { conversationId, title }),
  remove: (conversationId: number) => invoke<void>("conversation_delete", { conversationId }),
  status: () => invoke<StatusView>("engine_status"),
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
  deleteModel: (id: string) => invoke<void>("model_delete", { id }),
  inbox: (query: string | null) => invoke<InboxView>("inbox_list", { query }),
  correctTriage: (messageId: number, category: string | null, priority: Priority4 | null) =>
    invoke<TriageRecord>("triage_correct", { messageId, category, priority }),
  forgetMail: (messageId: number) => invoke<void>("mail_forget", { messageId }),
  triageNow: (onEvent: (e: TriageEvent) => void) => invoke<void>("triage_now", { onEvent: channel(onEvent) }),
  mailStatus: () => invoke<MailStatus>("mail_status"),
  mailOptions: () => invoke<MailOptions>("mail_options"),
  setMailOptions: (options: MailOptions) => invoke<void>("mail_options_set", { options }),
  accounts: () => invoke<ImapAccount[]>("accounts_list"),
  addAccount: (account: ImapAccount, password: string) => invoke<number>("account_add", { account, password }),
  removeAccount: (name: string) => invoke<void>("account_remove", { name }),
  testAccount: (name: string) => invoke<number>("account_test", { name }),
  settings: () => invoke<SettingsView>("settings_get"),
  saveSettings: (settings: AppSettings) => invoke<void>("settings_set", { settings }),
  apiStatus: () => invoke<ApiStatus>("api_status"),
  tierSettings: () => invoke<TiersView>("tiers_get"),
  setWorkhorse: (path: string | null, idleMinutes: number) =>
    invoke<TiersView>("tiers_workhorse_set", { path, idleMinutes }),
  setTaskTier: (task: Task, tier: TierChoice) => invoke<TiersView>("tiers_task_set", { task, tier }),
  setRemote: (baseUrl: string, model: string, key: string | null) =>
    invoke<TiersView>("tiers_remote_set", { baseUrl, model, key }),
  removeRemote: () => invoke<TiersView>("tiers_remote_off"),
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
  onStatus: (f: (s: StatusView) => void): Promise<UnlistenFn> => listen<StatusView>("engine-state", (e) => f(e.payload)),
  onNavigate: (f: (n: Navigate) => void): Promise<UnlistenFn> => listen<Navigate>("navigate", (e) => f(e.payload)),
  on: <T>(event: string, f: (payload: T) => void): Promise<UnlistenFn> => listen<T>(event, (e) => f(e.payload)),
};

/// Errors from commands arrive as strings (the Rust side serializes the message).
export function errorText(e: unknown): string {
  return typeof e === "string" ? e : e instanceof Error ? e.message : JSON.stringify(e);
}
