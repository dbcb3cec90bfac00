//! Shared by the CLI's integration tests.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

/// `bantam` with a private data directory and no model chosen through the environment.
pub fn bantam(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bantam"));
    cmd.env_remove("BANTAM_MODEL")
        .env("BANTAM_DATA_DIR", data)
        .env("BANTAM_THREADS", "2")
        .env("BANTAM_CTX_SIZE", "2048")
        .stdin(Stdio::null());
    cmd
}

#[allow(unused_imports)]
pub use bantam_testkit::PrivateKeyring;
