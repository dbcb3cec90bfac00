//! Which tier answers a chat request, and why. In order: the user's choice for the
//! conversation; no bigger tier set up (nothing to decide); cheap [`signals`]; then the
//! small model's [`judge`]ment, cut at a threshold. The chosen tier is then tried, and a
//! tier that cannot take the request hands it down ([`Tier::fallback`]) with a note.

pub mod judge;
pub mod signals;

use serde::{Deserialize, Serialize};

use crate::engine::{Generation, Request};
use crate::error::Result;
use crate::tiers::{Tier, TierChoice, Tiers};

/// Above this [`judge::Judgement::bigger_score`], the router escalates.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RouteBy {
    /// The conversation is pinned to a tier.
    User,
    /// Only the small tier is set up.
    OnlyTier,
    /// A signal in the text.
    Signal,
    /// The small model's judgement.
    Model,
}

/// A routing decision as answers record it (and the badge shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Decision {
    /// The tier that answered.
    pub tier: Tier,
    /// The tier decided on, when a fallback answered instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<Tier>,
    pub by: RouteBy,
    pub reason: String,
    /// The small model's lean to the bigger tier (0–1), when it decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// What deciding cost (the small model's generation; ~0 for the others).
    pub decision_ms: f64,
    /// Why a fallback answered: shown with the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What the text says of itself before any tier answers: a signal, or the small model's
/// judgement. The router and `bantam eval router` both read it.
pub enum Assessment {
    Signal(signals::Signal),
    Judged { judgement: judge::Judgement, ms: f64 },
}

/// Signals first; the small model only when none fires.
pub async fn assess(small: &crate::Engine, text: &str) -> Result<Assessment> {
    if let Some(signal) = signals::read(text) {
        return Ok(Assessment::Signal(signal));
    }
    let (judgement, ms) = judge::judge(small, text).await?;
    Ok(Assessment::Judged { judgement, ms })
}

#[derive(Clone)]
pub struct Router {
    tiers: Tiers,
}

impl Router {
    pub fn new(tiers: Tiers) -> Self {
        Self { tiers }
    }

    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// Decides where the request whose last user message is `text` should go.
    pub async fn decide(&self, choice: TierChoice, text: &str) -> Decision {
        let started = std::time::Instant::now();
        let decision = |tier, by, reason: &str| Decision {
            tier,
            wanted: None,
            by,
            reason: reason.to_string(),
            score: None,
            decision_ms: started.elapsed().as_secs_f64() * 1000.0,
            note: None,
        };
        if let Some(tier) = choice.tier() {
            return decision(tier, RouteBy::User, &format!("you chose {}", tier.as_str()));
        }
        let Some(bigger) = self.tiers.bigger() else {
            return decision(Tier::Small, RouteBy::OnlyTier, "the only tier set up");
        };
        match assess(self.tiers.small(), text).await {
            Ok(Assessment::Signal(signal)) => {
                let tier = if signal.escalates() { bigger } else { Tier::Small };
                decision(tier, RouteBy::Signal, signal.reason())
            }
            Ok(Assessment::Judged { judgement, ms }) => {
                let score = judgement.bigger_score();
                let tier = if score > DEFAULT_THRESHOLD { bigger } else { Tier::Small };
                Decision {
                    score: Some(score),
                    decision_ms: ms,
                    ..decision(tier, RouteBy::Model, &judgement.reason)
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "the router's judgement failed; the small model answers");
                Decision {
                    note: Some(format!("the router could not decide ({e})")),
                    ..decision(Tier::Small, RouteBy::Model, "the router could not decide")
                }
            }
        }
    }

    /// Starts `request` on the decided tier, or on the next one down when it cannot take
    /// it (the decision then says which it wanted and why it did not get it). Returns the
    /// generation, the model answering and the final decision.
    pub async fn start(&self, mut decision: Decision, request: Request) -> Result<(Generation, String, Decision)> {
        let mut tier = decision.tier;
        loop {
            match self.tiers.submit(tier, request.clone()).await {
                Ok((generation, model)) => {
                    if tier != decision.tier {
                        decision.wanted = Some(decision.tier);
                        decision.tier = tier;
                    }
                    return Ok((generation, model, decision));
                }
                Err(e) => {
                    // Down to the next tier that is set up (small always is).
                    let mut next = tier.fallback();
                    while let Some(t) = next.filter(|t| !self.tiers.configured(*t)) {
                        next = t.fallback();
                    }
                    let Some(next) = next else { return Err(e) };
                    tracing::info!(tier = tier.as_str(), error = %e, "tier unavailable; falling back");
                    let note = format!("{}; answered by {}", e.to_string().trim_end_matches('.'), next.as_str());
                    decision.note = Some(match decision.note.take() {
                        Some(earlier) => format!("{earlier}; {note}"),
                        None => note,
                    });
                    tier = next;
                }
            }
        }
    }
}
