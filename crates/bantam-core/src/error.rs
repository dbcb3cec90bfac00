//! The one error type of `bantam-core`. Every variant says what went wrong in words a
//! person understands; the CLI maps variants to exit codes.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model file not found: {}", path.display())]
    ModelNotFound { path: PathBuf },

    #[error("{} is not a usable GGUF model: {reason}", path.display())]
    InvalidModel { path: PathBuf, reason: String },

    #[error("llama.cpp could not load {}: {reason}", path.display())]
    ModelLoad { path: PathBuf, reason: String },

    #[error(
        "the model has no chat template; configure one (e.g. `chatml`, `llama3`, `phi3`, `gemma`) \
         with --chat-template or the `chat_template` setting"
    )]
    NoChatTemplate,

    #[error("could not apply the chat template: {0}")]
    ChatTemplate(String),

    #[error(
        "the prompt is {prompt_tokens} tokens but the context holds {context_size} \
         (with {reserved} kept free for the answer); shorten it or raise the context size"
    )]
    ContextOverflow {
        prompt_tokens: usize,
        context_size: usize,
        reserved: usize,
    },

    #[error("invalid request: {0}")]
    InvalidRequest(String),

    #[error("invalid grammar: {0}")]
    Grammar(String),

    #[error("invalid JSON schema: {0}")]
    Schema(String),

    #[error("the model's output is not valid for the requested type ({reason}); output was: {output}")]
    StructuredOutput { reason: String, output: String },

    #[error("inference failed: {0}")]
    Inference(String),

    /// The output constraint left no token the model could write next; only this request
    /// ends (what it wrote so far was sent).
    #[error(
        "the output constraint (grammar, JSON schema or tool calls) allowed no next token; \
         the answer was stopped there"
    )]
    GrammarDeadEnd,

    #[error("llama.cpp could not start: {0}")]
    Backend(String),

    #[error("could not start the engine thread: {0}")]
    EngineThread(#[source] std::io::Error),

    /// Work on a blocking thread or a spawned task ended by panicking (a bug) or was
    /// aborted.
    #[error("{what} stopped unexpectedly: {source}")]
    Panicked {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },

    #[error("stopped")]
    Cancelled,

    #[error("the engine has stopped")]
    EngineStopped,

    #[error("the model was unloaded (switched or paused) before this request started")]
    Unloaded,

    #[error("{what} not found: {id}")]
    NotFound { what: &'static str, id: String },

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: {source}", path.display())]
    Document {
        path: PathBuf,
        #[source]
        source: crate::ingest::IngestError,
    },

    #[error("model catalogue: {0}")]
    Catalog(String),

    #[error("{id} is not downloaded yet: `bantam models pull {id}`, or Download in the Models view")]
    NotDownloaded { id: String },

    #[error("{} is the model in use: pick another one first", path.display())]
    ModelInUse { path: PathBuf },

    #[error("{task} cannot run on {tier}: {why}")]
    TierNotAllowed {
        task: &'static str,
        tier: &'static str,
        why: &'static str,
    },

    #[error("the {tier} tier is unavailable: {reason}")]
    TierUnavailable { tier: &'static str, reason: String },

    #[error("the remote tier: {0}")]
    Remote(#[from] crate::tiers::RemoteError),

    #[error("no data directory could be determined; set BANTAM_DATA_DIR or pass --data-dir")]
    NoDataDir,
}

impl Error {
    /// For `JoinError`s: `.map_err(Error::panicked("chunking"))`.
    pub(crate) fn panicked(what: &'static str) -> impl FnOnce(tokio::task::JoinError) -> Self {
        move |source| Error::Panicked { what, source }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
