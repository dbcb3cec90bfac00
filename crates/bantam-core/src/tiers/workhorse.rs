//! The workhorse tier: a bigger local model, loaded when a request is routed to it (if
//! the fit estimate says it fits next to what is loaded) and unloaded after an idle time,
//! so it holds memory only while it is in use.

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::engine::{gpus, Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::models::fit::{estimate_file, judge, Budget, Fit};

pub struct Workhorse {
    config: EngineConfig,
    idle: Duration,
    engine: tokio::sync::Mutex<Option<Engine>>,
    last_used: Mutex<Instant>,
    me: Weak<Workhorse>,
}

impl Workhorse {
    /// `config` is how it is loaded (its `model_path` the workhorse's file); it is let go
    /// after `idle` without requests.
    pub fn new(config: EngineConfig, idle: Duration) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            config,
            idle,
            engine: tokio::sync::Mutex::new(None),
            last_used: Mutex::new(Instant::now()),
            me: me.clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.config.model_path
    }

    /// How long it stays loaded without requests.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// The loaded engine, loading it first when needed. Refused (a clear reason, nothing
    /// loaded) when the file is missing or the machine has no room for it now.
    pub async fn engine(&self) -> Result<Engine> {
        let mut slot = self.engine.lock().await;
        if let Some(engine) = slot.as_ref() {
            self.touch();
            return Ok(engine.clone());
        }
        check_room(&self.config.model_path, &self.config)?;
        let engine = Engine::start(self.config.clone())
            .await
            .map_err(|e| Error::TierUnavailable {
                tier: "workhorse",
                reason: e.to_string(),
            })?;
        *slot = Some(engine.clone());
        self.touch();
        self.schedule_unload();
        Ok(engine)
    }

    /// Marks a use: the idle time counts from the last one.
    pub fn touch(&self) {
        if let Ok(mut at) = self.last_used.lock() {
            *at = Instant::now();
        }
    }

    /// Unloads now (when nothing runs on it); returns whether it was loaded.
    pub async fn unload(&self) -> bool {
        let engine = self.engine.lock().await.take();
        match engine {
            Some(engine) => {
                engine.shutdown(Duration::from_secs(2)).await;
                true
            }
            None => false,
        }
    }

    /// A watcher that unloads the model once it has been idle (no request running or
    /// queued) for the idle time; it ends with the unload or when the tier is dropped.
    fn schedule_unload(&self) {
        let me = self.me.clone();
        let idle = self.idle;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(idle.min(Duration::from_secs(30))).await;
                let Some(this) = me.upgrade() else { return };
                let quiet = this.last_used.lock().map(|at| at.elapsed() >= idle).unwrap_or(false);
                let mut slot = this.engine.lock().await;
                let busy = slot.as_ref().map(|e| {
                    let load = e.load();
                    load.active + load.queued > 0
                });
                match busy {
                    None => return,
                    Some(false) if quiet => {
                        if let Some(engine) = slot.take() {
                            tracing::info!(model = %this.config.model_path.display(), "workhorse idle: unloaded");
                            engine.shutdown(Duration::from_secs(2)).await;
                        }
                        return;
                    }
                    Some(_) => {}
                }
            }
        });
    }
}

/// The fit estimate for the workhorse with the memory available now (the resident model
/// already counted out of it).
fn check_room(path: &Path, config: &EngineConfig) -> Result<()> {
    if !path.is_file() {
        return Err(Error::TierUnavailable {
            tier: "workhorse",
            reason: format!("its model file {} is missing", path.display()),
        });
    }
    let budget = Budget {
        context_size: config.context_size,
        parallel: config.parallel as u32,
        ubatch: config.batch_size,
    };
    let Some(estimate) = estimate_file(path, &budget)? else {
        return Ok(());
    };
    let verdict = judge(estimate, &Hardware::detect(gpus()));
    if verdict.fit == Fit::TooBig {
        return Err(Error::TierUnavailable {
            tier: "workhorse",
            reason: format!("not enough memory now: it {}", verdict.reason),
        });
    }
    Ok(())
}
