//! What every route shares: where the engine comes from, the token, the model library.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bantam_core::models::{ModelLibrary, ModelListing};
use bantam_core::Engine;
use futures_util::future::BoxFuture;

use crate::error::ApiError;

/// The engine serving now. The app's service switches and unloads models; the API asks
/// for the current one per request.
pub trait EngineSource: Send + Sync + 'static {
    /// `None` while no model is loaded (or one is loading).
    fn engine(&self) -> BoxFuture<'_, Option<Engine>>;
}

impl EngineSource for Engine {
    fn engine(&self) -> BoxFuture<'_, Option<Engine>> {
        Box::pin(std::future::ready(Some(self.clone())))
    }
}

#[derive(Clone)]
pub struct ApiState {
    inner: Arc<Inner>,
}

struct Inner {
    source: Box<dyn EngineSource>,
    token: String,
    library: Option<ModelLibrary>,
    /// The loaded model's id, by its path (looked up in the library once per model).
    loaded_id: Mutex<Option<(PathBuf, String)>>,
}

impl ApiState {
    pub fn new(source: impl EngineSource, token: String, library: Option<ModelLibrary>) -> Self {
        Self {
            inner: Arc::new(Inner {
                source: Box::new(source),
                token,
                library,
                loaded_id: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn token(&self) -> &str {
        &self.inner.token
    }

    pub(crate) async fn engine(&self) -> Result<Engine, ApiError> {
        self.inner.source.engine().await.ok_or_else(|| {
            ApiError::unavailable(
                "no model is loaded (it may be loading or paused): choose one in Bantam's Models view, or start `bantam serve --model PATH`",
            )
        })
    }

    /// The models on this machine (catalogue downloads and imports), when a library is
    /// known, else none.
    pub(crate) async fn local_models(&self) -> Vec<ModelListing> {
        let Some(library) = &self.inner.library else {
            return Vec::new();
        };
        let hw = bantam_core::hardware::Hardware::detect(Vec::new());
        match library.listing(&hw, &Default::default(), false).await {
            Ok(rows) => rows.into_iter().filter(|r| r.path.is_some()).collect(),
            Err(e) => {
                tracing::warn!("listing the local models failed: {e}");
                Vec::new()
            }
        }
    }

    /// The id clients use for the loaded model: its catalogue id, else its file's stem.
    pub(crate) async fn loaded_id(&self, engine: &Engine) -> String {
        let path = engine.info().path.clone();
        if let Some((p, id)) = self.inner.loaded_id.lock().ok().and_then(|g| g.clone()) {
            if p == path {
                return id;
            }
        }
        let id = self
            .local_models()
            .await
            .into_iter()
            .find(|r| r.path.as_deref().is_some_and(|p| same_file(p, &path)))
            .map_or_else(|| stem(&path), |r| r.id);
        if let Ok(mut cached) = self.inner.loaded_id.lock() {
            *cached = Some((path, id.clone()));
        }
        id
    }

    /// The engine for a request naming `model`: the loaded one answers to its id, its
    /// file's stem or name (or no name); another local model is a clear 404, since one
    /// model is in memory at a time.
    pub(crate) async fn engine_for(&self, model: Option<&str>) -> Result<(Engine, String), ApiError> {
        let engine = self.engine().await?;
        let id = self.loaded_id(&engine).await;
        let path = engine.info().path.clone();
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let wanted = model.map(str::trim).unwrap_or_default();
        if wanted.is_empty() || wanted == id || wanted == stem(&path) || wanted == file {
            return Ok((engine, id));
        }
        // A name that is no model here is what clients hard-code ("gpt-4o-mini"): the
        // loaded model answers, as llama-server and LM Studio do, and the response says
        // which. A model that is here but not loaded was asked for on purpose: answering
        // with another one would mislead.
        let local = self.local_models().await;
        if local.iter().any(|r| r.id == wanted) {
            return Err(ApiError::model_not_found(format!(
                "The model '{wanted}' is on this machine but not loaded; Bantam keeps one model in \
                 memory and is serving '{id}'. Switch models in Bantam's Models view."
            )));
        }
        tracing::debug!("model '{wanted}' is not on this machine; '{id}' answers");
        Ok((engine, id))
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}
