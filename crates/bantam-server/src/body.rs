//! A JSON body whose every failure (not JSON, wrong types, too big) is an OpenAI error.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let mut err = ApiError::invalid(e.body_text());
            err.status = e.status();
            err
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        // The path names the field at fault: `messages[2].role: unknown variant`.
        match serde_path_to_error::deserialize(&mut de) {
            Ok(value) => Ok(JsonBody(value)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                Err(if bytes.is_empty() {
                    ApiError::invalid("the request needs a JSON body")
                } else if path == "." {
                    ApiError::invalid(format!("the body is not a valid request: {inner}"))
                } else {
                    let param = path.split(['.', '[']).next().unwrap_or(&path).to_string();
                    ApiError::param(&param, format!("{path}: {inner}"))
                })
            }
        }
    }
}
