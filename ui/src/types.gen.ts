// Generated from the Rust types by src-tauri/src/types.rs (ts-rs): do not edit.
// BANTAM_WRITE_TYPES=1 cargo test -p bantam-app types writes it anew.

export type EngineState = { "state": "no_model" } | { "state": "loading", model: string, progress: number, } | { "state": "ready", model: string, 
/**
 * The file loaded (two downloads of one model can share a name).
 */
path: string, quantization: string, parameters: number, } | { "state": "paused", model: string, } | { "state": "error", model: string, message: string, };

export type StatusView = { active: number, queued: number, summary: string, } & ({ "state": "no_model" } | { "state": "loading", model: string, progress: number, } | { "state": "ready", model: string, 
/**
 * The file loaded (two downloads of one model can share a name).
 */
path: string, quantization: string, parameters: number, } | { "state": "paused", model: string, } | { "state": "error", model: string, message: string, });

export type Tier = "small" | "workhorse" | "remote";

export type TierChoice = "auto" | "small" | "workhorse" | "remote";

export type RouteBy = "user" | "only_tier" | "signal" | "model";

export type Decision = { 
/**
 * The tier that answered.
 */
tier: Tier, 
/**
 * The tier decided on, when a fallback answered instead.
 */
wanted?: Tier | null, by: RouteBy, reason: string, 
/**
 * The small model's lean to the bigger tier (0–1), when it decided.
 */
score?: number | null, 
/**
 * What deciding cost (the small model's generation; ~0 for the others).
 */
decision_ms: number, 
/**
 * Why a fallback answered: shown with the answer.
 */
note?: string | null, };

export type Task = "chat" | "documents" | "triage" | "redaction";

export type TaskTiers = { chat: TierChoice, documents: Tier, triage: Tier, redaction: Tier, };

export type RemoteEndpoint = { base_url: string, model: string, };

export type TierSettings = { 
/**
 * A bigger local GGUF, loaded when a request is routed to it.
 */
workhorse: string | null, 
/**
 * Unloaded after this many idle minutes (its memory back to the machine).
 */
workhorse_idle_minutes: number, remote: RemoteEndpoint | null, 
/**
 * Where each kind of work runs.
 */
tasks: TaskTiers, };

export type TiersView = { settings: TierSettings, 
/**
 * A key for the remote endpoint is kept (the key itself never reaches a page).
 */
remote_key: boolean, };

export type Conversation = { id: number, title: string, model: string | null, system_prompt: string | null, 
/**
 * Which tier answers it: the router's choice (`auto`) or a pinned tier.
 */
tier_choice: TierChoice, created_at: number, updated_at: number, 
/**
 * Filled by listings.
 */
message_count: number, };

export type StoredMessage = { id: number, conversation_id: number, role: string, content: string, model: string | null, prompt_tokens: number | null, cached_tokens: number | null, generated_tokens: number | null, ttft_ms: number | null, tokens_per_s: number | null, finish_reason: string | null, 
/**
 * For answers: where it was made and why.
 */
route: Decision | null, created_at: number, };

export type MemoryStatus = "proposed" | "kept";

export type Memory = { id: number, text: string, status: MemoryStatus, 
/**
 * The message it came from, and that message's conversation (gone: `None`).
 */
source_message_id: number | null, source_conversation_id: number | null, created_at: number, updated_at: number, 
/**
 * How many prompts it was put in, and when last.
 */
uses: number, last_used_at: number | null, };

export type MemorySettings = { 
/**
 * Propose facts from the user's messages.
 */
propose: boolean, 
/**
 * Keep proposed facts without asking.
 */
auto_keep: boolean, };

export type ChatEvent = { "type": "started", conversation_id: number, prompt_tokens: number, cached_tokens: number, dropped_messages: number, 
/**
 * Where the answer is made and why (the badge).
 */
route: Decision, model: string, 
/**
 * The facts from the memory of the user the answer was given.
 */
recalled: Array<Memory>, } | { "type": "token", text: string, } | { "type": "done", text: string, finish_reason: string, generated_tokens: number, tokens_per_s: number, time_to_first_token_ms: number, } | { "type": "failed", message: string, } | { "type": "remember", memories: Array<Memory>, };

export type SamplingOverrides = { temperature?: number, max_tokens?: number, system_prompt?: string, };

export type AskSource = { n: number, 
/**
 * "message", "chunk", "memory" or "mail".
 */
kind: "message" | "chunk" | "memory" | "mail", 
/**
 * The conversation (a message's, or the one a memory came from: 0 when none), the
 * document or the mail message it opens.
 */
parent_id: number, title: string, page: number | null, 
/**
 * "fhs-3.0.pdf · p. 38", "chat · Title", "memory".
 */
place: string, 
/**
 * The passage's start.
 */
snippet: string, 
/**
 * Whether the answer cites it.
 */
cited: boolean, };

export type WholeRead = { document_id: number, document: string, parts: number, items: number, };

export type AskEvent = { "type": "indexing", done: number, total: number, } | { "type": "reading", done: number, total: number, } | { "type": "token", text: string, } | { "type": "done", 
/**
 * "answered", "nothing_close", "not_in_sources" or "uncited".
 */
outcome: "answered" | "nothing_close" | "not_in_sources" | "uncited", 
/**
 * The message as kept in the conversation.
 */
text: string, 
/**
 * Every passage given to the model, the cited ones marked.
 */
sources: Array<AskSource>, 
/**
 * Whether the vectors took part (else words only: no embedding model).
 */
by_meaning: boolean, 
/**
 * Set when the question was about a whole document, which was read instead.
 */
whole: WholeRead | null, } | { "type": "stopped" } | { "type": "failed", message: string, };

export type SearchKind = "chat" | "doc" | "mail" | "memory";

export type FoundHit = { kind: "message" | "chunk" | "memory" | "mail", 
/**
 * What it opens: the conversation, the document, the mail message (for a memory, the
 * conversation it came from, 0 when none).
 */
parent_id: number, 
/**
 * Where it is, next to its kind: "fhs-3.0.pdf · p. 38", the conversation's title,
 * the mail's subject, "Memory".
 */
place: string, 
/**
 * The matched words in `[brackets]`, or the passage's start for a match by meaning.
 */
snippet: string, 
/**
 * Found by its words, by its meaning, or both.
 */
by_words: boolean, by_meaning: boolean, };

export type AppSettings = { 
/**
 * The quick-ask shortcut, in the global-hotkey crate's syntax; `None` disables it.
 */
hotkey: string | null, 
/**
 * Tokens per conversation.
 */
context_size: number, 
/**
 * Layers offloaded to a GPU; `None` offloads all of them (ignored on CPU builds).
 */
gpu_layers: number | null, 
/**
 * `system`, `light` or `dark`.
 */
theme: "system" | "light" | "dark", launch_at_login: boolean, 
/**
 * Serve the OpenAI-compatible API from the app's process (off until the user turns
 * it on: other programs then share the loaded model).
 */
api_enabled: boolean, 
/**
 * Its port on 127.0.0.1.
 */
api_port: number, };

export type SettingsView = { default_model: string | null, data_dir: string, 
/**
 * Why the hotkey is not active, when the OS refused it.
 */
hotkey_error: string | null, 
/**
 * The quick-ask shortcut, in the global-hotkey crate's syntax; `None` disables it.
 */
hotkey: string | null, 
/**
 * Tokens per conversation.
 */
context_size: number, 
/**
 * Layers offloaded to a GPU; `None` offloads all of them (ignored on CPU builds).
 */
gpu_layers: number | null, 
/**
 * `system`, `light` or `dark`.
 */
theme: "system" | "light" | "dark", launch_at_login: boolean, 
/**
 * Serve the OpenAI-compatible API from the app's process (off until the user turns
 * it on: other programs then share the loaded model).
 */
api_enabled: boolean, 
/**
 * Its port on 127.0.0.1.
 */
api_port: number, };

export type ApiStatus = { 
/**
 * Where it listens, while it runs (`http://127.0.0.1:8931/v1`).
 */
url: string | null, 
/**
 * The bearer token clients send, for the Copy button.
 */
token: string | null, 
/**
 * Why it is not running although turned on (the port is taken, …).
 */
error: string | null, };

export type Navigate = { conversation: number | null, view: string | null, };

export type Fit = "gpu" | "ram" | "too_big";

export type MemoryEstimate = { weights: number, 
/**
 * A second, re-laid-out copy of some weights that llama.cpp's CPU backend makes on
 * x86-64 for faster matrix products (Q4_0 and Q4_K tensors). The mapped originals stay
 * resident too until the system needs the memory.
 */
repacked: number, kv_cache: number, 
/**
 * Compute and output buffers as far as they are touched.
 */
buffers: number, 
/**
 * What the process really holds once loaded and used on the CPU (weights, repacked
 * copies, KV cache, buffers).
 */
total: number, 
/**
 * What a GPU must have free: llama.cpp reserves the worst-case compute buffer (a whole
 * micro-batch of logits) up front in device memory, where on the CPU those pages are
 * never touched because the engine only asks for each sequence's last logits.
 */
gpu_total: number, };

export type Verdict = { fit: Fit, estimate: MemoryEstimate, 
/**
 * One line for a person: why this verdict.
 */
reason: string, };

export type Gpu = { name: string, description: string, 
/**
 * The llama.cpp backend that drives it: `CUDA`, `Metal`, `Vulkan`, …
 */
backend: string, memory_total: number, memory_free: number, 
/**
 * Shares system memory (Apple Silicon, most laptop iGPUs).
 */
integrated: boolean, };

export type Hardware = { total_ram: number, 
/**
 * What can be had now without swapping (free plus reclaimable cache).
 */
available_ram: number, cpu_threads: number, 
/**
 * The GPU backend compiled in (`metal`, `cuda`, `vulkan`), or `cpu`.
 */
backend: string, gpus: Array<Gpu>, };

export type Budget = { 
/**
 * Tokens per slot.
 */
context_size: number, parallel: number, 
/**
 * Micro-batch size (the engine uses its batch size).
 */
ubatch: number, };

export type ModelListing = { 
/**
 * Catalogue id, or the file's stem for imported models.
 */
id: string, name: string, 
/**
 * `tiny` / `small` / `workhorse`, or `imported`.
 */
tier: string, params: string, quantization: string, size_bytes: number, license: string | null, best_for: string | null, 
/**
 * Where the file is, when it is on this machine.
 */
path: string | null, 
/**
 * The model loaded when none is named.
 */
default: boolean, 
/**
 * The suggestion for its tier on this machine.
 */
recommended: boolean, 
/**
 * A catalogue model that can be downloaded (it has a URL or PyPI wheels, or a mirror
 * is set).
 */
downloadable: boolean, fit: Verdict | null, };

export type DownloadStatus = "queued" | "downloading" | "paused" | "failed" | "done";

export type Phase = "checking" | "downloading" | "verifying" | "done";

export type DownloadUpdate = { id: number, file_name: string, catalog_id: string | null, status: DownloadStatus, phase: Phase | null, downloaded: number, total: number | null, rate: number, eta_seconds: number | null, notice: string | null, error: string | null, error_kind: string | null, };

export type ModelsOverview = { hardware: Hardware, budget: Budget, models: Array<ModelListing>, downloads: Array<DownloadUpdate>, 
/**
 * The model the engine loads now.
 */
current: string | null, };

export type Priority4 = "urgent" | "high" | "normal" | "low";

export type DecidedBy = "rule" | "learned" | "headers" | "filter" | "model";

export type ActionItem = { text: string, due: string | null, };

export type TriageRecord = { category: string, priority: Priority4, needs_reply: boolean, action_items: Array<ActionItem>, summary: string, 
/**
 * The folder/label it would go to: `Triage/<Category>`.
 */
route: string, reason: string, decided_by: DecidedBy, };

export type InboxEntry = { message_id: number, key: string, from: string | null, subject: string, date: string | null, record: TriageRecord, 
/**
 * The local reply draft, when one was written.
 */
draft: string | null, };

export type InboxView = { items: Array<InboxEntry>, categories: Array<string>, accounts: number, };

export type MailStatus = { running: boolean, 
/**
 * Messages triaged in this run, of `total` fetched so far.
 */
done: number, total: number, 
/**
 * Milliseconds since the epoch.
 */
last_finished: number | null, 
/**
 * New messages the last run triaged (not counting ones stored before).
 */
last_new: number, last_error: string | null, next_run: number | null, };

export type MailOptions = { every_minutes: number, notify_urgent: boolean, drafts: boolean, };

export type TriageEvent = { "type": "account", name: string, } | { "type": "record", item: InboxEntry, cached: boolean, } | { "type": "failed", message: string, } | { "type": "done", account: string, fetched: number, } | { "type": "finished" };

export type Security = "tls" | "starttls";

export type ImapAccount = { name: string, host: string, port: number, security: Security, user: string, folder: string, 
/**
 * A CA certificate (PEM) to trust besides the public roots: a self-hosted server.
 */
ca_file: string | null, 
/**
 * Move triaged mail into its route's folder (`Triage/<Category>`) on the server.
 * Off unless the user turns it on; the folder is never taken from the mail.
 */
move_to_route: boolean, };

export type DocumentType = "invoice" | "contract" | "paper" | "letter" | "report" | "manual" | "article" | "email" | "notes" | "other";

export type ExtractedMetadata = { title: string, authors: Array<string>, dates: Array<string>, document_type: DocumentType, language: string, people: Array<string>, organizations: Array<string>, places: Array<string>, key_numbers: Array<string>, key_points: Array<string>, };

export type DocumentMetadata = { file_name: string, format: string, size_bytes: number, sha256: string, words: number, pages: number | null, chunks: number, model: string, title: string, authors: Array<string>, dates: Array<string>, document_type: DocumentType, language: string, people: Array<string>, organizations: Array<string>, places: Array<string>, key_numbers: Array<string>, key_points: Array<string>, };

export type StoredDocument = { id: number, sha256: string, path: string, name: string, format: string, size_bytes: number, pages: number | null, words: number, 
/**
 * JSON of the extracted metadata, once done.
 */
metadata: string | null, chunk_model: string | null, created_at: number, updated_at: number, };

export type DocumentRow = { title: string | null, id: number, sha256: string, path: string, name: string, format: string, size_bytes: number, pages: number | null, words: number, 
/**
 * JSON of the extracted metadata, once done.
 */
metadata: string | null, chunk_model: string | null, created_at: number, updated_at: number, };

export type SummaryLength = "tldr" | "short" | "bullets";

export type StoredSummary = { document_id: number, length: string, text: string, model: string, created_at: number, };

export type DocumentDetail = { document: StoredDocument, metadata: DocumentMetadata | null, summaries: Array<StoredSummary>, };

export type SummarizeTarget = { path?: string, document_id?: number, clipboard?: boolean, };

export type DocEvent = { "type": "ingested", document_id: number, name: string, format: string, pages: number | null, words: number, chunks: number, } | { "type": "mapped", done: number, total: number, } | { "type": "token", text: string, } | { "type": "metadata", metadata: DocumentMetadata, } | { "type": "done", document_id: number, text: string, cached: boolean, chunks: number, mapped: number, } | { "type": "failed", message: string, };
