//! The tiers the user set up, kept in the store's settings (the remote endpoint's key is
//! not here: it lives in the OS keyring, the network crate's job).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{settings::keys, Store};
use crate::tiers::{Tier, TierChoice};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TierSettings {
    /// A bigger local GGUF, loaded when a request is routed to it.
    pub workhorse: Option<PathBuf>,
    /// Unloaded after this many idle minutes (its memory back to the machine).
    pub workhorse_idle_minutes: u32,
    pub remote: Option<RemoteEndpoint>,
    /// Where each kind of work runs.
    pub tasks: TaskTiers,
}

impl Default for TierSettings {
    fn default() -> Self {
        Self {
            workhorse: None,
            workhorse_idle_minutes: 10,
            remote: None,
            tasks: TaskTiers::default(),
        }
    }
}

/// The kinds of work a user can place on a tier. (The router's own decision always runs
/// on the resident model: it is there to save the bigger one.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Task {
    /// Chat and quick ask.
    Chat,
    /// Document summaries and metadata.
    Documents,
    /// Email triage and reply drafts.
    Triage,
    /// Finding personal data to redact.
    Redaction,
}

impl Task {
    pub const ALL: [Task; 4] = [Task::Chat, Task::Documents, Task::Triage, Task::Redaction];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Chat => "chat",
            Task::Documents => "documents",
            Task::Triage => "triage",
            Task::Redaction => "redaction",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A tier per task. Chat is routed per question unless pinned (new conversations start
/// with this choice, each can change it); the others run on one local tier, the resident
/// model unless the user pins them to the workhorse. They never go to the remote tier:
/// documents and mail are the user's private data, and redaction must happen before
/// anything leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TaskTiers {
    pub chat: TierChoice,
    pub documents: Tier,
    pub triage: Tier,
    pub redaction: Tier,
}

impl Default for TaskTiers {
    fn default() -> Self {
        Self {
            chat: TierChoice::Auto,
            documents: Tier::Small,
            triage: Tier::Small,
            redaction: Tier::Small,
        }
    }
}

impl TaskTiers {
    /// Where `task` runs (chat: its default choice).
    pub fn get(&self, task: Task) -> TierChoice {
        match task {
            Task::Chat => self.chat,
            Task::Documents => TierChoice::pinned(self.documents),
            Task::Triage => TierChoice::pinned(self.triage),
            Task::Redaction => TierChoice::pinned(self.redaction),
        }
    }

    /// Pins `task` to `choice`; refused where the task cannot run there.
    pub fn set(&mut self, task: Task, choice: TierChoice) -> Result<()> {
        let refuse = |why| Error::TierNotAllowed {
            task: task.as_str(),
            tier: choice.as_str(),
            why,
        };
        let slot = match task {
            Task::Chat => {
                self.chat = choice;
                return Ok(());
            }
            Task::Documents => &mut self.documents,
            Task::Triage => &mut self.triage,
            Task::Redaction => &mut self.redaction,
        };
        *slot = match choice {
            TierChoice::Auto => return Err(refuse("only chat is routed per request; pick small or workhorse")),
            TierChoice::Remote => return Err(refuse("documents, mail and redaction stay on this machine")),
            TierChoice::Small => Tier::Small,
            TierChoice::Workhorse => Tier::Workhorse,
        };
        Ok(())
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

    #[test]
    fn tasks_other_than_chat_stay_local_and_unrouted() {
        let mut tasks = TaskTiers::default();
        assert_eq!(tasks.get(Task::Chat), TierChoice::Auto);
        assert_eq!(tasks.get(Task::Triage), TierChoice::Small);
        tasks.set(Task::Chat, TierChoice::Remote).unwrap();
        tasks.set(Task::Documents, TierChoice::Workhorse).unwrap();
        assert_eq!(tasks.get(Task::Documents), TierChoice::Workhorse);
        assert!(tasks.set(Task::Triage, TierChoice::Remote).is_err());
        assert!(tasks.set(Task::Redaction, TierChoice::Auto).is_err());
        assert_eq!(
            tasks.get(Task::Triage),
            TierChoice::Small,
            "a refused choice changes nothing"
        );
        // Settings saved before tasks had tiers read with the defaults.
        let old: TierSettings = serde_json::from_str(r#"{"workhorse":null,"workhorse_idle_minutes":5}"#).unwrap();
        assert_eq!(old.tasks, TaskTiers::default());
        assert_eq!(old.workhorse_idle_minutes, 5);
    }
}
