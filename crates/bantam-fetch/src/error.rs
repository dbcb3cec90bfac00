//! Why a download stopped, in words a person can act on. `kind()` is the stable name the
//! CLI's JSON and the app use.

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{0}")]
    BadRequest(String),

    #[error("network error: {0}")]
    Network(String),

    #[error("the server answered HTTP {status}: {hint}")]
    Http { status: u16, hint: String },

    #[error("the server sent something that is not a GGUF model ({0}); check the URL")]
    NotGguf(String),

    #[error(
        "the downloaded file's sha256 is {actual}, not the expected {expected}: the file was \
         corrupted or replaced on the server, so it was deleted"
    )]
    Checksum { expected: String, actual: String },

    #[error("llama.cpp cannot load the downloaded file, so it was deleted: {0}")]
    InvalidModel(String),

    #[error("not enough disk space: {needed} more bytes are needed but {available} are free in {dir}")]
    NoSpace { needed: u64, available: u64, dir: String },

    #[error("could not write the model file: {0}")]
    Disk(String),

    #[error("paused")]
    Cancelled,

    #[error(transparent)]
    Core(#[from] bantam_core::Error),
}

impl DownloadError {
    pub fn kind(&self) -> &'static str {
        match self {
            DownloadError::BadRequest(_) => "bad_request",
            DownloadError::Network(_) => "network",
            DownloadError::Http { .. } => "http",
            DownloadError::NotGguf(_) => "not_gguf",
            DownloadError::Checksum { .. } => "checksum",
            DownloadError::InvalidModel(_) => "invalid_model",
            DownloadError::NoSpace { .. } => "no_space",
            DownloadError::Disk(_) => "disk",
            DownloadError::Cancelled => "cancelled",
            DownloadError::Core(_) => "internal",
        }
    }

    /// Worth trying again from where it stopped.
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::Network(_) => true,
            DownloadError::Http { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

pub type Result<T, E = DownloadError> = std::result::Result<T, E>;
