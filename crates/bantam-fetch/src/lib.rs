//! Bantam's network side, kept out of `bantam-core` (which has no network dependencies):
//! model downloads ([`Downloader`] fetches one file with resume and verification;
//! [`DownloadQueue`] runs them one after another for the app) and IMAP mail ([`imap`]).

pub mod accounts;
pub mod download;
pub mod error;
pub mod imap;
pub mod queue;

pub use download::{Downloader, Phase, Progress, MIRROR_ENV};
pub use error::DownloadError;
pub use queue::{DownloadQueue, DownloadUpdate};
