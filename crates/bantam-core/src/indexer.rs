//! Indexing for search in the background, for a process that stays up (meant for the app,
//! which does not start it yet: docs/search.md says why): what is
//! stored gets its vectors soon after, a small batch at a time. The chat comes first, in
//! two ways. Every call to the embedding model waits until the chat engine has nothing
//! running or queued. And a chat about to start `step_aside`s: it waits for the one small
//! call under way (tens of milliseconds) and no new call starts until its request is in.
//! The two models never compute at once: on a CPU, two llama.cpp thread pools on the same
//! cores slowed a chat's first token ~2× (`bantam bench index-while-chatting`,
//! docs/search.md). A search that needs everything indexed now (`catch_up`) embeds the
//! rest at full speed.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{watch, Mutex, Notify, OwnedMutexGuard};

use crate::embed::Embedder;
use crate::error::Result;
use crate::search;
use crate::{Engine, Store};

/// Sources stored per background batch.
pub const BACKGROUND_BATCH: usize = 2;
/// Windows per call to the embedding model in the background: one window (about 100
/// words, 130–300 tokens) is 40–90 ms with all-MiniLM-L6-v2 on two CPU threads — what a
/// chat stepping in waits at most. Two a call made a chat's first token 1.9× idle, one
/// 1.4× (`bench index-while-chatting`). The engine is checked before every call, not
/// every batch: one long mail is a hundred windows.
pub const BACKGROUND_WINDOWS: usize = 1;

/// Shared by the clones; the background task holds one too.
struct Inner {
    store: Store,
    embedder: Embedder,
    poked: Notify,
    /// True when the background task last looked and found nothing left to embed.
    caught_up: watch::Sender<bool>,
    /// Held by the background during each call to the embedding model, and by a chat
    /// while it submits (`step_aside`).
    call: Arc<Mutex<()>>,
}

#[derive(Clone)]
pub struct Indexer {
    inner: Arc<Inner>,
}

/// The background task; it stops when this is dropped.
pub struct Background(tokio::task::JoinHandle<()>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Indexer {
    pub fn new(store: Store, embedder: Embedder) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                embedder,
                poked: Notify::new(),
                caught_up: watch::Sender::new(false),
                call: Arc::new(Mutex::new(())),
            }),
        }
    }

    pub fn embedder(&self) -> &Embedder {
        &self.inner.embedder
    }

    /// Something new was stored: the background task looks for it (a poke while it is
    /// busy is kept, not lost).
    pub fn poke(&self) {
        self.inner.caught_up.send_replace(false);
        self.inner.poked.notify_one();
    }

    /// For a chat about to submit: resolves once the background's call under way (if any)
    /// ends, and no new one starts while the returned guard is held. Submit, then drop
    /// it: the background then sees the engine busy and waits for it.
    pub async fn step_aside(&self) -> OwnedMutexGuard<()> {
        self.inner.call.clone().lock_owned().await
    }

    /// Resolves once the background task has found nothing left to embed.
    pub async fn caught_up(&self) {
        let mut caught_up = self.inner.caught_up.subscribe();
        let _ = caught_up.wait_for(|c| *c).await;
    }

    /// Embeds everything not yet embedded now, at full speed, with `progress(done,
    /// total)`: for a search or an answer waiting on it.
    pub async fn catch_up(&self, progress: impl FnMut(usize, usize)) -> Result<usize> {
        // Beside the background's batch, not after it: that one may be waiting for a chat
        // to end. At worst both embed its two sources, and the last to store them wins.
        search::index(&self.inner.store, &self.inner.embedder, progress).await
    }

    /// Starts indexing in the background on the current runtime: at once, then after
    /// every poke, `BACKGROUND_BATCH` sources at a time, each batch once `chat()` (the
    /// engine chats run on now, if any) is idle. An error is logged and waits for the
    /// next poke.
    pub fn start<C, F>(&self, chat: C) -> Background
    where
        C: Fn() -> F + Send + Sync + 'static,
        F: Future<Output = Option<Engine>> + Send,
    {
        let inner = self.inner.clone();
        Background(tokio::spawn(async move {
            loop {
                loop {
                    // Before each call: the engine idle, and the call's turn held.
                    let pause = || {
                        let current = chat();
                        let call = inner.call.clone();
                        async move {
                            let engine = current.await;
                            loop {
                                if let Some(engine) = &engine {
                                    engine.idle().await;
                                }
                                let turn = call.clone().lock_owned().await;
                                // A chat may have stepped in while this waited for the turn.
                                if engine.as_ref().is_none_or(Engine::is_idle) {
                                    return turn;
                                }
                            }
                        }
                    };
                    let done = search::index_some(
                        &inner.store,
                        &inner.embedder,
                        BACKGROUND_BATCH,
                        BACKGROUND_WINDOWS,
                        pause,
                    )
                    .await;
                    match done {
                        Ok(0) => {
                            inner.caught_up.send_replace(true);
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!("background indexing stopped until the next change: {e}");
                            break;
                        }
                    }
                }
                inner.poked.notified().await;
            }
        }))
    }
}
