//! The engine's state as the windows and the tray see it.

use std::path::PathBuf;

use bantam_core::engine::EngineLoad;
use serde::Serialize;
use ts_rs::TS;

/// What the tray tooltip and the windows show.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EngineState {
    /// No model configured or found.
    NoModel,
    Loading {
        model: String,
        progress: f32,
    },
    Ready {
        model: String,
        /// The file loaded (two downloads of one model can share a name).
        path: PathBuf,
        quantization: String,
        parameters: u64,
    },
    Paused {
        model: String,
    },
    Error {
        model: String,
        message: String,
    },
}

impl EngineState {
    pub fn summary(&self, load: EngineLoad) -> String {
        match self {
            EngineState::NoModel => "Bantam — no model chosen".into(),
            EngineState::Loading { model, progress } => {
                format!("Bantam — loading {model} ({:.0}%)", progress * 100.0)
            }
            EngineState::Ready { model, .. } if load.active + load.queued > 0 => {
                format!("Bantam — {model}, busy with {} requests", load.active + load.queued)
            }
            EngineState::Ready { model, .. } => format!("Bantam — {model}, ready"),
            EngineState::Paused { model } => format!("Bantam — {model}, paused"),
            EngineState::Error { message, .. } => format!("Bantam — model failed: {message}"),
        }
    }
}

#[derive(Serialize, Clone, TS)]
pub struct StatusView {
    #[serde(flatten)]
    pub state: EngineState,
    pub active: usize,
    pub queued: usize,
    pub summary: String,
}
