//! The tiers in core, with the real test model as the small tier: built once and kept
//! until their settings change, a remote that fails hands the answer down with a note,
//! and an idle workhorse lets its memory go. (The real remote client against a real
//! `bantam serve` is in tests/cli/tiers.rs.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bantam_core::engine::{ChatMessage, EngineConfig, Generation, Request, Sampling};
use bantam_core::router::Router;
use bantam_core::tiers::{
    BoxFuture, RemoteChat, RemoteConnector, RemoteEndpoint, RemoteError, RemoteErrorKind, Tier, TierCache, TierChoice,
    TierSettings, Workhorse,
};
use bantam_core::Result;

/// A remote endpoint nobody answers at.
struct Down;

impl RemoteChat for Down {
    fn model(&self) -> String {
        "big @ 127.0.0.1".into()
    }

    fn chat(&self, _: Vec<ChatMessage>, _: Sampling) -> BoxFuture<'_, Result<Generation>> {
        Box::pin(async { Err(RemoteError::new(RemoteErrorKind::Unreachable, "connection refused").into()) })
    }
}

/// Counts how often the remote tier is built.
#[derive(Default)]
struct Connector(AtomicUsize);

impl RemoteConnector for Connector {
    fn connect(&self, _: &RemoteEndpoint) -> Result<Arc<dyn RemoteChat>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(Down))
    }
}

fn workhorse_config(path: &std::path::Path) -> EngineConfig {
    EngineConfig {
        model_path: path.to_path_buf(),
        parallel: 1,
        ..common::config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_are_built_once_and_again_only_when_their_settings_change() {
    let small = common::engine().await;
    let connector = Arc::new(Connector::default());
    let cache = TierCache::new(connector.clone());
    let mut settings = TierSettings {
        remote: Some(RemoteEndpoint::new("http://127.0.0.1:9/v1", "big").unwrap()),
        ..TierSettings::default()
    };
    let first = cache.tiers(&small, &settings, workhorse_config).await.unwrap();
    let again = cache.tiers(&small, &settings, workhorse_config).await.unwrap();
    assert_eq!(
        connector.0.load(Ordering::SeqCst),
        1,
        "the same settings reuse the remote client"
    );
    assert!(first.configured(Tier::Remote) && again.configured(Tier::Remote));
    assert!(!again.configured(Tier::Workhorse));

    settings.workhorse = Some(common::test_model());
    let with_workhorse = cache.tiers(&small, &settings, workhorse_config).await.unwrap();
    assert!(with_workhorse.configured(Tier::Workhorse));
    assert_eq!(connector.0.load(Ordering::SeqCst), 2, "a change rebuilds");
    settings.remote = None;
    let local = cache.tiers(&small, &settings, workhorse_config).await.unwrap();
    assert!(!local.configured(Tier::Remote) && local.configured(Tier::Workhorse));
    assert_eq!(connector.0.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_that_fails_hands_the_answer_down_with_a_note() {
    let small = common::engine().await;
    let cache = TierCache::new(Arc::new(Connector::default()));
    let settings = TierSettings {
        remote: Some(RemoteEndpoint::new("http://127.0.0.1:9/v1", "big").unwrap()),
        ..TierSettings::default()
    };
    let router = Router::new(cache.tiers(&small, &settings, workhorse_config).await.unwrap());
    let decision = router.decide(TierChoice::Remote, "Say hi.").await;
    assert_eq!(decision.tier, Tier::Remote);
    let request = Request::chat(vec![ChatMessage::user("Say hi.")]).with_sampling(Sampling::greedy(4));
    let (generation, model, decision) = router.start(decision, request).await.unwrap();
    assert_eq!(decision.tier, Tier::Small, "no workhorse: straight down to small");
    assert_eq!(decision.wanted, Some(Tier::Remote));
    let note = decision.note.unwrap_or_default();
    assert!(
        note.contains("cannot reach the endpoint") && note.ends_with("answered by small"),
        "{note}"
    );
    assert_eq!(model, small.info().name);
    assert!(!generation.collect().await.unwrap().text.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_workhorse_unloads_and_loads_again_when_asked() {
    let workhorse = Workhorse::new(workhorse_config(&common::test_model()), Duration::from_millis(300));
    let engine = workhorse.engine().await.unwrap();
    let ask = || Request::chat(vec![ChatMessage::user("Hi")]).with_sampling(Sampling::greedy(2));
    assert!(engine.complete(ask()).await.is_ok());
    // Polled, not slept on: the engine thread answers until the unload stops it (a
    // tokenize is no request, so polling does not keep it busy).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if engine.tokenize("x", false).await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "the idle workhorse stayed loaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The next request loads it again.
    let again = workhorse.engine().await.unwrap();
    assert!(!again.same_as(&engine));
    assert!(again.complete(ask()).await.is_ok());
}
