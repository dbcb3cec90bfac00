//! Model tiers: `small` (the resident model), `workhorse` (a bigger local GGUF, loaded on
//! demand, [`workhorse`]) and `remote` (an OpenAI-compatible endpoint the user added,
//! reached through [`RemoteChat`], which the network crate implements). Only `small` is
//! required; [`Tiers`] starts a request on one of them.

mod cache;
mod remote_error;
pub mod settings;
pub mod workhorse;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{ChatMessage, Engine, Generation, Input, Request, Sampling};
use crate::error::{Error, Result};

pub use cache::{RemoteConnector, TierCache};
pub use remote_error::{RemoteError, RemoteErrorKind};
pub use settings::{RemoteEndpoint, Task, TaskTiers, TierSettings};
pub use workhorse::Workhorse;

/// Where an answer is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Tier {
    Small,
    Workhorse,
    Remote,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Small, Tier::Workhorse, Tier::Remote];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Small => "small",
            Tier::Workhorse => "workhorse",
            Tier::Remote => "remote",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Where a request goes when this tier cannot take it: always down, towards the
    /// machine (a local request is never sent away because a local model failed).
    pub fn fallback(self) -> Option<Tier> {
        match self {
            Tier::Remote => Some(Tier::Workhorse),
            Tier::Workhorse => Some(Tier::Small),
            Tier::Small => None,
        }
    }
}

/// A conversation's (or a task's) choice: let the router decide, or always one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TierChoice {
    #[default]
    Auto,
    Small,
    Workhorse,
    Remote,
}

impl TierChoice {
    pub const NAMES: &'static str = "auto, small, workhorse, remote";

    pub fn as_str(self) -> &'static str {
        match self {
            TierChoice::Auto => "auto",
            TierChoice::Small => "small",
            TierChoice::Workhorse => "workhorse",
            TierChoice::Remote => "remote",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(TierChoice::Auto),
            other => Tier::parse(other).map(Self::pinned),
        }
    }

    pub fn pinned(tier: Tier) -> Self {
        match tier {
            Tier::Small => TierChoice::Small,
            Tier::Workhorse => TierChoice::Workhorse,
            Tier::Remote => TierChoice::Remote,
        }
    }

    /// The tier the user pinned, or `None` for the router's choice.
    pub fn tier(self) -> Option<Tier> {
        match self {
            TierChoice::Auto => None,
            TierChoice::Small => Some(Tier::Small),
            TierChoice::Workhorse => Some(Tier::Workhorse),
            TierChoice::Remote => Some(Tier::Remote),
        }
    }
}

/// Read from the store's text column; an unknown value (a newer version's) reads as auto.
impl From<String> for TierChoice {
    fn from(s: String) -> Self {
        Self::parse(&s).unwrap_or_default()
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An OpenAI-compatible endpoint the user configured (the network crate implements it).
/// Its generation streams like the engine's: `Started`, tokens, `Done`.
pub trait RemoteChat: Send + Sync {
    /// The model's name as answers record it (e.g. `gpt-4o-mini @ api.example.com`).
    fn model(&self) -> String;

    /// Starts an answer; fails (without waiting long) when the endpoint cannot be reached.
    fn chat(&self, messages: Vec<ChatMessage>, sampling: Sampling) -> BoxFuture<'_, Result<Generation>>;
}

/// The tiers this process can reach. Cheap to clone.
#[derive(Clone)]
pub struct Tiers {
    small: Engine,
    workhorse: Option<Arc<Workhorse>>,
    remote: Option<Arc<dyn RemoteChat>>,
}

impl Tiers {
    pub fn new(small: Engine) -> Self {
        Self {
            small,
            workhorse: None,
            remote: None,
        }
    }

    pub fn with_workhorse(mut self, workhorse: Option<Arc<Workhorse>>) -> Self {
        self.workhorse = workhorse;
        self
    }

    pub fn with_remote(mut self, remote: Option<Arc<dyn RemoteChat>>) -> Self {
        self.remote = remote;
        self
    }

    /// The resident model (it also makes the router's decisions).
    pub fn small(&self) -> &Engine {
        &self.small
    }

    /// Whether the user set the tier up (not whether it answers now).
    pub fn configured(&self, tier: Tier) -> bool {
        match tier {
            Tier::Small => true,
            Tier::Workhorse => self.workhorse.is_some(),
            Tier::Remote => self.remote.is_some(),
        }
    }

    /// The bigger tier the router escalates to: the workhorse when there is one, else the
    /// remote endpoint.
    pub fn bigger(&self) -> Option<Tier> {
        [Tier::Workhorse, Tier::Remote]
            .into_iter()
            .find(|t| self.configured(*t))
    }

    /// The local engine for work pinned to `tier`: the workhorse when it is set up and
    /// loads, else the resident model, with why it was not the workhorse.
    pub async fn local_engine(&self, tier: Tier) -> (Engine, Option<String>) {
        if tier == Tier::Small {
            return (self.small.clone(), None);
        }
        let Some(workhorse) = self.workhorse.as_ref().filter(|_| tier == Tier::Workhorse) else {
            return (self.small.clone(), Some(not_set_up(tier).to_string()));
        };
        match workhorse.engine().await {
            Ok(engine) => (engine, None),
            Err(e) => (self.small.clone(), Some(e.to_string())),
        }
    }

    /// Starts `request` on `tier`; returns the generation and the model answering.
    pub async fn submit(&self, tier: Tier, request: Request) -> Result<(Generation, String)> {
        match tier {
            Tier::Small => Ok((self.small.submit(request)?, self.small.info().name.clone())),
            Tier::Workhorse => {
                let workhorse = self.workhorse.as_ref().ok_or_else(|| not_set_up(tier))?;
                let engine = workhorse.engine().await?;
                let generation = engine.submit(request)?;
                workhorse.touch();
                Ok((generation, engine.info().name.clone()))
            }
            Tier::Remote => {
                let remote = self.remote.as_ref().ok_or_else(|| not_set_up(tier))?;
                let Input::Chat(messages) = request.input else {
                    return Err(Error::InvalidRequest("the remote tier takes chats only".into()));
                };
                Ok((remote.chat(messages, request.sampling).await?, remote.model()))
            }
        }
    }
}

fn not_set_up(tier: Tier) -> Error {
    Error::TierUnavailable {
        tier: tier.as_str(),
        reason: match tier {
            Tier::Small => "no model is loaded".into(),
            Tier::Workhorse => "no workhorse model is set (`bantam tiers workhorse MODEL`)".into(),
            Tier::Remote => "no remote endpoint is set (`bantam tiers remote --url URL --remote-model NAME`)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_fallback_goes_down() {
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
            assert_eq!(TierChoice::parse(t.as_str()).and_then(TierChoice::tier), Some(t));
        }
        assert_eq!(TierChoice::parse("auto"), Some(TierChoice::Auto));
        assert_eq!(TierChoice::parse("bigger"), None);
        assert_eq!(Tier::Remote.fallback(), Some(Tier::Workhorse));
        assert_eq!(Tier::Workhorse.fallback(), Some(Tier::Small));
        assert_eq!(Tier::Small.fallback(), None);
        let json = serde_json::to_string(&TierChoice::Workhorse).unwrap();
        assert_eq!(json, "\"workhorse\"");
    }
}
