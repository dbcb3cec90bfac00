//! Every route needs `Authorization: Bearer <token>`: a page in the user's browser or
//! another local user cannot drive the model without the token file.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::ApiState;
use crate::token::same;

pub async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    // CORS preflights carry no credentials; the CORS layer outside answers them.
    if request.method() == axum::http::Method::OPTIONS {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim());
    match given {
        None | Some("") => ApiError::unauthorized(
            "You didn't provide an API key. Send the token from Bantam's Settings (or the data \
             directory's api-token file) as 'Authorization: Bearer <token>'.",
        )
        .into_response(),
        Some(token) if !same(token, state.token()) => {
            ApiError::unauthorized("Incorrect API key provided. Copy the token from Bantam's Settings.").into_response()
        }
        Some(_) => next.run(request).await,
    }
}
