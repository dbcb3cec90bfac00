//! Starts and stops the API server as the settings say; one at a time.

use std::net::SocketAddr;
use std::sync::Arc;

use bantam_core::Engine;
use bantam_server::{ApiConfig, ApiState, EngineSource};
use futures_util::future::BoxFuture;
use tokio::sync::Mutex;

use super::dto::ApiStatus;
use crate::service::Service;

/// The API's engine is whatever the service has loaded now.
struct ServiceEngine(Arc<Service>);

impl EngineSource for ServiceEngine {
    fn engine(&self) -> BoxFuture<'_, Option<Engine>> {
        Box::pin(async move { self.0.engine().await.ok() })
    }
}

struct Serving {
    port: u16,
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tauri::async_runtime::JoinHandle<()>,
}

/// Managed state (`tauri::State<Arc<ApiServer>>`).
#[derive(Default)]
pub struct ApiServer {
    serving: Mutex<Option<Serving>>,
    error: Mutex<Option<String>>,
}

impl ApiServer {
    /// Makes the server match the settings: started, stopped, or moved to another port.
    pub async fn apply(&self, service: &Arc<Service>, enabled: bool, port: u16) {
        let mut serving = self.serving.lock().await;
        if serving.as_ref().is_some_and(|s| !enabled || s.port != port) {
            if let Some(s) = serving.take() {
                let _ = s.stop.send(());
                // Streams in flight end with the connections; don't wait on a slow one.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(3), s.task).await;
            }
        }
        *self.error.lock().await = None;
        if !enabled || serving.is_some() {
            return;
        }
        match start(service, port).await {
            Ok(s) => {
                tracing::info!("API on {}", s.url);
                *serving = Some(s);
            }
            Err(e) => {
                tracing::warn!("the API did not start: {e}");
                *self.error.lock().await = Some(e);
            }
        }
    }

    pub async fn status(&self, service: &Service) -> ApiStatus {
        let url = self.serving.lock().await.as_ref().map(|s| s.url.clone());
        let mut error = self.error.lock().await.clone();
        let token = if url.is_some() {
            match bantam_server::load_or_create_token(service.data.root()) {
                Ok(t) => Some(t),
                Err(e) => {
                    error = Some(e.to_string());
                    None
                }
            }
        } else {
            None
        };
        ApiStatus { url, token, error }
    }
}

async fn start(service: &Arc<Service>, port: u16) -> Result<Serving, String> {
    let token = bantam_server::load_or_create_token(service.data.root()).map_err(|e| e.to_string())?;
    let config = ApiConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        ..ApiConfig::default()
    };
    let listener = bantam_server::bind(&config).await.map_err(|e| match e {
        bantam_server::ServeError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
            format!("port {port} is in use by another program: choose another one")
        }
        other => other.to_string(),
    })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = ApiState::new(ServiceEngine(Arc::clone(service)), token, Some(service.library()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tauri::async_runtime::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = bantam_server::serve(listener, state, &config, shutdown).await {
            tracing::warn!("the API stopped: {e}");
        }
    });
    Ok(Serving {
        port,
        url: format!("http://{addr}/v1"),
        stop,
        task,
    })
}
