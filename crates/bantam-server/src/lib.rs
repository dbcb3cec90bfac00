//! Bantam's door for other programs: an OpenAI-compatible HTTP API (axum) over the same
//! [`Engine`] handle the app and the CLI use, so API clients are batched with the user's
//! own requests and no second model is loaded. Loopback only unless asked, behind a
//! bearer token, every error in OpenAI's shape.

mod auth;
mod body;
mod error;
mod logprobs;
mod messages;
mod routes;
mod sampling;
mod state;
mod stream;
mod token;
mod types;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use error::ApiError;
pub use state::{ApiState, EngineSource};
pub use token::{load_or_create_token, TokenError, TOKEN_FILE};

/// Where and how the API listens.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub addr: SocketAddr,
    /// Origins a browser may call from (CORS); empty sends no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// The largest request body, in bytes.
    pub body_limit: usize,
}

/// The default port, chosen to clash with none of Ollama (11434), LM Studio (1234),
/// llama-server (8080), Jan (1337) or GPT4All (4891); the app's setting defaults to it.
pub const DEFAULT_PORT: u16 = bantam_core::store::settings::DEFAULT_API_PORT;

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            cors_origins: Vec::new(),
            body_limit: 8 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the API server stopped: {0}")]
    Serve(std::io::Error),
    #[error("CORS origin '{0}' is not a valid header value")]
    Origin(String),
}

/// The API's routes over `state`.
pub fn router(state: ApiState, config: &ApiConfig) -> Result<Router, ServeError> {
    let api = Router::new()
        .route("/v1/models", get(routes::models::list))
        .route("/v1/models/{id}", get(routes::models::one))
        .route("/v1/chat/completions", post(routes::chat::completions))
        .route("/v1/completions", post(routes::completions::completions))
        .route("/v1/responses", post(routes::responses::create))
        .route("/v1/embeddings", post(routes::embeddings::embeddings))
        .route("/health", get(routes::health::health))
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state);
    if config.cors_origins.is_empty() {
        return Ok(api);
    }
    let origins = config
        .cors_origins
        .iter()
        .map(|o| o.parse().map_err(|_| ServeError::Origin(o.clone())))
        .collect::<Result<Vec<axum::http::HeaderValue>, _>>()?;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([axum::http::header::AUTHORIZATION, axum::http::header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    Ok(api.layer(cors))
}

/// Binds `config.addr` (port 0 picks a free one).
pub async fn bind(config: &ApiConfig) -> Result<TcpListener, ServeError> {
    TcpListener::bind(config.addr).await.map_err(|source| ServeError::Bind {
        addr: config.addr,
        source,
    })
}

/// Serves the API on `listener` until `shutdown` resolves; streams in flight end then
/// (their generations are cancelled as their connections close).
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    config: &ApiConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router(state, config)?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve)
}

/// One line per request: method, path, status and the time to its headers (for a stream,
/// its first token).
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        "{method} {path} {} {:.0} ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}
