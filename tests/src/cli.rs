//! The `bantam` binary as the CLI tests run it.

use std::path::Path;
use std::process::{Command, Stdio};

/// `bantam` with a private data directory and no model chosen through the environment.
pub fn bantam(data: &Path) -> Command {
    let mut cmd = Command::new(crate::bin("bantam"));
    cmd.env_remove("BANTAM_MODEL")
        .env("BANTAM_DATA_DIR", data)
        .env("BANTAM_THREADS", bantam_testkit::test_threads().to_string())
        .env("BANTAM_CTX_SIZE", "2048")
        .stdin(Stdio::null());
    cmd
}

pub use bantam_testkit::PrivateKeyring;
