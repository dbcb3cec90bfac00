//! The tiers the user set up, kept in the store's settings (the remote endpoint's key is
//! not here: it lives in the OS keyring, the network crate's job).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{settings::keys, Store};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TierSettings {
    /// A bigger local GGUF, loaded when a request is routed to it.
    pub workhorse: Option<PathBuf>,
    /// Unloaded after this many idle minutes (its memory back to the machine).
    pub workhorse_idle_minutes: u32,
    pub remote: Option<RemoteEndpoint>,
}

impl Default for TierSettings {
    fn default() -> Self {
        Self {
            workhorse: None,
            workhorse_idle_minutes: 10,
            remote: None,
        }
    }
}

/// An OpenAI-compatible endpoint: `base_url` up to `/v1` (as the openai clients take it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RemoteEndpoint {
    pub base_url: String,
    pub model: String,
}

impl RemoteEndpoint {
    /// Checks the URL's shape (http or https, a host) and trims a trailing `/`.
    pub fn new(base_url: &str, model: &str) -> Result<Self> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        let rest = base_url
            .strip_prefix("https://")
            .or_else(|| base_url.strip_prefix("http://"))
            .ok_or_else(|| Error::InvalidRequest(format!("{base_url:?} is not an http(s) URL")))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(Error::InvalidRequest(format!("{base_url:?} has no host")));
        }
        if model.trim().is_empty() {
            return Err(Error::InvalidRequest("the remote model's name is empty".into()));
        }
        Ok(Self {
            base_url,
            model: model.trim().to_string(),
        })
    }
}

impl Store {
    pub async fn tier_settings(&self) -> Result<TierSettings> {
        Ok(self.get_setting(keys::TIERS).await?.unwrap_or_default())
    }

    pub async fn set_tier_settings(&self, settings: &TierSettings) -> Result<()> {
        self.set_setting(keys::TIERS, settings).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_a_scheme_a_host_and_a_model() {
        let e = RemoteEndpoint::new(" http://127.0.0.1:9000/v1/ ", "m").unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:9000/v1");
        assert!(RemoteEndpoint::new("ftp://x/v1", "m").is_err());
        assert!(RemoteEndpoint::new("https://", "m").is_err());
        assert!(RemoteEndpoint::new("https://api.example.com/v1", " ").is_err());
    }
}
