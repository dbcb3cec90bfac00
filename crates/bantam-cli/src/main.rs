//! `bantam`: the headless door to Bantam's engine and store.
//! Results go to stdout, progress and status to stderr; exit codes are documented in
//! the README (0 ok, 1 error, 2 usage, 3 model problem, 4 not found, 130 interrupted).

mod accounts;
mod ask;
mod chat;
mod context;
mod documents;
mod history;
mod memory;
mod models;
mod pull;
mod search;
mod serve;
mod setup;
mod tiers;
mod triage;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "bantam",
    version,
    about = "A private assistant with a small model that stays on your machine"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// GGUF model to load (default: the default model from settings)
    #[arg(long, global = true, env = "BANTAM_MODEL", value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Where Bantam keeps its database and models
    #[arg(long, global = true, env = "BANTAM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// CPU threads for inference (default: all cores)
    #[arg(long, global = true, env = "BANTAM_THREADS", value_name = "N")]
    pub threads: Option<usize>,
    /// Tokens one request can hold (prompt + answer)
    #[arg(
        long,
        global = true,
        env = "BANTAM_CTX_SIZE",
        value_name = "N",
        default_value_t = 4096
    )]
    pub ctx_size: u32,
    /// Memory (MiB) for prompts kept after their slot moved on, restored when a prompt
    /// starts the same way again (0: none)
    #[arg(
        long,
        global = true,
        env = "BANTAM_PROMPT_CACHE_MIB",
        value_name = "MIB",
        default_value_t = bantam_core::engine::DEFAULT_PROMPT_CACHE_MIB
    )]
    pub prompt_cache_mib: usize,
    /// Chat template to use when the model has none (chatml, llama3, phi3, gemma, …)
    #[arg(long, global = true, value_name = "NAME")]
    pub chat_template: Option<String>,
    /// Show debug logs (llama.cpp's included) on stderr
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Chat with the model: an interactive session, or one question with -p
    Chat(chat::ChatArgs),
    /// Past conversations: list, show, search, rename, delete
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// The model catalogue and the models on this machine
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Summarize documents (PDF, DOCX, HTML, Markdown, text, .eml), streaming the summary
    Summarize(documents::SummarizeArgs),
    /// Read documents into the store: text, chunks and metadata, no summary
    Ingest(documents::IngestArgs),
    /// Documents read so far: list, search, show, delete
    #[command(subcommand)]
    Documents(documents::DocumentsCommand),
    /// IMAP accounts for `triage --imap` (passwords in the OS keyring)
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// Search chats and documents by words and by meaning
    Search(search::SearchArgs),
    /// Ask a question of your documents and chats: an answer with citations, or "not found"
    Ask(ask::AskArgs),
    /// What chats remember about you: list, add, edit, keep, delete, search, export, import, forget-all
    #[command(subcommand)]
    Memory(memory::MemoryCommand),
    /// Triage email: category, priority, reply needed, action items, route — per message
    Triage(triage::TriageArgs),
    /// Accuracy of a task against labeled data
    #[command(subcommand)]
    Eval(bantam_bench::eval::EvalCommand),
    /// The tiers a chat can be routed to: small (the model in use), workhorse, remote
    #[command(subcommand)]
    Tiers(tiers::TiersCommand),
    /// Serve the model to other programs: an OpenAI-compatible API on 127.0.0.1
    Serve(serve::ServeArgs),
    /// Speed: the engine next to llama.cpp's own tools, the tasks, downloads, the memory fit
    #[command(subcommand)]
    Bench(bantam_bench::BenchCommand),
}

/// Exit codes scripts can rely on.
pub mod exit {
    pub const ERROR: u8 = 1;
    pub const MODEL: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const INTERRUPTED: u8 = 130;
}

fn exit_code(err: &anyhow::Error) -> u8 {
    use bantam_core::Error as E;
    match err.downcast_ref::<E>() {
        Some(E::ModelNotFound { .. } | E::InvalidModel { .. } | E::ModelLoad { .. } | E::NoChatTemplate) => exit::MODEL,
        Some(E::NotFound { .. }) => exit::NOT_FOUND,
        _ => exit::ERROR,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = if cli.global.verbose {
        "debug"
    } else {
        // llama.cpp's lines are debug-level, and html5ever warns of every odd table in
        // a mail's HTML, which the user cannot act on: the terminal stays clean.
        "warn,llama.cpp=off,html5ever=error"
    };
    // A server's log is its requests.
    let filter = match cli.command {
        Command::Serve(_) if !cli.global.verbose => format!("{filter},bantam_server=info"),
        _ => filter.to_string(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANTAM_LOG").unwrap_or_else(|_| filter.as_str().into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Chat(args) => chat::run(&cli.global, args).await,
            Command::History(cmd) => history::run(&cli.global, cmd).await,
            Command::Models(cmd) => models::run(&cli.global, cmd).await,
            Command::Summarize(args) => documents::summarize(&cli.global, args).await,
            Command::Ingest(args) => documents::ingest(&cli.global, args).await,
            Command::Documents(cmd) => documents::documents(&cli.global, cmd).await,
            Command::Triage(args) => triage::run(&cli.global, args).await,
            Command::Search(args) => search::run(&cli.global, args).await,
            Command::Ask(args) => ask::run(&cli.global, args).await,
            Command::Memory(cmd) => memory::run(&cli.global, cmd).await,
            Command::Accounts(cmd) => accounts::run(&cli.global, cmd).await,
            Command::Serve(args) => serve::run(&cli.global, args).await,
            Command::Tiers(cmd) => tiers::run(&cli.global, cmd).await,
            Command::Eval(cmd) => {
                let setup = context::Context::open(&cli.global).await?.bench_setup().await?;
                bantam_bench::eval::run(&setup, cmd).await
            }
            Command::Bench(cmd) => {
                let setup = if cmd.needs_model() {
                    Some(context::Context::open(&cli.global).await?.bench_setup().await?)
                } else {
                    None
                };
                bantam_bench::run(cmd, setup).await
            }
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}
