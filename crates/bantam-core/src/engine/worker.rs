//! The engine thread: owns the llama.cpp model and context, admits requests into slots,
//! and decodes all active slots together, one `llama_decode` per step.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::session::{LlamaStateSeqFlags, SeqState};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{mpsc, oneshot};

use super::prompt_cache::{common_prefix, PromptCache};
use super::sampler::TokenSampler;
use super::text::{find_stop, held_back, Utf8Buffer};
use super::types::*;
use super::{logs, Command, Counters, EngineConfig, ModelInfo};
use crate::error::{Error, Result};
use crate::models::gguf::GgufHeader;

static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();

pub(crate) fn backend() -> Result<&'static LlamaBackend> {
    BACKEND
        .get_or_init(|| {
            logs::install();
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Backend(e.clone()))
}

type Progress = Box<dyn FnMut(f32) + Send>;

pub(crate) fn run(
    config: EngineConfig,
    rx: mpsc::UnboundedReceiver<Command>,
    ready: oneshot::Sender<Result<(ModelInfo, Tokenizer)>>,
    counters: Arc<Counters>,
    progress: Progress,
) {
    let loaded = backend().and_then(|backend| load_model(backend, &config, progress));
    let (model, info) = match loaded {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let ctx = match new_context(backend_ref(), &model, &config, &info) {
        Ok(ctx) => ctx,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let template = match config.chat_template.as_deref() {
        Some(t) => LlamaChatTemplate::new(t).ok(),
        None => model.chat_template(None).ok(),
    };
    let mut worker = Worker {
        n_ctx: ctx.n_ctx() as usize / config.parallel.max(1),
        n_batch: ctx.n_batch() as usize,
        batch: LlamaBatch::new(ctx.n_batch() as usize, 1),
        slots: (0..config.parallel.max(1))
            .map(|i| Slot {
                seq: i as i32,
                cache: Vec::new(),
                last_used: 0,
                active: None,
            })
            .collect(),
        model: &model,
        ctx,
        template,
        pending: VecDeque::new(),
        rx,
        counters,
        tick: 0,
        closing: None,
        prompt_cache: PromptCache::new(config.prompt_cache_mib.saturating_mul(1 << 20)),
    };
    // The tokenizer callers use off this thread: its own vocabulary-only copy, so that
    // holding it never keeps the weights in memory after the engine unloads.
    let tokenizer = match Tokenizer::load(&config.model_path) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ready.send(Ok((info, tokenizer))).is_err() {
        return;
    }
    worker.serve();
}

fn backend_ref() -> &'static LlamaBackend {
    // `run` only gets here after `backend()` succeeded.
    match BACKEND.get() {
        Some(Ok(b)) => b,
        _ => unreachable!("backend initialised before the context"),
    }
}

fn load_model(
    backend: &LlamaBackend,
    config: &EngineConfig,
    mut progress: Progress,
) -> Result<(LlamaModel, ModelInfo)> {
    let path = config.model_path.as_path();
    // Our own header check first: a clear reason for corrupt or truncated files.
    let header = GgufHeader::read(path)?;
    let file = header.info();
    let gpu_layers = if backend.supports_gpu_offload() {
        config.gpu_layers.unwrap_or(999)
    } else {
        0
    };
    let params = LlamaModelParams::default()
        .with_n_gpu_layers(gpu_layers)
        .with_progress_callback(move |p| {
            progress(p);
            true
        });
    logs::clear_recent();
    let model =
        LlamaModel::load_from_file(backend, path, &params).map_err(|e| load_error(path, &file.architecture, e))?;
    let threads = config
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(4));
    let info = ModelInfo {
        path: path.to_path_buf(),
        name: file.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        architecture: file.architecture.clone(),
        parameters: model.n_params(),
        size_bytes: file.file_size,
        quantization: file.quantization.clone(),
        train_context: model.n_ctx_train(),
        context_size: config.context_size,
        parallel: config.parallel.max(1),
        threads,
        gpu_layers: gpu_layers.min(model.n_layer() + 1),
        has_chat_template: config.chat_template.is_some() || model.chat_template(None).is_ok(),
        tool_template: tool_template(&model, config),
    };
    Ok((model, info))
}

/// The model's own template for tool turns, unless another one was configured.
fn tool_template(model: &LlamaModel, config: &super::EngineConfig) -> Option<crate::tools::ChatTemplate> {
    if config.chat_template.is_some() {
        return None;
    }
    let source = model.chat_template(None).ok()?.to_string().ok()?;
    let vocab = model.vocab();
    let text = |t: LlamaToken| String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned();
    crate::tools::ChatTemplate::hermes(&source, &text(vocab.bos()), &text(vocab.eos()))
}

/// Header check plus a vocabulary-only load by llama.cpp: catches unknown architectures
/// and broken tokenizers without reading the weights.
pub(crate) fn check_loadable(path: &Path) -> Result<crate::models::gguf::ModelFileInfo> {
    let info = GgufHeader::read(path)?.info();
    let backend = backend()?;
    logs::clear_recent();
    let params = LlamaModelParams::default().with_vocab_only(true);
    LlamaModel::load_from_file(backend, path, &params).map_err(|e| load_error(path, &info.architecture, e))?;
    Ok(info)
}

/// The model's tokenizer without its weights, for callers that count tokens off the engine
/// thread (the chunker asks for hundreds of counts per document). The engine loads one
/// with its model and hands it out ([`super::Engine::tokenizer`]); `load` is for work
/// that needs no engine.
pub struct Tokenizer {
    model: LlamaModel,
}

impl Tokenizer {
    /// Loads the vocabulary of a GGUF file. Blocking; milliseconds even for 8B models.
    pub fn load(path: &Path) -> Result<Self> {
        let info = GgufHeader::read(path)?.info();
        let backend = backend()?;
        let params = LlamaModelParams::default().with_vocab_only(true);
        let model =
            LlamaModel::load_from_file(backend, path, &params).map_err(|e| load_error(path, &info.architecture, e))?;
        Ok(Self { model })
    }

    /// A sampler over this vocabulary, as a request would get one (benchmarks drive it
    /// with their own logits).
    pub fn sampler(&self, sampling: &Sampling, constraint: Option<&Constraint>) -> Result<TokenSampler> {
        TokenSampler::new(&self.model, sampling, constraint)
    }

    /// How many tokens the vocabulary has (the length of one position's logits).
    pub fn vocab_size(&self) -> usize {
        self.model.n_vocab() as usize
    }

    pub fn tokenize(&self, text: &str) -> Vec<i32> {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .into_iter()
            .map(|t| t.0)
            .collect()
    }
}

impl crate::ingest::TokenCounter for Tokenizer {
    fn count(&self, text: &str) -> usize {
        self.model.vocab().tokenize(text.as_bytes(), false, false).len()
    }

    /// From the tokens' own bytes; `None` when they do not add up to the text (tokenizers
    /// that add a leading space or normalise).
    fn token_starts(&self, text: &str) -> Option<Vec<usize>> {
        let vocab = self.model.vocab();
        let mut starts = Vec::new();
        let mut at = 0;
        let mut piece = Vec::with_capacity(32);
        for token in vocab.tokenize(text.as_bytes(), false, false) {
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            if text.as_bytes().get(at..at + piece.len()) != Some(piece.as_slice()) {
                return None;
            }
            starts.push(at);
            at += piece.len();
        }
        (at == text.len()).then_some(starts)
    }
}

pub(crate) fn load_error(path: &Path, architecture: &str, e: impl std::fmt::Display) -> Error {
    let log = logs::recent_errors();
    let reason = if log.iter().any(|l| l.contains("unknown model architecture")) {
        format!("this build of llama.cpp does not support the model architecture '{architecture}'")
    } else if let Some(line) = log.iter().rev().find(|l| l.contains("error loading model")) {
        line.trim_start_matches("llama_model_load: ").to_string()
    } else if !log.is_empty() {
        log.join("; ")
    } else {
        e.to_string()
    };
    Error::ModelLoad {
        path: path.to_path_buf(),
        reason,
    }
}

fn new_context<'m>(
    _backend: &LlamaBackend,
    model: &'m LlamaModel,
    config: &EngineConfig,
    info: &ModelInfo,
) -> Result<LlamaContext<'m>> {
    let per_slot = config.context_size.max(64);
    let n_ctx = per_slot.saturating_mul(info.parallel as u32);
    let n_batch = config.batch_size.clamp(32, n_ctx);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(n_batch)
        .with_n_ubatch(n_batch)
        .with_n_seq_max(info.parallel as u32)
        // One KV stream per slot: a sequence's attention then never sees another's cells,
        // which keeps batched answers bit-identical to solo ones (a unified cache changed
        // the summation order and flipped near-tied tokens; see docs/engine.md).
        .with_kv_unified(false)
        .with_flash_attention_policy(match config.flash_attention {
            None => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
            Some(true) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
            Some(false) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
        })
        .with_n_threads(info.threads as i32)
        .with_n_threads_batch(info.threads as i32);
    logs::clear_recent();
    model.new_context(backend_ref(), params).map_err(|e| Error::ModelLoad {
        path: info.path.clone(),
        reason: format!(
            "could not create a context of {per_slot} tokens × {} slots: {e} {}",
            info.parallel,
            logs::recent_errors().join("; ")
        ),
    })
}

/// A cached prefix shorter than this does not decide which slot a request takes — unless
/// it is most of a short prompt: the few tokens saved (or kept for someone else) are worth
/// less than keeping busy slots together (see `choose_slot`).
const MIN_REUSE: usize = 32;

/// A request that passed preparation and waits for a slot.
struct Prepared {
    id: u64,
    events: mpsc::UnboundedSender<Event>,
    arrived: Instant,
    priority: Priority,
    tokens: Vec<LlamaToken>,
    sampler: TokenSampler,
    sampling: Sampling,
    dropped_messages: usize,
    cache_prompt: bool,
}

struct Active {
    id: u64,
    events: mpsc::UnboundedSender<Event>,
    priority: Priority,
    sampler: TokenSampler,
    prompt: Vec<LlamaToken>,
    /// Index into `prompt` of the next token to prefill.
    next_prefill: usize,
    cached: usize,
    /// Sampled but not yet decoded.
    next_token: Option<LlamaToken>,
    /// Index in the current batch whose logits belong to this slot.
    logits_at: Option<i32>,
    max_tokens: usize,
    ignore_eos: bool,
    render_special: bool,
    /// Alternatives per position, when logprobs were asked for.
    logprobs: Option<usize>,
    /// Logprobs of tokens whose text has not been sent yet.
    unsent_logprobs: Vec<TokenLogprob>,
    all_logprobs: Vec<TokenLogprob>,
    stop: Vec<String>,
    generated: usize,
    utf8: Utf8Buffer,
    text: String,
    sent: usize,
    dropped_messages: usize,
    arrived: Instant,
    admitted: Instant,
    prefill_started: Option<Instant>,
    first_token: Option<Instant>,
    last_token: Option<Instant>,
}

struct Slot {
    seq: i32,
    /// Exactly the tokens in this sequence's KV cache, in position order.
    cache: Vec<LlamaToken>,
    last_used: u64,
    active: Option<Active>,
}

struct Worker<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: Option<LlamaChatTemplate>,
    n_ctx: usize,
    n_batch: usize,
    batch: LlamaBatch<'static>,
    slots: Vec<Slot>,
    pending: VecDeque<Prepared>,
    rx: mpsc::UnboundedReceiver<Command>,
    counters: Arc<Counters>,
    tick: u64,
    /// Set by `Shutdown`: running answers may go on until then.
    closing: Option<std::time::Instant>,
    /// Slots' prompts kept after another request took the slot.
    prompt_cache: PromptCache<SeqState>,
}

impl Worker<'_> {
    fn serve(&mut self) {
        loop {
            let busy = self.slots.iter().any(|s| s.active.is_some());
            if !busy && self.pending.is_empty() {
                match self.rx.blocking_recv() {
                    Some(cmd) => self.handle(cmd),
                    None => return,
                }
            }
            loop {
                match self.rx.try_recv() {
                    Ok(cmd) => self.handle(cmd),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        if !self.slots.iter().any(|s| s.active.is_some()) {
                            return;
                        }
                        break;
                    }
                }
            }
            if let Some(deadline) = self.closing {
                for p in self.pending.drain(..) {
                    let _ = p.events.send(Event::Failed(Error::Unloaded));
                }
                let running: Vec<usize> = (0..self.slots.len())
                    .filter(|&i| self.slots[i].active.is_some())
                    .collect();
                if running.is_empty() || std::time::Instant::now() >= deadline {
                    for i in running {
                        self.finish(i, FinishReason::Cancelled);
                    }
                    self.publish_counts();
                    return;
                }
            }
            self.admit();
            self.publish_counts();
            if self.slots.iter().any(|s| s.active.is_some()) {
                self.step();
                self.publish_counts();
            }
        }
    }

    fn publish_counts(&self) {
        let active = self.slots.iter().filter(|s| s.active.is_some()).count();
        self.counters.active.store(active, Ordering::Relaxed);
        self.counters.queued.store(self.pending.len(), Ordering::Relaxed);
        let idle = active == 0 && self.pending.is_empty();
        self.counters
            .idle
            .send_if_modified(|was| std::mem::replace(was, idle) != idle);
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Submit {
                id,
                request,
                events,
                arrived,
            } => match self.prepare(id, *request, events.clone(), arrived) {
                Ok(prepared) => self.pending.push_back(prepared),
                Err(e) => {
                    let _ = events.send(Event::Failed(e));
                }
            },
            Command::Cancel { id } => {
                if let Some(pos) = self.pending.iter().position(|p| p.id == id) {
                    if let Some(p) = self.pending.remove(pos) {
                        let _ = p.events.send(Event::Done(Completion {
                            text: String::new(),
                            finish_reason: FinishReason::Cancelled,
                            usage: Usage::default(),
                            timings: Timings::default(),
                            dropped_messages: p.dropped_messages,
                            logprobs: Vec::new(),
                        }));
                    }
                } else if let Some(i) = self
                    .slots
                    .iter()
                    .position(|s| s.active.as_ref().is_some_and(|a| a.id == id))
                {
                    self.finish(i, FinishReason::Cancelled);
                }
            }
            Command::ForgetPrompts { reply } => {
                self.prompt_cache.clear();
                for i in 0..self.slots.len() {
                    if self.slots[i].active.is_none() {
                        self.clear_slot(i);
                    }
                }
                let _ = reply.send(());
            }
            Command::Shutdown { grace } => {
                self.closing = Some(std::time::Instant::now() + grace);
            }
            Command::Tokenize {
                text,
                add_special,
                reply,
            } => {
                let tokens = self
                    .model
                    .vocab()
                    .tokenize(text.as_bytes(), add_special, true)
                    .into_iter()
                    .map(|t| t.0)
                    .collect();
                let _ = reply.send(tokens);
            }
        }
    }

    fn tokenize(&self, text: &str) -> Result<Vec<LlamaToken>> {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        // Some templates write the BOS text themselves; never feed it twice.
        let bos = vocab.bos();
        if tokens.len() >= 2 && tokens[0] == bos && tokens[1] == bos {
            tokens.remove(0);
        }
        Ok(tokens)
    }

    fn render(&self, messages: &[&ChatMessage]) -> Result<String> {
        let template = self.template.as_ref().ok_or(Error::NoChatTemplate)?;
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidRequest(format!("a message cannot be used: {e}")))?;
        self.model.apply_chat_template(template, &chat, true).map_err(|e| {
            Error::ChatTemplate(format!(
                "{e}; llama.cpp does not recognise this model's template — configure a known one \
                 (chatml, llama3, phi3, gemma, mistral-v7, …)"
            ))
        })
    }

    #[allow(clippy::type_complexity)]
    fn prepare(
        &self,
        id: u64,
        request: Request,
        events: mpsc::UnboundedSender<Event>,
        arrived: Instant,
    ) -> Result<Prepared> {
        let Request {
            input,
            sampling,
            constraint,
            priority,
            overflow,
            cache_prompt,
        } = request;
        if sampling.max_tokens == 0 {
            return Err(Error::InvalidRequest("max_tokens must be at least 1".into()));
        }
        if let Some(top) = sampling.logprobs.filter(|&n| n > MAX_TOP_LOGPROBS) {
            return Err(Error::InvalidRequest(format!(
                "at most {MAX_TOP_LOGPROBS} alternatives per token can be reported, not {top}"
            )));
        }
        // Room kept for the answer when deciding whether a prompt fits.
        let answer_room = sampling.max_tokens.min(self.n_ctx / 4).max(1);
        let (tokens, dropped) = match input {
            Input::Prompt(text) => {
                if text.is_empty() {
                    return Err(Error::InvalidRequest("the prompt is empty".into()));
                }
                (self.tokenize(&text)?, 0)
            }
            Input::Chat(messages) => self.chat_tokens(&messages, answer_room, overflow)?,
        };
        // A slot needs at least one token to take logits from (and admission keeps the
        // last prompt token out of the cached prefix).
        if tokens.is_empty() {
            return Err(Error::InvalidRequest("the prompt has no tokens".into()));
        }
        if tokens.len() + answer_room > self.n_ctx {
            return Err(Error::ContextOverflow {
                prompt_tokens: tokens.len(),
                context_size: self.n_ctx,
                reserved: answer_room,
            });
        }
        Ok(Prepared {
            id,
            events,
            arrived,
            priority,
            tokens,
            sampler: TokenSampler::new(self.model, &sampling, constraint.as_ref())?,
            sampling,
            dropped_messages: dropped,
            cache_prompt,
        })
    }

    /// Renders a chat; with `Overflow::DropOldest` leaves out whole old turns (never the
    /// system prompt or the last message) until it fits.
    fn chat_tokens(
        &self,
        messages: &[ChatMessage],
        answer_room: usize,
        overflow: Overflow,
    ) -> Result<(Vec<LlamaToken>, usize)> {
        if messages.is_empty() {
            return Err(Error::InvalidRequest("a chat needs at least one message".into()));
        }
        let system = messages.first().filter(|m| m.role == Role::System);
        let first = usize::from(system.is_some());
        let mut start = first;
        loop {
            let kept: Vec<&ChatMessage> = system.into_iter().chain(&messages[start..]).collect();
            let tokens = self.tokenize(&self.render(&kept)?)?;
            if tokens.len() + answer_room <= self.n_ctx || overflow == Overflow::Error {
                return Ok((tokens, start - first));
            }
            // Drop through the next user message so the kept history starts with a user turn.
            let next = messages[start + 1..]
                .iter()
                .position(|m| m.role == Role::User)
                .map(|p| start + 1 + p);
            match next {
                Some(n) if n < messages.len() => start = n,
                _ => {
                    return Err(Error::ContextOverflow {
                        prompt_tokens: tokens.len(),
                        context_size: self.n_ctx,
                        reserved: answer_room,
                    })
                }
            }
        }
    }

    /// Moves queued requests into free slots. Interactive requests go first; background
    /// work never takes the last free slot, so a chat always finds one.
    fn admit(&mut self) {
        loop {
            let background_active = self
                .slots
                .iter()
                .filter(|s| s.active.as_ref().is_some_and(|a| a.priority == Priority::Background))
                .count();
            let background_cap = self.slots.len().saturating_sub(1).max(1);
            let pick = self
                .pending
                .iter()
                .position(|p| p.priority == Priority::Interactive)
                .or_else(|| {
                    (background_active < background_cap)
                        .then(|| self.pending.iter().position(|p| p.priority == Priority::Background))
                        .flatten()
                });
            let Some(pick) = pick else { return };
            let reuse = self.pending[pick].cache_prompt;
            let busy = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.active.is_some())
                .map(|(i, _)| i);
            let busy = busy.clone().min().zip(busy.max());
            let idle: Vec<(usize, usize, u64)> = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.active.is_none())
                .map(|(i, s)| (i, common_prefix(&s.cache, &self.pending[pick].tokens), s.last_used))
                .collect();
            let candidate = choose_slot(&idle, busy, reuse, self.pending[pick].tokens.len());
            let Some((slot_index, common)) = candidate else {
                return;
            };
            let pending = &self.pending[pick];
            let common = if pending.cache_prompt {
                common.min(pending.tokens.len() - 1)
            } else {
                0
            };
            let Some(p) = self.pending.remove(pick) else { return };
            self.keep_in_memory(slot_index, common);
            let common = self.trim_slot(slot_index, common);
            let common = if p.cache_prompt {
                let common = self.copy_longer_prefix(slot_index, &p.tokens, common);
                self.restore_from_memory(slot_index, &p.tokens, common)
            } else {
                common
            };
            self.tick += 1;
            let now = Instant::now();
            let _ = p.events.send(Event::Started {
                prompt_tokens: p.tokens.len(),
                cached_tokens: common,
                dropped_messages: p.dropped_messages,
            });
            let slot = &mut self.slots[slot_index];
            slot.last_used = self.tick;
            slot.active = Some(Active {
                id: p.id,
                events: p.events,
                priority: p.priority,
                sampler: p.sampler,
                next_prefill: common,
                cached: common,
                prompt: p.tokens,
                next_token: None,
                logits_at: None,
                max_tokens: p.sampling.max_tokens,
                ignore_eos: p.sampling.ignore_eos,
                render_special: p.sampling.render_special,
                logprobs: p.sampling.logprobs,
                unsent_logprobs: Vec::new(),
                all_logprobs: Vec::new(),
                stop: p.sampling.stop,
                generated: 0,
                utf8: Utf8Buffer::default(),
                text: String::new(),
                sent: 0,
                dropped_messages: p.dropped_messages,
                arrived: p.arrived,
                admitted: now,
                prefill_started: None,
                first_token: None,
                last_token: None,
            });
        }
    }

    /// Keeps the first `keep` cached tokens of a slot and drops the rest from the KV cache.
    /// Returns how many were kept (0 if the model cannot drop a partial sequence).
    fn trim_slot(&mut self, index: usize, keep: usize) -> usize {
        let seq = self.slots[index].seq;
        let keep = if self.ctx.kv_cache_seq_rm(seq, Some(keep as u32), None).is_ok() {
            keep
        } else {
            let _ = self.ctx.kv_cache_seq_rm(seq, None, None);
            0
        };
        self.slots[index].cache.truncate(keep);
        keep
    }

    /// Another slot, busy or idle, may hold a longer start of this prompt than the chosen
    /// one: the shared instructions of a batch of triage requests, a chat's system prompt.
    /// Copying its KV cache is one memory copy; computing the tokens again is a forward
    /// pass over them. Returns how much of the prompt the slot now holds.
    fn copy_longer_prefix(&mut self, dst: usize, prompt: &[LlamaToken], common: usize) -> usize {
        let limit = prompt.len().saturating_sub(1);
        let best = self
            .slots
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != dst)
            .map(|(i, s)| (i, common_prefix(&s.cache, prompt).min(limit)))
            .max_by_key(|&(_, shared)| shared);
        let Some((src, shared)) = best.filter(|&(_, shared)| shared >= common + MIN_REUSE) else {
            return common;
        };
        // Between KV streams llama.cpp copies the source's whole stream (before the next
        // decode); the source's own tail is dropped from the copy right after.
        let (from, to) = (self.slots[src].seq, self.slots[dst].seq);
        if self.ctx.copy_kv_cache_seq(from, to, None, None).is_err() {
            return common;
        }
        self.slots[dst].cache = self.slots[src].cache.clone();
        self.trim_slot(dst, shared)
    }

    /// Before a slot's cache is cut back to `keep` tokens for another request, what would
    /// be lost is saved in the prompt cache when it is worth a later reuse.
    fn keep_in_memory(&mut self, index: usize, keep: usize) {
        let slot = &self.slots[index];
        if slot.cache.len().saturating_sub(keep) < MIN_REUSE || !self.prompt_cache.wants(&slot.cache) {
            return;
        }
        match self.ctx.state_seq_get(slot.seq, LlamaStateSeqFlags::empty()) {
            Ok(state) => {
                let bytes = state.byte_len();
                self.prompt_cache.insert(slot.cache.clone(), state, bytes);
            }
            Err(e) => tracing::debug!("a slot's prompt could not be kept in memory: {e}"),
        }
    }

    /// The prompt cache may hold a longer start of this prompt than the slot now does:
    /// restoring it is a copy, where computing it is a forward pass. Returns how much of
    /// the prompt the slot holds.
    fn restore_from_memory(&mut self, dst: usize, prompt: &[LlamaToken], common: usize) -> usize {
        let limit = prompt.len().saturating_sub(1);
        let Some((tokens, state, shared)) = self.prompt_cache.best(&prompt[..limit], common) else {
            return common;
        };
        let gain = shared - common;
        if gain < MIN_REUSE && 2 * gain < prompt.len() {
            return common;
        }
        let seq = self.slots[dst].seq;
        let _ = self.ctx.kv_cache_seq_rm(seq, None, None);
        if let Err(e) = self.ctx.state_seq_set(state, seq) {
            tracing::debug!("a kept prompt could not be restored: {e}");
            self.clear_slot(dst);
            return 0;
        }
        self.slots[dst].cache = tokens.to_vec();
        self.trim_slot(dst, shared)
    }

    fn clear_slot(&mut self, index: usize) {
        // Also used after a failed decode, when the cache's state is unknown.
        let _ = self.ctx.kv_cache_seq_rm(self.slots[index].seq, None, None);
        self.slots[index].cache.clear();
    }

    /// One `llama_decode`: the next token of every generating slot, then prompt chunks
    /// (interactive first) up to the batch size.
    fn step(&mut self) {
        self.batch.clear();
        let mut budget = self.n_batch;
        let mut failed_add = false;
        for slot in &mut self.slots {
            let Some(active) = slot.active.as_mut() else { continue };
            active.logits_at = None;
            if let Some(token) = active.next_token.take() {
                let pos = slot.cache.len() as i32;
                failed_add |= self.batch.add(token, pos, &[slot.seq], true).is_err();
                active.logits_at = Some(self.batch.n_tokens() - 1);
                slot.cache.push(token);
                budget = budget.saturating_sub(1);
            }
        }
        let mut order: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                self.slots[i]
                    .active
                    .as_ref()
                    .is_some_and(|a| a.next_prefill < a.prompt.len())
            })
            .collect();
        order.sort_by_key(|&i| self.slots[i].active.as_ref().map(|a| (a.priority, a.admitted)));
        for i in order {
            if budget == 0 {
                break;
            }
            let slot = &mut self.slots[i];
            let Some(active) = slot.active.as_mut() else { continue };
            let end = (active.next_prefill + budget).min(active.prompt.len());
            active.prefill_started.get_or_insert_with(Instant::now);
            for k in active.next_prefill..end {
                let last = k + 1 == active.prompt.len();
                let token = active.prompt[k];
                failed_add |= self
                    .batch
                    .add(token, slot.cache.len() as i32, &[slot.seq], last)
                    .is_err();
                slot.cache.push(token);
                if last {
                    active.logits_at = Some(self.batch.n_tokens() - 1);
                }
            }
            budget -= end - active.next_prefill;
            active.next_prefill = end;
        }
        if failed_add {
            self.fail_all("internal error: the batch overflowed");
            return;
        }
        if self.batch.n_tokens() == 0 {
            return;
        }
        if let Err(e) = self.ctx.decode(&mut self.batch) {
            self.fail_all(&format!("llama_decode failed: {e}"));
            return;
        }
        for i in 0..self.slots.len() {
            let Some(at) = self.slots[i].active.as_ref().and_then(|a| a.logits_at) else {
                continue;
            };
            self.sample(i, at);
        }
    }

    fn sample(&mut self, i: usize, at: i32) {
        let n_ctx = self.n_ctx;
        let slot = &mut self.slots[i];
        let Some(active) = slot.active.as_mut() else { return };
        let logits = self.ctx.get_logits_ith(at);
        let token = match active.sampler.sample(logits) {
            Ok(token) => token,
            Err(e) => {
                self.fail(i, e);
                return;
            }
        };
        if let Some(top) = active.logprobs.filter(|_| !self.model.vocab().is_eog(token)) {
            let (chosen, alternatives) = super::sampler::logprobs(logits, token.0, top);
            let choice = |t: LlamaToken, logprob: f32| {
                let bytes = self.model.vocab().token_to_piece(t, active.render_special, None);
                TokenChoice {
                    token: String::from_utf8_lossy(&bytes).into_owned(),
                    bytes,
                    logprob,
                }
            };
            let entry = TokenLogprob {
                chosen: choice(token, chosen),
                top: alternatives
                    .into_iter()
                    .map(|(t, l)| choice(LlamaToken(t), l))
                    .collect(),
            };
            active.unsent_logprobs.push(entry.clone());
            active.all_logprobs.push(entry);
        }
        let now = Instant::now();
        if active.first_token.is_none() {
            active.first_token = Some(now);
        }
        active.last_token = Some(now);
        if !active.ignore_eos && self.model.vocab().is_eog(token) {
            self.finish(i, FinishReason::Stop);
            return;
        }
        active.generated += 1;
        let bytes = self.model.vocab().token_to_piece(token, active.render_special, None);
        let before = active.text.len();
        active.utf8.push(&bytes, &mut active.text);
        if let Some(at) = find_stop(&active.text, &active.stop, before) {
            active.text.truncate(at);
            self.finish(i, FinishReason::StopString);
            return;
        }
        let safe = active.text.len() - held_back(&active.text, &active.stop);
        if safe > active.sent {
            let delta = active.text[active.sent..safe].to_string();
            active.sent = safe;
            if !active.unsent_logprobs.is_empty() {
                let _ = active
                    .events
                    .send(Event::Logprobs(std::mem::take(&mut active.unsent_logprobs)));
            }
            if active.events.send(Event::Token(delta)).is_err() {
                // Nobody is listening any more: free the slot.
                self.finish(i, FinishReason::Cancelled);
                return;
            }
        }
        if active.generated >= active.max_tokens || slot.cache.len() + 1 >= n_ctx {
            self.finish(i, FinishReason::Length);
            return;
        }
        active.next_token = Some(token);
    }

    fn finish(&mut self, i: usize, reason: FinishReason) {
        let Some(active) = self.slots[i].active.take() else {
            return;
        };
        self.slots[i].last_used = self.tick;
        // Counts first, so whoever sees Done also sees the slot free.
        self.publish_counts();
        // A slot cancelled mid-prefill keeps only what was decoded: `cache` already says so.
        let text = active.text;
        if reason != FinishReason::StopString && text.len() > active.sent {
            if !active.unsent_logprobs.is_empty() {
                let _ = active.events.send(Event::Logprobs(active.unsent_logprobs));
            }
            let _ = active.events.send(Event::Token(text[active.sent..].to_string()));
        }
        let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64() * 1000.0;
        let prefilled = active.next_prefill - active.cached;
        let mut timings = Timings {
            queue_ms: ms(active.arrived, active.admitted),
            ..Timings::default()
        };
        if let (Some(start), Some(first)) = (active.prefill_started, active.first_token) {
            timings.time_to_first_token_ms = ms(active.arrived, first);
            timings.prompt_ms = ms(start, first);
            if timings.prompt_ms > 0.0 {
                timings.prompt_tokens_per_s = prefilled as f64 / (timings.prompt_ms / 1000.0);
            }
        }
        if let (Some(first), Some(last)) = (active.first_token, active.last_token) {
            timings.generation_ms = ms(first, last);
            if timings.generation_ms > 0.0 && active.generated > 1 {
                timings.tokens_per_s = (active.generated - 1) as f64 / (timings.generation_ms / 1000.0);
            }
        }
        let _ = active.events.send(Event::Done(Completion {
            text,
            finish_reason: reason,
            usage: Usage {
                prompt_tokens: active.prompt.len(),
                cached_tokens: active.cached,
                prefilled_tokens: prefilled,
                generated_tokens: active.generated,
            },
            timings,
            dropped_messages: active.dropped_messages,
            logprobs: active.all_logprobs,
        }));
    }

    /// Ends one request with an error; the slot's cache stays valid, the others go on.
    fn fail(&mut self, i: usize, e: Error) {
        let Some(active) = self.slots[i].active.take() else {
            return;
        };
        self.slots[i].last_used = self.tick;
        self.publish_counts();
        let _ = active.events.send(Event::Failed(e));
    }

    /// After a failed decode the KV cache state is unknown: fail every active request and
    /// forget all caches, but keep serving.
    fn fail_all(&mut self, why: &str) {
        for i in 0..self.slots.len() {
            if let Some(active) = self.slots[i].active.take() {
                let _ = active.events.send(Event::Failed(Error::Inference(why.to_string())));
            }
            self.clear_slot(i);
        }
    }
}

/// The slot for a request, of the idle ones as (index, prefix shared with the request,
/// last used): the one sharing the longest prefix worth reusing; on ties the one that keeps
/// the busy slots (`busy`: lowest and highest index) closest together, then the least
/// recently used. Closeness matters: llama.cpp's attention spans every KV stream between
/// the lowest and the highest busy slot, so eight answers spread over sixteen slots cost
/// up to twice the attention of eight side by side. A request that must not use the cache
/// (`reuse` false) takes the slot whose prefix worth reusing is shortest, so it does not
/// evict one someone else will reuse. A prefix is worth reusing from `MIN_REUSE` tokens, or
/// when it is at least half of the request's `prompt_len` tokens: a short prompt asked
/// again (a client's fixed question) would otherwise land on another slot and be
/// prefilled whole every time. Returns the index and the shared prefix.
fn choose_slot(
    idle: &[(usize, usize, u64)],
    busy: Option<(usize, usize)>,
    reuse: bool,
    prompt_len: usize,
) -> Option<(usize, usize)> {
    let span_with = |i: usize| busy.map_or(1, |(lo, hi)| hi.max(i) - lo.min(i) + 1);
    let worth = |common: usize| {
        if common >= MIN_REUSE || (common > 0 && 2 * common >= prompt_len) {
            common
        } else {
            0
        }
    };
    idle.iter()
        .max_by(|a, b| {
            let by_prefix = if reuse {
                worth(a.1).cmp(&worth(b.1))
            } else {
                worth(b.1).cmp(&worth(a.1))
            };
            by_prefix.then(span_with(b.0).cmp(&span_with(a.0))).then(b.2.cmp(&a.2))
        })
        .map(|&(i, common, _)| (i, common))
}

#[cfg(test)]
mod tests {
    use super::choose_slot;

    fn idle(range: std::ops::Range<usize>) -> Vec<(usize, usize, u64)> {
        // Slot i last used at tick 100 - i: the high slots are the least recently used.
        range.map(|i| (i, 0, 100 - i as u64)).collect()
    }

    #[test]
    fn busy_slots_stay_together_unless_a_prefix_is_worth_reusing() {
        // Nothing busy: the least recently used.
        assert_eq!(choose_slot(&idle(0..16), None, true, 400), Some((15, 0)));
        // Slots 4..=7 busy: next to them (3 and 8 both make the span five; 8 was used
        // longer ago), not the least recently used far away.
        let mut free: Vec<_> = idle(0..4);
        free.extend(idle(8..16));
        assert_eq!(choose_slot(&free, Some((4, 7)), true, 400).map(|c| c.0), Some(8));
        // A long shared prefix wins over closeness; a few shared tokens do not.
        free[10].1 = 200; // slot 14
        assert_eq!(choose_slot(&free, Some((4, 7)), true, 400), Some((14, 200)));
        free[10].1 = 5;
        assert_eq!(choose_slot(&free, Some((4, 7)), true, 400).map(|c| c.0), Some(8));
        // Without reuse: not the slot with a long prefix (someone may reuse it), and a few
        // shared tokens do not scatter the batch.
        free[10].1 = 200;
        assert_eq!(choose_slot(&free, Some((4, 7)), false, 400).map(|c| c.0), Some(8));
        free[10].1 = 0;
        free[3].1 = 2; // slot 3
        free[4].1 = 3; // slot 8
        assert_eq!(choose_slot(&free, Some((4, 7)), false, 400).map(|c| c.0), Some(8));
        assert_eq!(choose_slot(&[], Some((0, 1)), true, 400), None);
    }

    #[test]
    fn a_short_prompt_asked_again_goes_back_to_its_slot() {
        // 26 of a 27-token prompt cached in slot 14: there, not the least recently used.
        let mut free = idle(0..16);
        free[14].1 = 26;
        assert_eq!(choose_slot(&free, None, true, 27), Some((14, 26)));
        // A few tokens of a long prompt (the template's opening) still do not decide.
        free[14].1 = 20;
        assert_eq!(choose_slot(&free, None, true, 400), Some((15, 0)));
    }
}
