//! The one resident service behind every window: the store, and the engine with its
//! lifecycle (loading → ready, paused, failed). Windows learn about changes from the
//! `engine-state` event; nothing polls.

use std::path::PathBuf;
use std::sync::Arc;

use bantam_core::engine::EngineLoad;
use bantam_core::models::ModelLibrary;
use bantam_core::paths::DataDir;
use bantam_core::tasks::documents::{DocumentOptions, DocumentService};
use bantam_core::tasks::triage::{TriageBook, TriageService};
use bantam_core::{Engine, EngineConfig, Store};
use tokio::sync::RwLock;

use crate::engine::dto::EngineState;
use crate::error::{AppError, AppResult};
use crate::running::Running;

type Listener = Arc<dyn Fn(&EngineState) + Send + Sync>;

struct EngineSlot {
    state: EngineState,
    engine: Option<Engine>,
    /// Bumped on every (re)load so that a slow, superseded load cannot overwrite a newer one.
    generation: u64,
}

/// Shared by all commands (`tauri::State<Service>`).
pub struct Service {
    pub data: DataDir,
    pub store: Store,
    slot: RwLock<EngineSlot>,
    listener: std::sync::RwLock<Option<Listener>>,
    /// What the user can stop: answers, summaries, the mail run.
    running: Running,
    /// Unfinished summaries are resumed once, on the first successful load.
    resumed: std::sync::atomic::AtomicBool,
    /// `BANTAM_MODEL` given at start-up: wins over settings until a model is picked in
    /// the app.
    model_override: std::sync::Mutex<Option<PathBuf>>,
    /// Model downloads, started with the app.
    downloads: std::sync::OnceLock<bantam_fetch::DownloadQueue>,
    /// The tiers, built once per settings change (the workhorse stays loaded until idle).
    tiers: bantam_core::tiers::TierCache,
    /// The indexer over the embedding model for search and ask, started on first use
    /// (`None`: there is no embedding model on this machine, and they go by words only).
    indexing: tokio::sync::OnceCell<Option<bantam_core::indexer::Indexer>>,
}

/// Slots: a chat and the popup at once. Each slot reserves a full context of KV cache
/// (docs/engine.md): 4 slots would hold ~1.8 GB for a 3B model at 4k.
pub const PARALLEL: usize = 2;

/// How long answers being written may go on when the model is switched or paused.
const UNLOAD_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl Service {
    pub async fn open(data_dir: Option<PathBuf>, model_override: Option<PathBuf>) -> AppResult<Arc<Self>> {
        let data = DataDir::resolve(data_dir.as_deref())?;
        data.ensure()?;
        let store = Store::open(&data.database()).await?;
        Ok(Arc::new(Self {
            data,
            store,
            slot: RwLock::new(EngineSlot {
                state: EngineState::NoModel,
                engine: None,
                generation: 0,
            }),
            listener: std::sync::RwLock::new(None),
            running: Default::default(),
            resumed: Default::default(),
            model_override: std::sync::Mutex::new(model_override),
            downloads: std::sync::OnceLock::new(),
            tiers: bantam_core::tiers::TierCache::new(Arc::new(bantam_fetch::remote::KeyringConnector)),
            indexing: tokio::sync::OnceCell::new(),
        }))
    }

    /// Called on every state change (the shell forwards it to windows and the tray).
    pub fn on_state(&self, f: impl Fn(&EngineState) + Send + Sync + 'static) {
        if let Ok(mut l) = self.listener.write() {
            *l = Some(Arc::new(f));
        }
    }

    fn emit(&self, state: &EngineState) {
        let listener = self.listener.read().ok().and_then(|l| l.clone());
        if let Some(f) = listener {
            f(state);
        }
    }

    pub async fn state(&self) -> EngineState {
        self.slot.read().await.state.clone()
    }

    pub async fn load(&self) -> EngineLoad {
        self.slot
            .read()
            .await
            .engine
            .as_ref()
            .map(Engine::load)
            .unwrap_or_default()
    }

    /// The engine, or an error a person understands when there is none.
    pub async fn engine(&self) -> AppResult<Engine> {
        let slot = self.slot.read().await;
        match (&slot.engine, &slot.state) {
            (Some(engine), _) => Ok(engine.clone()),
            (None, EngineState::Loading { .. }) => Err(AppError::ModelLoading),
            (None, EngineState::Paused { .. }) => Err(AppError::ModelPaused),
            (None, EngineState::Error { message, .. }) => Err(AppError::ModelFailed(message.clone())),
            (None, _) => Err(AppError::NoModel),
        }
    }

    /// The router over the tiers set up now.
    pub async fn router(&self) -> AppResult<bantam_core::router::Router> {
        Ok(bantam_core::router::Router::new(self.tiers().await?))
    }

    /// The tiers set up now (Models → Tiers, or `bantam tiers`): the resident engine, the
    /// workhorse (the same one while its file and idle time stay the same) and the remote
    /// endpoint.
    pub async fn tiers(&self) -> AppResult<bantam_core::tiers::Tiers> {
        let engine = self.engine().await?;
        let tiers = self.store.tier_settings().await?;
        // How a workhorse loads here: read only when there is one to set up.
        let app = match tiers.workhorse {
            Some(_) => Some(self.store.app_settings().await?),
            None => None,
        };
        let config = |path: &std::path::Path| {
            let app = app.unwrap_or_default();
            EngineConfig {
                context_size: app.context_size,
                gpu_layers: app.gpu_layers,
                parallel: 1,
                ..EngineConfig::new(path)
            }
        };
        Ok(self.tiers.tiers(&engine, &tiers, config).await?)
    }

    /// The engine for a task the user placed on a local tier (documents, triage): the
    /// workhorse when chosen and it loads, else the resident model.
    async fn task_engine(&self, task: bantam_core::tiers::Task) -> AppResult<Engine> {
        use bantam_core::tiers::TierChoice;
        let choice = self.store.tier_settings().await?.tasks.get(task);
        if choice != TierChoice::Workhorse {
            return self.engine().await;
        }
        let (engine, why) = self
            .tiers()
            .await?
            .local_engine(bantam_core::tiers::Tier::Workhorse)
            .await;
        if let Some(why) = why {
            tracing::warn!("{} runs on the resident model: {why}", task.as_str());
        }
        Ok(engine)
    }

    /// Documents on the tier chosen for them (the resident model by default).
    pub async fn documents(&self) -> AppResult<DocumentService> {
        Ok(DocumentService::new(
            self.task_engine(bantam_core::tiers::Task::Documents).await?,
            self.store.clone(),
            DocumentOptions::default(),
        ))
    }

    /// The triage record book: rules, corrections, the Inbox. Needs no model.
    pub async fn triage_book(&self) -> AppResult<TriageBook> {
        Ok(TriageBook::open(&self.store).await?)
    }

    /// Triage on the tier chosen for it, with the user's categories and rules.
    pub async fn triage(&self) -> AppResult<TriageService> {
        let engine = self.task_engine(bantam_core::tiers::Task::Triage).await?;
        Ok(TriageService::new(engine, self.triage_book().await?))
    }

    pub fn library(&self) -> ModelLibrary {
        ModelLibrary::new(self.store.clone(), self.data.models_dir())
    }

    /// The indexer over the embedding model: `BANTAM_EMBED_MODEL` given at start-up, else
    /// the one on this machine ([`bantam_core::search::find_embed_model`]); started once.
    /// Search and ask catch it up before they look (docs/search.md: background indexing
    /// is not on in the app yet). A model that fails to load is logged and search goes by
    /// words.
    pub async fn indexer(&self) -> Option<bantam_core::indexer::Indexer> {
        self.indexing
            .get_or_init(|| async {
                let path = std::env::var_os("BANTAM_EMBED_MODEL")
                    .map(PathBuf::from)
                    .or_else(|| bantam_core::search::find_embed_model(&self.data.models_dir()))?;
                match bantam_core::embed::Embedder::start(bantam_core::embed::EmbedConfig::new(&path)).await {
                    Ok(embedder) => Some(bantam_core::indexer::Indexer::new(self.store.clone(), embedder)),
                    Err(e) => {
                        tracing::warn!("embedding model {} did not load: {e}", path.display());
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// The embedding model, if there is one (see [`Service::indexer`]).
    pub async fn embedder(&self) -> Option<bantam_core::embed::Embedder> {
        self.indexer().await.map(|i| i.embedder().clone())
    }

    pub fn running(&self) -> &Running {
        &self.running
    }

    /// The download queue (started on first use, on the app's runtime).
    pub async fn downloads(&self) -> AppResult<bantam_fetch::DownloadQueue> {
        if let Some(q) = self.downloads.get() {
            return Ok(q.clone());
        }
        let downloader = bantam_fetch::Downloader::new(self.store.clone(), self.data.models_dir())?;
        let queue = bantam_fetch::DownloadQueue::start(downloader).await?;
        Ok(self.downloads.get_or_init(|| queue).clone())
    }

    /// A finished download becomes the model in use when there is none yet: a new
    /// user's first download is what they want to chat with.
    pub async fn adopt_if_none(self: &Arc<Self>, file_name: &str) -> AppResult<()> {
        if !matches!(self.state().await, EngineState::NoModel) {
            return Ok(());
        }
        let path = self.data.models_dir().join(file_name);
        self.store
            .set_setting(bantam_core::store::settings::keys::DEFAULT_MODEL, &path)
            .await?;
        self.start_loading().await
    }

    /// A model picked in the app replaces the start-up override from now on.
    pub fn clear_override(&self) {
        if let Ok(mut o) = self.model_override.lock() {
            *o = None;
        }
    }

    /// The model to load: start-up override, else the default in settings, else a
    /// catalogue file in the data directory.
    pub async fn model_path(&self) -> AppResult<Option<PathBuf>> {
        let override_path = self.model_override.lock().ok().and_then(|o| o.clone());
        if let Some(p) = override_path {
            return Ok(Some(p));
        }
        Ok(self.library().model_to_load().await?)
    }

    /// Publishes a finished load, unless a newer (re)load or a pause superseded it.
    async fn finish_loading(&self, generation: u64, state: EngineState, engine: Option<Engine>) {
        let mut slot = self.slot.write().await;
        if slot.generation != generation {
            return;
        }
        slot.state = state.clone();
        let ready = engine.is_some();
        slot.engine = engine;
        drop(slot);
        self.emit(&state);
        if ready && !self.resumed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.resume_documents().await;
        }
    }

    /// Summaries a crash or quit left unfinished: back in the queue, then finished in the
    /// background (their chunk summaries so far are kept).
    async fn resume_documents(&self) {
        let resumed = async {
            self.store.recover_interrupted_jobs().await?;
            self.documents().await?.resume_pending().await.map_err(AppError::from)
        };
        match resumed.await {
            Ok(runs) => {
                for run in runs {
                    tauri::async_runtime::spawn(async move {
                        if let Err(e) = run.finish().await {
                            tracing::warn!("resumed summary failed: {e}");
                        }
                    });
                }
            }
            Err(e) => tracing::warn!("could not resume unfinished summaries: {e}"),
        }
    }

    /// (Re)loads the model in the background; returns at once. Progress and the outcome
    /// arrive through the state listener.
    pub async fn start_loading(self: &Arc<Self>) -> AppResult<()> {
        let Some(path) = self.model_path().await? else {
            let mut slot = self.slot.write().await;
            slot.generation += 1;
            slot.engine = None;
            slot.state = EngineState::NoModel;
            drop(slot);
            self.emit(&EngineState::NoModel);
            return Ok(());
        };
        let settings = self.store.app_settings().await?;
        let model = display_name(&path);
        let (generation, old) = {
            let mut slot = self.slot.write().await;
            slot.generation += 1;
            slot.state = EngineState::Loading {
                model: model.clone(),
                progress: 0.0,
            };
            (slot.generation, slot.engine.take())
        };
        self.emit(&EngineState::Loading {
            model: model.clone(),
            progress: 0.0,
        });
        let config = EngineConfig {
            context_size: settings.context_size,
            gpu_layers: settings.gpu_layers,
            parallel: PARALLEL,
            ..EngineConfig::new(&path)
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            // Unload the old model first (answers in progress get a few seconds to end):
            // two models resident at once could exhaust memory.
            if let Some(old) = old {
                old.shutdown(UNLOAD_GRACE).await;
            }
            let progress_to = Arc::clone(&this);
            let progress_model = model.clone();
            let last = std::sync::Mutex::new(0.0f32);
            let result = Engine::start_with_progress(config, move |p| {
                // Whole percents only: the listener crosses into the webviews.
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if p - *last >= 0.01 || p >= 1.0 {
                    *last = p;
                    progress_to.emit(&EngineState::Loading {
                        model: progress_model.clone(),
                        progress: p,
                    });
                }
            })
            .await;
            let (state, engine) = match result {
                Ok(engine) => {
                    let info = engine.info();
                    (
                        EngineState::Ready {
                            model: model.clone(),
                            path: info.path.clone(),
                            quantization: info.quantization.clone(),
                            parameters: info.parameters,
                        },
                        Some(engine),
                    )
                }
                Err(e) => (
                    EngineState::Error {
                        model: model.clone(),
                        message: e.to_string(),
                    },
                    None,
                ),
            };
            this.finish_loading(generation, state, engine).await;
        });
        Ok(())
    }

    /// Unloads the weights (answers being written get a few seconds to finish).
    pub async fn pause(&self) {
        let mut slot = self.slot.write().await;
        let model = match &slot.state {
            EngineState::Ready { model, .. }
            | EngineState::Loading { model, .. }
            | EngineState::Error { model, .. } => model.clone(),
            EngineState::Paused { .. } | EngineState::NoModel => return,
        };
        slot.generation += 1;
        let old = slot.engine.take();
        slot.state = EngineState::Paused { model };
        let state = slot.state.clone();
        drop(slot);
        self.emit(&state);
        if let Some(old) = old {
            old.shutdown(UNLOAD_GRACE).await;
        }
    }

    /// Quit: every answer, summary and mail run stops.
    pub fn cancel_all(&self) {
        self.running.cancel_all();
    }
}

pub fn display_name(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
