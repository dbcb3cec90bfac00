//! Shared by the integration tests: the real test model and engines over it.
#![allow(dead_code)]

use bantam_core::{Engine, EngineConfig};
#[allow(unused_imports)]
pub use bantam_testkit::{test_corpus, test_model};

pub fn config() -> EngineConfig {
    EngineConfig {
        context_size: 2048,
        parallel: 4,
        threads: Some(bantam_testkit::test_threads()),
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
