//! Sentence embeddings from a dedicated embedding model (all-MiniLM-L6-v2, bge, nomic…)
//! through llama.cpp's embedding mode: the pooling the GGUF names, each vector normalized
//! to unit length. The model and its context live on their own thread, apart from the
//! chat engine's, so indexing never holds up an answer; texts are packed into one batch
//! of several sequences per `llama_decode`.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{mpsc, oneshot};

use super::worker::{backend, load_error};
use crate::error::{Error, Result};
use crate::models::gguf::GgufHeader;

/// Most sequences decoded together; more only lengthens a batch's wait.
const MAX_SEQUENCES: usize = 64;

/// What loads an embedding model.
#[derive(Debug, Clone)]
pub struct EmbedConfig {
    pub model_path: PathBuf,
    /// CPU threads (default: all cores).
    pub threads: Option<usize>,
    /// Tokens decoded per batch, also the longest text embedded whole (default: the
    /// model's trained context, at most 512).
    pub batch_tokens: Option<usize>,
}

impl EmbedConfig {
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            threads: None,
            batch_tokens: None,
        }
    }
}

/// What an embedding model is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EmbedInfo {
    pub path: PathBuf,
    pub name: String,
    /// The vector's length.
    pub dimensions: usize,
    /// Longer texts are cut to this many tokens (their start is embedded).
    pub max_tokens: usize,
    /// Identifies the vectors' space: vectors made under another id are not comparable.
    pub model_id: String,
}

/// One text's vector (unit length) and how many of its tokens went in.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    pub vector: Vec<f32>,
    pub tokens: usize,
    /// The text was longer than [`EmbedInfo::max_tokens`] and cut.
    pub truncated: bool,
}

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Embedding>>>,
}

/// A loaded embedding model. Cloning shares it; it unloads when the last clone drops.
#[derive(Clone)]
pub struct Embedder {
    tx: mpsc::UnboundedSender<Job>,
    info: EmbedInfo,
}

impl Embedder {
    /// Loads the model on its own thread.
    pub async fn start(config: EmbedConfig) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("bantam-embed".into())
            .spawn(move || run(config, rx, ready_tx))
            .map_err(Error::EngineThread)?;
        let info = ready_rx.await.map_err(|_| Error::EngineStopped)??;
        Ok(Self { tx, info })
    }

    pub fn info(&self) -> &EmbedInfo {
        &self.info
    }

    /// The vectors of `texts`, in order.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.tx.send(Job { texts, reply }).map_err(|_| Error::EngineStopped)?;
        rx.await.map_err(|_| Error::EngineStopped)?
    }

    /// One text's vector.
    pub async fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        let mut out = self.embed(vec![text.to_string()]).await?;
        out.pop().map(|e| e.vector).ok_or(Error::EngineStopped)
    }
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    // Eight running sums the compiler keeps in SIMD registers; one sum in order it cannot
    // vectorise (float addition is not associative), and search scans every stored window.
    let (xs, ys) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = xs.remainder().iter().zip(ys.remainder()).map(|(x, y)| x * y).sum();
    let mut lanes = [0f32; 8];
    for (x, y) in xs.zip(ys) {
        for ((l, a), b) in lanes.iter_mut().zip(x).zip(y) {
            *l += a * b;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn run(config: EmbedConfig, mut rx: mpsc::UnboundedReceiver<Job>, ready: oneshot::Sender<Result<EmbedInfo>>) {
    let loaded = load(&config);
    let (model, info, threads) = match loaded {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let ctx = match context(&model, info.max_tokens, threads) {
        Ok(ctx) => ctx,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut worker = Worker {
        model: &model,
        ctx,
        batch: LlamaBatch::new(info.max_tokens, 1),
        max_tokens: info.max_tokens,
        dimensions: info.dimensions,
        path: info.path.clone(),
    };
    // A model that pools no sentence vector (a chat model) is refused at load, not later.
    if let Err(e) = worker.embed(&[String::new()]) {
        let _ = ready.send(Err(e));
        return;
    }
    if ready.send(Ok(info)).is_err() {
        return;
    }
    while let Some(job) = rx.blocking_recv() {
        let out = worker.embed(&job.texts);
        let _ = job.reply.send(out);
    }
}

fn load(config: &EmbedConfig) -> Result<(LlamaModel, EmbedInfo, i32)> {
    let path = config.model_path.as_path();
    let header = GgufHeader::read(path)?;
    let file = header.info();
    let backend = backend()?;
    let params = LlamaModelParams::default();
    let model =
        LlamaModel::load_from_file(backend, path, &params).map_err(|e| load_error(path, &file.architecture, e))?;
    let trained = model.n_ctx_train() as usize;
    let max_tokens = config.batch_tokens.unwrap_or(512).min(trained.max(1)).max(8);
    let threads = config
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(4));
    let info = EmbedInfo {
        path: path.to_path_buf(),
        name: file.name.clone().unwrap_or_else(|| stem(path)),
        dimensions: usize::try_from(model.n_embd()).unwrap_or(0),
        max_tokens,
        model_id: format!("{}:{}", stem(path), file.file_size),
    };
    Ok((model, info, i32::try_from(threads).unwrap_or(4)))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn context(model: &LlamaModel, tokens: usize, threads: i32) -> Result<LlamaContext<'_>> {
    let n = u32::try_from(tokens).unwrap_or(512);
    // A non-causal model sees a whole sequence in one micro-batch: ubatch = batch.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n))
        .with_n_batch(n)
        .with_n_ubatch(n)
        .with_n_seq_max(MAX_SEQUENCES as u32)
        .with_embeddings(true)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    model
        .new_context(backend()?, params)
        .map_err(|e| Error::Backend(format!("an embedding context: {e}")))
}

struct Worker<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    max_tokens: usize,
    dimensions: usize,
    path: PathBuf,
}

impl Worker<'_> {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Embedding>> {
        let tokenized: Vec<(Vec<LlamaToken>, bool)> = texts.iter().map(|t| self.tokens(t)).collect();
        let mut out = Vec::with_capacity(texts.len());
        let mut start = 0;
        while start < tokenized.len() {
            // As many whole texts as fit in one batch.
            let mut end = start;
            let mut used = 0;
            while end < tokenized.len()
                && end - start < MAX_SEQUENCES
                && (end == start || used + tokenized[end].0.len() <= self.max_tokens)
            {
                used += tokenized[end].0.len();
                end += 1;
            }
            self.batch.clear();
            for (seq, (tokens, _)) in tokenized[start..end].iter().enumerate() {
                self.batch
                    .add_sequence(tokens, seq as i32, true)
                    .map_err(|e| Error::Inference(format!("an embedding batch: {e}")))?;
            }
            self.ctx
                .decode(&mut self.batch)
                .map_err(|e| Error::Inference(format!("embedding: {e}")))?;
            for (seq, (tokens, truncated)) in tokenized[start..end].iter().enumerate() {
                let raw = self
                    .ctx
                    .embeddings_seq_ith(seq as i32)
                    .map_err(|_| Error::InvalidModel {
                        path: self.path.clone(),
                        reason: "it pools no sentence embedding: not an embedding model".into(),
                    })?;
                out.push(Embedding {
                    vector: normalized(&raw[..self.dimensions.min(raw.len())]),
                    tokens: tokens.len(),
                    truncated: *truncated,
                });
            }
            start = end;
        }
        Ok(out)
    }

    /// A text's tokens, cut to fit a batch (the end token kept last).
    fn tokens(&self, text: &str) -> (Vec<LlamaToken>, bool) {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, false);
        if tokens.is_empty() {
            tokens.push(vocab.bos());
        }
        if tokens.len() <= self.max_tokens {
            return (tokens, false);
        }
        let last = tokens[tokens.len() - 1];
        tokens.truncate(self.max_tokens);
        if last == vocab.eos() || last == vocab.sep() {
            tokens[self.max_tokens - 1] = last;
        }
        (tokens, true)
    }
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter().map(|x| x / norm).collect()
    } else {
        v.to_vec()
    }
}
