//! What every command needs: the data directory, the store, and (for chat) the engine.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use bantam_core::models::ModelLibrary;
use bantam_core::paths::DataDir;
use bantam_core::tiers::{Task, TierChoice};
use bantam_core::{Engine, EngineConfig, Store};

use crate::Global;

pub struct Context {
    pub data: DataDir,
    pub store: Store,
    pub global: Global,
}

impl Context {
    pub async fn open(global: &Global) -> Result<Self> {
        let data = DataDir::resolve(global.data_dir.as_deref())?;
        data.ensure()?;
        let store = Store::open(&data.database())
            .await
            .with_context(|| format!("opening the database in {}", data.root().display()))?;
        Ok(Self {
            data,
            store,
            global: global.clone(),
        })
    }

    /// `--model` / `BANTAM_MODEL`, else the default from settings, else a catalogue model
    /// already in the data directory (the default one first).
    pub async fn model_path(&self) -> Result<PathBuf> {
        if let Some(path) = &self.global.model {
            return Ok(path.clone());
        }
        self.library().model_to_load().await?.ok_or_else(|| {
            anyhow::anyhow!(
                "no model configured: pass --model PATH, set BANTAM_MODEL, or run \
                 `bantam models import PATH --default` (models/fetch-test-model.sh fetches a small one)"
            )
        })
    }

    /// What `bantam bench` and `bantam eval` run on.
    pub async fn bench_setup(&self) -> Result<bantam_bench::Setup> {
        Ok(bantam_bench::Setup {
            model: self.model_path().await?,
            threads: self.global.threads,
            ctx_size: self.global.ctx_size,
            chat_template: self.global.chat_template.clone(),
            prompt_cache_mib: self.global.prompt_cache_mib,
        })
    }

    pub fn library(&self) -> ModelLibrary {
        ModelLibrary::new(self.store.clone(), self.data.models_dir())
    }

    pub async fn engine(&self) -> Result<Engine> {
        // The CLI serves one person: two slots (an answer and a spare) are plenty.
        self.engine_with(2).await
    }

    /// The tiers set up, around the resident `engine`: the workhorse loads (with this
    /// command's settings) only when a request is routed to it.
    pub async fn tiers(&self, engine: Engine) -> Result<bantam_core::tiers::Tiers> {
        let settings = self.store.tier_settings().await?;
        let cache = bantam_core::tiers::TierCache::new(std::sync::Arc::new(bantam_fetch::remote::KeyringConnector));
        let config = |path: &std::path::Path| EngineConfig {
            threads: self.global.threads,
            context_size: self.global.ctx_size,
            chat_template: self.global.chat_template.clone(),
            parallel: 1,
            ..EngineConfig::new(path)
        };
        Ok(cache.tiers(&engine, &settings, config).await?)
    }

    /// The engine for `task`: the workhorse where the user pinned the task to it
    /// (`bantam tiers task`) and no `--model` overrides, else the resident model (with a
    /// note when the workhorse does not load).
    pub async fn task_engine(&self, task: Task) -> Result<Engine> {
        let settings = self.store.tier_settings().await?;
        let pinned = settings.tasks.get(task) == TierChoice::Workhorse;
        match (pinned, &self.global.model, &settings.workhorse) {
            (true, None, Some(path)) => match self.engine_at(path, 2).await {
                Ok(engine) => return Ok(engine),
                Err(e) => eprintln!(
                    "{} runs on the small model: the workhorse did not load ({e:#})",
                    task.as_str()
                ),
            },
            (true, None, None) => eprintln!(
                "{} runs on the small model: no workhorse is set (`bantam tiers workhorse MODEL`)",
                task.as_str()
            ),
            _ => {}
        }
        self.engine().await
    }

    /// The engine with `parallel` slots (`bantam serve` decodes its clients together).
    pub async fn engine_with(&self, parallel: usize) -> Result<Engine> {
        self.engine_at(&self.model_path().await?, parallel).await
    }

    async fn engine_at(&self, path: &std::path::Path, parallel: usize) -> Result<Engine> {
        let config = EngineConfig {
            threads: self.global.threads,
            context_size: self.global.ctx_size,
            chat_template: self.global.chat_template.clone(),
            parallel,
            prompt_cache_mib: self.global.prompt_cache_mib,
            ..EngineConfig::new(path)
        };
        let show = std::io::stderr().is_terminal();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = name.clone();
        let engine = Engine::start_with_progress(config, move |p| {
            if show {
                eprint!("\rloading {label} {:>3.0}%", p * 100.0);
                let _ = std::io::stderr().flush();
            }
        })
        .await;
        if show {
            eprint!("\r\x1b[2K");
        }
        Ok(engine?)
    }
}
