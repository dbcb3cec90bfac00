//! Model downloads for Bantam: the HTTP side of the model manager, kept out of
//! `bantam-core` (which has no HTTP dependencies). [`Downloader`] fetches one file with
//! resume and verification; [`DownloadQueue`] runs them one after another for the app.

pub mod download;
pub mod error;
pub mod queue;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use download::{Downloader, Phase, Progress, MIRROR_ENV};
pub use error::DownloadError;
pub use queue::{DownloadQueue, DownloadUpdate};
