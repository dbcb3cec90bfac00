//! Every failure in OpenAI's error shape, `{"error": {"message", "type", "param",
//! "code"}}`, with the status OpenAI uses for it, so clients raise their usual exceptions.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bantam_core::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
        }
    }

    /// A request OpenAI would refuse as malformed (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 400 about one parameter.
    pub fn param(param: &str, message: impl Into<String>) -> Self {
        Self::invalid(message).with_param(param)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message).with_code("invalid_api_key")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
    }

    pub fn model_not_found(message: impl Into<String>) -> Self {
        Self::not_found(message)
            .with_param("model")
            .with_code("model_not_found")
    }

    /// No model loaded, or it is being switched or unloaded (503: try again).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            Error::ContextOverflow { .. } => {
                ApiError::param("messages", e.to_string()).with_code("context_length_exceeded")
            }
            Error::Grammar(_) | Error::Schema(_) => ApiError::param("response_format", e.to_string()),
            Error::InvalidRequest(_) => ApiError::invalid(e.to_string()),
            // Only this request ended; the engine and every other request go on.
            Error::GrammarDeadEnd => ApiError::internal(e.to_string()).with_code("grammar_dead_end"),
            Error::EngineStopped | Error::Unloaded => {
                ApiError::unavailable(format!("{e}; the model is being switched or unloaded, try again"))
            }
            _ => {
                tracing::error!("API request failed: {e}");
                ApiError::internal(e.to_string())
            }
        }
    }
}

impl From<bantam_core::tools::ToolError> for ApiError {
    fn from(e: bantam_core::tools::ToolError) -> Self {
        use bantam_core::tools::ToolError as T;
        let param = match e {
            T::UnknownTool(_) | T::NoTools(_) => "tool_choice",
            _ => "tools",
        };
        ApiError::param(param, e.to_string())
    }
}
