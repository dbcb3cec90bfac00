//! The resident model. One thread owns the llama.cpp model and context
//! (`worker`); everybody else holds a cloneable [`Engine`] handle and talks to it over
//! channels. Requests are decoded together in one batch (continuous batching), each in
//! its own KV-cache sequence, and a new request reuses the longest cached prompt prefix.

pub mod embed;
mod logs;
mod prompt_cache;
mod sampler;
mod text;
mod types;
pub(crate) mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

pub use sampler::{argmax, json_schema_grammar, logprobs, TokenSampler};
pub use types::*;
pub use worker::Tokenizer;

use crate::error::{Error, Result};

/// How to load the model and size the engine.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    pub model_path: PathBuf,
    /// Tokens one request (prompt + answer) can hold. Each slot has its own KV stream of
    /// this size, so the cache holds `context_size × parallel` tokens in all.
    pub context_size: u32,
    /// Sequences decoded together (slots).
    pub parallel: usize,
    /// Most tokens in one `llama_decode` call.
    pub batch_size: u32,
    /// CPU threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Layers to offload when a GPU backend is built in; `None` offloads all of them.
    pub gpu_layers: Option<u32>,
    /// A llama.cpp template name (`chatml`, `llama3`, …) or template text, used when the
    /// model has none or to override it.
    pub chat_template: Option<String>,
    /// Flash attention: `None` lets llama.cpp decide.
    pub flash_attention: Option<bool>,
    /// Memory (MiB) for prompts kept after their slot moved on, restored when a prompt
    /// starts the same way again; 0 keeps none.
    pub prompt_cache_mib: usize,
}

/// A desktop app shares the machine: 1 GiB holds ~37k tokens of a 1.5B model's cache
/// (llama-server, a server, defaults to 8 GiB).
pub const DEFAULT_PROMPT_CACHE_MIB: usize = 1024;

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            model_path: PathBuf::new(),
            context_size: 4096,
            parallel: 4,
            batch_size: 512,
            threads: None,
            gpu_layers: None,
            chat_template: None,
            flash_attention: None,
            prompt_cache_mib: DEFAULT_PROMPT_CACHE_MIB,
        }
    }
}

impl EngineConfig {
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            ..Self::default()
        }
    }
}

/// What the engine loaded.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub name: String,
    pub architecture: String,
    pub parameters: u64,
    pub size_bytes: u64,
    pub quantization: String,
    pub train_context: u32,
    pub context_size: u32,
    pub parallel: usize,
    pub threads: usize,
    pub gpu_layers: u32,
    pub has_chat_template: bool,
    /// The GGUF's own Jinja template, where it writes Hermes tool calls (none when a
    /// template is configured by name): tool turns are rendered with it.
    #[serde(skip)]
    pub tool_template: Option<crate::tools::ChatTemplate>,
}

/// Counts for the tray and status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EngineLoad {
    pub active: usize,
    pub queued: usize,
}

pub(crate) enum Command {
    Submit {
        id: u64,
        request: Box<Request>,
        events: mpsc::UnboundedSender<Event>,
        arrived: Instant,
    },
    Cancel {
        id: u64,
    },
    Tokenize {
        text: String,
        add_special: bool,
        reply: oneshot::Sender<Vec<i32>>,
    },
    /// Empty the KV cache of every idle slot.
    ForgetPrompts {
        reply: oneshot::Sender<()>,
    },
    /// Stop taking work, let running answers go on for `grace`, then end them (as
    /// cancelled, keeping their text) and free the model.
    Shutdown {
        grace: std::time::Duration,
    },
}

pub(crate) struct Counters {
    pub active: AtomicUsize,
    pub queued: AtomicUsize,
    /// True while no request runs or waits: what background work (indexing) waits for.
    pub idle: tokio::sync::watch::Sender<bool>,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            active: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            idle: tokio::sync::watch::Sender::new(true),
        }
    }
}

struct Inner {
    tx: mpsc::UnboundedSender<Command>,
    info: ModelInfo,
    tokenizer: Arc<Tokenizer>,
    next_id: AtomicU64,
    counters: Arc<Counters>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the worker after its current step; wait so the model's
        // memory is really freed when the last handle goes.
        let (tx, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

/// A cloneable handle to the resident model.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Loads the model on a new engine thread; resolves when it is ready or failed.
    pub async fn start(config: EngineConfig) -> Result<Self> {
        Self::start_with_progress(config, |_| {}).await
    }

    /// Like [`Engine::start`], reporting load progress from 0.0 to 1.0.
    pub async fn start_with_progress(config: EngineConfig, progress: impl FnMut(f32) + Send + 'static) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let worker_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("bantam-engine".into())
            .spawn(move || worker::run(config, rx, ready_tx, worker_counters, Box::new(progress)))
            .map_err(Error::EngineThread)?;
        let (info, tokenizer) = match ready_rx.await {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Error::EngineStopped);
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                tx,
                info,
                tokenizer: Arc::new(tokenizer),
                next_id: AtomicU64::new(1),
                counters,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.inner.info
    }

    /// The loaded model's tokenizer (its vocabulary only), for counting and cutting text
    /// off the engine thread. One per engine: tasks take it from here.
    pub fn tokenizer(&self) -> &Arc<Tokenizer> {
        &self.inner.tokenizer
    }

    pub fn load(&self) -> EngineLoad {
        EngineLoad {
            active: self.inner.counters.active.load(Ordering::Relaxed),
            queued: self.inner.counters.queued.load(Ordering::Relaxed),
        }
    }

    /// Resolves once no request runs or waits (at once when none does), so background
    /// work that shares the CPU can stay out of a chat's way.
    pub async fn idle(&self) {
        let mut idle = self.inner.counters.idle.subscribe();
        // An error is the engine gone: nothing left to wait for.
        let _ = idle.wait_for(|idle| *idle).await;
    }

    /// Whether no request runs or waits now.
    pub fn is_idle(&self) -> bool {
        *self.inner.counters.idle.borrow()
    }

    /// Queues a request; its events stream back through the returned [`Generation`].
    pub fn submit(&self, request: Request) -> Result<Generation> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        // Busy from now, not from when the engine thread reads the request: background
        // work checking in between would start a batch ahead of it.
        self.inner.counters.idle.send_replace(false);
        let sent = self.inner.tx.send(Command::Submit {
            id,
            request: Box::new(request),
            events: events_tx,
            arrived: Instant::now(),
        });
        if sent.is_err() {
            self.inner.counters.idle.send_replace(true);
            return Err(Error::EngineStopped);
        }
        Ok(Generation {
            id,
            events: events_rx,
            cancel: Canceller {
                id,
                target: CancelTarget::Engine(self.inner.tx.clone()),
            },
            finished: false,
        })
    }

    /// Runs a request to the end and returns the whole completion.
    pub async fn complete(&self, request: Request) -> Result<Completion> {
        self.submit(request)?.collect().await
    }

    /// Runs a request under a JSON schema and parses the answer into `T` with serde.
    pub async fn complete_json<T: DeserializeOwned>(
        &self,
        request: Request,
        schema: serde_json::Value,
    ) -> Result<(T, Completion)> {
        let completion = self
            .complete(request.with_constraint(Constraint::JsonSchema(schema)))
            .await?;
        let value = serde_json::from_str(&completion.text).map_err(|e| Error::StructuredOutput {
            reason: if completion.finish_reason == FinishReason::Length {
                format!("the answer was cut off at max_tokens ({e})")
            } else {
                e.to_string()
            },
            output: completion.text.clone(),
        })?;
        Ok((value, completion))
    }

    /// Unloads the model: queued requests fail with [`Error::Unloaded`], running answers
    /// get `grace` to finish and are then ended as cancelled (their text so far kept).
    /// Resolves once the model's memory is freed, even while other handles still exist
    /// (they then get [`Error::EngineStopped`]).
    /// Whether both handles are the same loaded engine.
    pub fn same_as(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub async fn shutdown(&self, grace: std::time::Duration) {
        let _ = self.inner.tx.send(Command::Shutdown { grace });
        let thread = self.inner.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// Drops the prompts the idle slots keep for reuse, so the next requests compute their
    /// prompts whole (benchmarks compare runs from the same cold start this way).
    pub async fn forget_prompts(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Command::ForgetPrompts { reply })
            .map_err(|_| Error::EngineStopped)?;
        rx.await.map_err(|_| Error::EngineStopped)
    }

    /// Tokenizes text with the model's tokenizer (e.g. to measure a chunk).
    pub async fn tokenize(&self, text: &str, add_special: bool) -> Result<Vec<i32>> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Command::Tokenize {
                text: text.to_string(),
                add_special,
                reply,
            })
            .map_err(|_| Error::EngineStopped)?;
        rx.await.map_err(|_| Error::EngineStopped)
    }
}

/// Checks that a file is a GGUF model this build of llama.cpp can load (header and
/// vocabulary only, not the weights) and returns its facts.
pub async fn inspect_model(path: impl Into<PathBuf>) -> Result<crate::models::gguf::ModelFileInfo> {
    let path = path.into();
    tokio::task::spawn_blocking(move || worker::check_loadable(&path))
        .await
        .map_err(Error::panicked("the model check"))?
}

/// Cancels one request; cheap to clone and send to a signal handler.
#[derive(Clone)]
pub struct Canceller {
    id: u64,
    target: CancelTarget,
}

#[derive(Clone)]
enum CancelTarget {
    Engine(mpsc::UnboundedSender<Command>),
    /// A generation made outside the engine (another tier): its producer watches this.
    Flag(std::sync::Arc<tokio::sync::watch::Sender<bool>>),
}

impl Canceller {
    /// The request it cancels (the same as its `Generation::id`).
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn cancel(&self) {
        match &self.target {
            CancelTarget::Engine(tx) => {
                let _ = tx.send(Command::Cancel { id: self.id });
            }
            CancelTarget::Flag(flag) => {
                flag.send_replace(true);
            }
        }
    }
}

/// What a producer outside the engine (a remote tier) watches to stop early.
pub struct CancelSignal(tokio::sync::watch::Receiver<bool>);

impl CancelSignal {
    /// Resolves once the generation is cancelled or dropped.
    pub async fn cancelled(&mut self) {
        let _ = self.0.wait_for(|c| *c).await;
    }
}

/// The stream of one request's events. Dropping it before the end cancels the request.
pub struct Generation {
    id: u64,
    events: mpsc::UnboundedReceiver<Event>,
    cancel: Canceller,
    finished: bool,
}

impl Generation {
    /// A generation whose events come from elsewhere than this engine (another tier): the
    /// producer sends `Started`, `Token`s and `Done` (or `Failed`) on the returned sender
    /// and stops when the signal fires. Ids count down from the top, apart from the
    /// engine's.
    pub fn external() -> (Self, mpsc::UnboundedSender<Event>, CancelSignal) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(u64::MAX);
        let id = NEXT.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, events) = mpsc::unbounded_channel();
        let (flag, watch) = tokio::sync::watch::channel(false);
        let generation = Generation {
            id,
            events,
            cancel: Canceller {
                id,
                target: CancelTarget::Flag(std::sync::Arc::new(flag)),
            },
            finished: false,
        };
        (generation, tx, CancelSignal(watch))
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next event; `None` after `Done` or `Failed`.
    pub async fn next(&mut self) -> Option<Event> {
        if self.finished {
            return None;
        }
        let event = self.events.recv().await;
        match &event {
            Some(Event::Done(_)) | Some(Event::Failed(_)) => self.finished = true,
            None => {
                self.finished = true;
                return Some(Event::Failed(Error::EngineStopped));
            }
            _ => {}
        }
        event
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn canceller(&self) -> Canceller {
        self.cancel.clone()
    }

    /// Waits for the end, dropping the streamed tokens.
    pub async fn collect(mut self) -> Result<Completion> {
        while let Some(event) = self.next().await {
            match event {
                Event::Done(c) => return Ok(c),
                Event::Failed(e) => return Err(e),
                _ => {}
            }
        }
        Err(Error::EngineStopped)
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        if !self.finished {
            self.cancel.cancel();
        }
    }
}

/// The GPUs (and integrated GPUs) the built-in llama.cpp backends can offload to.
pub fn gpus() -> Vec<crate::hardware::Gpu> {
    use llama_cpp_2::LlamaBackendDeviceType as T;
    llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .filter(|d| matches!(d.device_type, T::Gpu | T::IntegratedGpu))
        .map(|d| crate::hardware::Gpu {
            integrated: matches!(d.device_type, T::IntegratedGpu),
            name: d.name,
            description: d.description,
            backend: d.backend,
            memory_total: d.memory_total as u64,
            memory_free: d.memory_free as u64,
        })
        .collect()
}
