//! `bantam bench` and `bantam eval`, product features that measure Bantam on the user's
//! machine: speed through the real engine next to llama.cpp's own tools run in the same
//! invocation (reported as ratios), the tasks' throughput, downloads next to curl, the
//! memory estimate next to what loading really takes, and task quality on labeled data.
//! The CLI parses the command line with these types and hands over a [`Setup`].

mod anchor;
mod api;
mod app;
mod download;
mod embed;
mod engine;
pub mod eval;
mod fit;
mod index_chat;
mod measure;
pub mod progress;
mod router;
mod search;
mod tasks;

use std::path::PathBuf;

use anyhow::Result;
use bantam_core::EngineConfig;
use clap::{Args, Subcommand};

pub use fit::{check_estimate, MemoryCheck};
pub use measure::{chat_turns, BenchResult, BenchSpec, TurnResult};

/// What the CLI resolved before the bench runs: the model and the engine settings.
#[derive(Debug, Clone)]
pub struct Setup {
    pub model: PathBuf,
    pub threads: Option<usize>,
    pub ctx_size: u32,
    pub chat_template: Option<String>,
    pub prompt_cache_mib: usize,
}

impl Setup {
    /// An engine over the model with these settings and `parallel` slots.
    pub fn config(&self, parallel: usize) -> EngineConfig {
        EngineConfig {
            threads: self.threads,
            context_size: self.ctx_size,
            chat_template: self.chat_template.clone(),
            parallel,
            prompt_cache_mib: self.prompt_cache_mib,
            ..EngineConfig::new(&self.model)
        }
    }

    /// The threads the engine and the anchors both use.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Prefill and decode through the engine (ppN, tgN, tgNxK, chat-turn TTFT), next to
    /// llama.cpp's llama-bench and llama-batched-bench when given
    Engine(engine::EngineArgs),
    /// The OpenAI-compatible API under 1/4/8/16 streaming clients (tokens/s, time to first
    /// token), next to llama.cpp's llama-server and to the engine in process
    Api(api::ApiArgs),
    /// Sentence embeddings: texts/s batched and one at a time, next to llama.cpp's
    /// llama-embedding on the same GGUF
    Embed(embed::EmbedArgs),
    /// Search by meaning as the index grows: p50/p95 at 1k, 10k and 100k stored vectors
    Search(search::SearchArgs),
    /// A chat's time to first token while a mailbox is indexed for search: idle, beside
    /// the background indexer, beside indexing at full speed
    IndexWhileChatting(index_chat::IndexChatArgs),
    /// What one routing decision costs: the small model's judgement, p50/p95 over the
    /// router evaluation's questions
    Router(router::RouterArgs),
    /// The tasks: document ingest, a long document's summary map, email triage — each
    /// Bantam's way against one at a time
    Tasks(tasks::TasksArgs),
    /// Download throughput of a file from a loopback server, next to curl's
    Download(download::DownloadArgs),
    /// The desktop app under a private Xvfb display: cold start, hotkey to popup, idle
    /// memory with and without a model
    App(app::AppArgs),
    /// The memory-fit estimate of the model next to the memory loading it really takes
    Fit(Output),
    /// Everything: the engine rows with both anchors (from ~/.cache/bantam-anchor when
    /// built there), then triage and the summary map on the corpus
    All(Output),
}

/// How a bench reports.
#[derive(Args, Debug, Clone, Default)]
pub struct Output {
    /// One JSON object instead of a table
    #[arg(long)]
    pub json: bool,
    /// Also write the report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl Output {
    fn write(&self, report: &impl serde::Serialize) -> Result<()> {
        use anyhow::Context as _;
        if let Some(path) = &self.out {
            std::fs::write(path, serde_json::to_string_pretty(report)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(report)?);
        }
        Ok(())
    }
}

impl BenchCommand {
    /// Whether the bench runs a model (the CLI then resolves one for [`Setup`]).
    pub fn needs_model(&self) -> bool {
        !matches!(
            self,
            BenchCommand::Download(_) | BenchCommand::Embed(_) | BenchCommand::Search(_)
        )
    }
}

/// Runs a bench; `setup` is `None` only for those that need no model.
pub async fn run(cmd: BenchCommand, setup: Option<Setup>) -> Result<u8> {
    let need = || setup.clone().ok_or_else(|| anyhow::anyhow!("this bench needs a model"));
    match cmd {
        BenchCommand::Download(args) => download::run(&args).await,
        BenchCommand::Embed(args) => embed::run(&args).await,
        BenchCommand::Search(args) => search::run(&args).await,
        BenchCommand::IndexWhileChatting(args) => index_chat::run(&need()?, &args).await,
        BenchCommand::Engine(args) => engine::run(&need()?, args).await,
        BenchCommand::Api(args) => api::run(&need()?, &args).await,
        BenchCommand::Router(args) => router::run(&need()?, &args).await,
        BenchCommand::Tasks(args) => tasks::run(&need()?, &args).await,
        BenchCommand::App(args) => app::run(&need()?, &args).await,
        BenchCommand::Fit(out) => fit::run(&need()?, &out).await,
        BenchCommand::All(out) => {
            let setup = need()?;
            engine::run(&setup, engine::EngineArgs::all(out.clone())).await?;
            tasks::on_corpus(&setup, &out).await
        }
    }
}
