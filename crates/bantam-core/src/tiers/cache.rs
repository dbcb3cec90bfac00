//! The tiers, built once and kept between requests: rebuilt only when the resident engine
//! or the tier settings change. A chat message then costs no new HTTP client and no
//! keyring call; the workhorse outlives a rebuild while its file and idle time stay the
//! same (so it stays loaded), and one that is replaced or removed is unloaded.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{RemoteChat, RemoteEndpoint, TierSettings, Tiers, Workhorse};
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};

/// Makes the remote tier's client (the network crate's). It may block — the key comes
/// from the OS keyring, a D-Bus call — so it runs on a blocking thread.
pub trait RemoteConnector: Send + Sync + 'static {
    fn connect(&self, endpoint: &RemoteEndpoint) -> Result<Arc<dyn RemoteChat>>;
}

pub struct TierCache {
    connector: Arc<dyn RemoteConnector>,
    built: tokio::sync::Mutex<Option<Built>>,
}

struct Built {
    small: Engine,
    settings: TierSettings,
    tiers: Tiers,
}

impl TierCache {
    pub fn new(connector: Arc<dyn RemoteConnector>) -> Self {
        Self {
            connector,
            built: tokio::sync::Mutex::new(None),
        }
    }

    /// The tiers around `small` under `settings`: the ones built last time when neither
    /// changed. `workhorse_config` says how this process loads a workhorse model (threads,
    /// context); it is asked only when a new workhorse is set up.
    pub async fn tiers(
        &self,
        small: &Engine,
        settings: &TierSettings,
        workhorse_config: impl FnOnce(&Path) -> EngineConfig,
    ) -> Result<Tiers> {
        let mut built = self.built.lock().await;
        if let Some(b) = built
            .as_ref()
            .filter(|b| b.small.same_as(small) && &b.settings == settings)
        {
            return Ok(b.tiers.clone());
        }
        let idle = Duration::from_secs(u64::from(settings.workhorse_idle_minutes.max(1)) * 60);
        let old = built.as_ref().and_then(|b| b.tiers.workhorse.clone());
        let kept = old
            .clone()
            .filter(|w| settings.workhorse.as_deref() == Some(w.path()) && w.idle() == idle);
        if let (Some(old), None) = (&old, &kept) {
            old.unload().await;
        }
        let workhorse = match (&settings.workhorse, kept) {
            (Some(_), Some(w)) => Some(w),
            (Some(path), None) => Some(Workhorse::new(workhorse_config(path), idle)),
            (None, _) => None,
        };
        let remote = match &settings.remote {
            Some(endpoint) => {
                let connector = self.connector.clone();
                let endpoint = endpoint.clone();
                Some(
                    tokio::task::spawn_blocking(move || connector.connect(&endpoint))
                        .await
                        .map_err(Error::panicked("connecting the remote tier"))??,
                )
            }
            None => None,
        };
        let tiers = Tiers::new(small.clone()).with_workhorse(workhorse).with_remote(remote);
        *built = Some(Built {
            small: small.clone(),
            settings: settings.clone(),
            tiers: tiers.clone(),
        });
        Ok(tiers)
    }
}
