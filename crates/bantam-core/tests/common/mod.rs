//! Shared by the integration tests: the real test model and engines over it.
#![allow(dead_code)]

use std::path::PathBuf;

use bantam_core::{Engine, EngineConfig};

/// SmolLM2-135M-Instruct, fetched by `models/fetch-test-model.sh` (or `BANTAM_TEST_MODEL`).
pub fn test_model() -> PathBuf {
    let path = std::env::var_os("BANTAM_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    assert!(
        path.is_file(),
        "test model missing at {}: run models/fetch-test-model.sh",
        path.display()
    );
    path
}

pub fn config() -> EngineConfig {
    EngineConfig {
        context_size: 2048,
        parallel: 4,
        threads: Some(2),
        flash_attention: std::env::var("BANTAM_FA").ok().map(|v| v == "1"),
        ..EngineConfig::new(test_model())
    }
}

pub async fn engine() -> Engine {
    Engine::start(config()).await.expect("the test model loads")
}

pub async fn engine_with(f: impl FnOnce(&mut EngineConfig)) -> Engine {
    let mut c = config();
    f(&mut c);
    Engine::start(c).await.expect("the test model loads")
}
