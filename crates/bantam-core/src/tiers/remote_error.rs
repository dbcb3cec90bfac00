//! What went wrong with the remote endpoint, as a kind a caller can match (the router
//! falls back on any of them; the app and the CLI say each in plain words).

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteErrorKind {
    /// No connection (nothing listens there, DNS, TLS).
    Unreachable,
    /// No response, or a silence in the stream, past its limit.
    Timeout,
    /// The key was refused (401, 403).
    Auth,
    /// The endpoint does not serve the model asked for.
    ModelNotFound,
    /// 429: too many requests; `retry_after` says when to try again where it was given.
    RateLimited,
    /// 5xx: the endpoint failed.
    Server,
    /// Another 4xx: the endpoint refused the request as made.
    Rejected,
    /// The answer stopped before its end (the connection broke, an unreadable event, an
    /// error event mid-answer).
    StreamBroken,
    /// The endpoint ended the answer without a word.
    EmptyAnswer,
    /// The OS keyring could not keep or give the key.
    Keyring,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct RemoteError {
    pub kind: RemoteErrorKind,
    /// The HTTP status, where the endpoint answered with one.
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// The endpoint's own message, or what failed.
    pub detail: String,
}

impl RemoteError {
    pub fn new(kind: RemoteErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            retry_after: None,
            detail: detail.into(),
        }
    }

    /// The kind an HTTP error status (and the body's `error.code`, where given) means.
    pub fn from_status(status: u16, code: Option<&str>, detail: impl Into<String>) -> Self {
        let kind = match (status, code) {
            (_, Some("model_not_found")) => RemoteErrorKind::ModelNotFound,
            (401 | 403, _) => RemoteErrorKind::Auth,
            (404, _) => RemoteErrorKind::ModelNotFound,
            (408, _) => RemoteErrorKind::Timeout,
            (429, _) => RemoteErrorKind::RateLimited,
            (500..=599, _) => RemoteErrorKind::Server,
            _ => RemoteErrorKind::Rejected,
        };
        Self {
            status: Some(status),
            ..Self::new(kind, detail)
        }
    }

    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    fn describe(&self) -> String {
        let status = self.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
        let detail = &self.detail;
        match self.kind {
            RemoteErrorKind::Unreachable => format!("cannot reach the endpoint: {detail}"),
            RemoteErrorKind::Timeout => format!("the endpoint did not answer in time{status}: {detail}"),
            RemoteErrorKind::Auth => format!("the endpoint refused the API key{status}: {detail}"),
            RemoteErrorKind::ModelNotFound => format!("the endpoint does not serve that model{status}: {detail}"),
            RemoteErrorKind::RateLimited => match self.retry_after {
                Some(after) => format!(
                    "the endpoint is rate limiting{status}; try again in {} s: {detail}",
                    after.as_secs().max(1)
                ),
                None => format!("the endpoint is rate limiting{status}: {detail}"),
            },
            RemoteErrorKind::Server => format!("the endpoint failed{status}: {detail}"),
            RemoteErrorKind::Rejected => format!("the endpoint refused the request{status}: {detail}"),
            RemoteErrorKind::StreamBroken => format!("the answer was cut off: {detail}"),
            RemoteErrorKind::EmptyAnswer => format!("the endpoint sent an empty answer{status}"),
            RemoteErrorKind::Keyring => format!("the OS keyring: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds_and_say_what_to_do() {
        let kind = |s, c| RemoteError::from_status(s, c, "x").kind;
        assert_eq!(kind(401, None), RemoteErrorKind::Auth);
        assert_eq!(kind(403, None), RemoteErrorKind::Auth);
        assert_eq!(kind(404, None), RemoteErrorKind::ModelNotFound);
        assert_eq!(kind(400, Some("model_not_found")), RemoteErrorKind::ModelNotFound);
        assert_eq!(kind(429, None), RemoteErrorKind::RateLimited);
        assert_eq!(kind(503, None), RemoteErrorKind::Server);
        assert_eq!(kind(422, None), RemoteErrorKind::Rejected);
        let limited = RemoteError::from_status(429, None, "slow down").with_retry_after(Some(Duration::from_secs(20)));
        assert_eq!(
            limited.to_string(),
            "the endpoint is rate limiting (HTTP 429); try again in 20 s: slow down"
        );
    }
}
