//! `POST /v1/embeddings`: answered once an embedding model exists (the memory and
//! search work brings one); until then a clear error, not a 404 for a known route.

use crate::error::ApiError;

pub async fn embeddings() -> ApiError {
    ApiError::param(
        "model",
        "Bantam has no embedding model yet: /v1/embeddings answers once one is installed",
    )
    .with_code("model_not_found")
}
