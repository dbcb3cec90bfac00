//! Bantam's network side, kept out of `bantam-core` (which has no network dependencies):
//! model downloads ([`Downloader`] fetches one file with resume and verification;
//! [`DownloadQueue`] runs them one after another for the app; [`pypi`] is the second
//! source, for models shipped as PyPI wheels), IMAP mail ([`imap`]) and the remote tier
//! ([`remote`], an OpenAI-compatible endpoint).

pub mod accounts;
mod assemble;
pub mod download;
pub mod error;
pub mod imap;
pub mod pypi;
pub mod queue;
pub mod remote;
pub mod sse;

pub use download::{Downloader, Origin, Phase, Progress, MIRROR_ENV};
pub use error::DownloadError;
pub use pypi::PYPI_INDEX_ENV;
pub use queue::{DownloadQueue, DownloadUpdate};

/// reqwest is built without a default TLS provider: installs ring's (once; later calls
/// do nothing). Call before building a `reqwest::Client`.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
