//! Chat: the router picks the tier for a conversation's question, its history goes there
//! (oldest turns dropped if it no longer fits), the answer streams back and is stored
//! with its timings and the routing decision. The CLI and the app both drive chats
//! through this.

use crate::engine::{
    Canceller, ChatMessage, Completion, Engine, Event, Generation, Overflow, Priority, Request, Role, Sampling,
};
use crate::error::Result;
use crate::router::{Decision, Router};
use crate::store::{Conversation, Memory, MessageStats, Store};
use crate::tiers::{TierChoice, Tiers};

/// Sampling for chat: a little repetition penalty keeps small models from looping.
pub fn default_sampling() -> Sampling {
    Sampling {
        repeat_penalty: 1.1,
        max_tokens: 1024,
        ..Sampling::default()
    }
}

#[derive(Debug, Clone)]
pub struct ChatOptions {
    pub sampling: Sampling,
    /// Used when a new conversation is created.
    pub system_prompt: Option<String>,
    /// This answer only: a tier instead of the conversation's choice (re-ask elsewhere).
    pub tier: Option<TierChoice>,
}

impl Default for ChatOptions {
    fn default() -> Self {
        Self {
            sampling: default_sampling(),
            system_prompt: None,
            tier: None,
        }
    }
}

#[derive(Clone)]
pub struct ChatService {
    router: Router,
    store: Store,
}

impl ChatService {
    /// Chat on the resident model alone.
    pub fn new(engine: Engine, store: Store) -> Self {
        Self::with_router(Router::new(Tiers::new(engine)), store)
    }

    pub fn with_router(router: Router, store: Store) -> Self {
        Self { router, store }
    }

    /// The resident model.
    pub fn engine(&self) -> &Engine {
        self.router.tiers().small()
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stores the user's message (in a new conversation when `conversation` is `None`) and
    /// starts the answer.
    pub async fn send(&self, conversation: Option<i64>, text: &str, options: &ChatOptions) -> Result<ChatTurn> {
        let conversation = match conversation {
            Some(id) => self.store.conversation(id).await?,
            None => {
                let mut created = self
                    .store
                    .create_conversation(
                        &title_for(text),
                        Some(&self.engine().info().name),
                        options.system_prompt.as_deref(),
                    )
                    .await?;
                // A new conversation starts where the user placed chat (`bantam tiers task`).
                let choice = self.store.tier_settings().await?.tasks.chat;
                if choice != created.tier_choice {
                    self.store.set_conversation_tier(created.id, choice).await?;
                    created.tier_choice = choice;
                }
                created
            }
        };
        let question = self
            .store
            .add_message(conversation.id, Role::User, text, &MessageStats::default())
            .await?;
        let mut turn = self.answer(conversation, options).await?;
        turn.question_id = Some(question.id);
        Ok(turn)
    }

    /// Replaces the last answer of a conversation with a new one.
    pub async fn regenerate(&self, conversation: i64, options: &ChatOptions) -> Result<ChatTurn> {
        let conversation = self.store.conversation(conversation).await?;
        self.store.delete_last_answer(conversation.id).await?;
        self.answer(conversation, options).await
    }

    async fn answer(&self, conversation: Conversation, options: &ChatOptions) -> Result<ChatTurn> {
        let mut messages: Vec<ChatMessage> = conversation
            .system_prompt
            .iter()
            .map(|s| ChatMessage::system(s.clone()))
            .collect();
        messages.extend(
            self.store
                .messages(conversation.id)
                .await?
                .iter()
                .filter_map(|m| m.to_chat()),
        );
        if messages.last().map(|m| m.role) != Some(Role::User) {
            return Err(crate::Error::InvalidRequest(
                "the conversation has no question to answer".into(),
            ));
        }
        let question = messages.last().map(|m| m.content.clone()).unwrap_or_default();
        let choice = options.tier.unwrap_or(conversation.tier_choice);
        let decision = self.router.decide(choice, &question).await;
        // The memory of the user stays on this machine: recalled for local tiers only.
        let recalled = if decision.tier == crate::tiers::Tier::Remote {
            Vec::new()
        } else {
            let tokenizer = self.engine().tokenizer().clone();
            crate::memory::recall(&self.store, tokenizer.as_ref(), &question, crate::memory::RECALL_TOKENS).await?
        };
        crate::memory::add_to_prompt(&mut messages, &recalled);
        let request = Request::chat(messages)
            .with_sampling(options.sampling.clone())
            .with_priority(Priority::Interactive)
            .with_overflow(Overflow::DropOldest);
        let (generation, model, decision) = self.router.start(decision, request).await?;
        tracing::info!(
            tier = decision.tier.as_str(),
            by = ?decision.by,
            reason = %decision.reason,
            decision_ms = decision.decision_ms as u64,
            "chat routed"
        );
        Ok(ChatTurn {
            conversation,
            generation,
            store: self.store.clone(),
            model,
            decision,
            recalled,
            question_id: None,
        })
    }
}

/// One answer being streamed. `next` yields the engine's events; when the answer is done
/// (or cancelled with some text), it is saved before `Done` is returned.
pub struct ChatTurn {
    pub conversation: Conversation,
    generation: Generation,
    store: Store,
    model: String,
    decision: Decision,
    recalled: Vec<Memory>,
    question_id: Option<i64>,
}

impl ChatTurn {
    /// The user's message this answers, when it was just sent (not for a regenerate).
    pub fn question_id(&self) -> Option<i64> {
        self.question_id
    }

    /// The facts from the memory of the user this answer was given.
    pub fn recalled(&self) -> &[Memory] {
        &self.recalled
    }

    /// Where the answer is made and why.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The model answering.
    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn canceller(&self) -> Canceller {
        self.generation.canceller()
    }

    pub async fn next(&mut self) -> Option<Event> {
        let event = self.generation.next().await?;
        if let Event::Done(completion) = &event {
            if let Err(e) = self.save(completion).await {
                return Some(Event::Failed(e));
            }
        }
        Some(event)
    }

    async fn save(&self, c: &Completion) -> Result<()> {
        if c.text.is_empty() {
            return Ok(());
        }
        let stats = MessageStats {
            model: Some(self.model.clone()),
            prompt_tokens: Some(c.usage.prompt_tokens as i64),
            cached_tokens: Some(c.usage.cached_tokens as i64),
            generated_tokens: Some(c.usage.generated_tokens as i64),
            ttft_ms: Some(c.timings.time_to_first_token_ms),
            tokens_per_s: Some(c.timings.tokens_per_s),
            finish_reason: Some(c.finish_reason.as_str().to_string()),
            route: Some(self.decision.clone()),
        };
        self.store
            .add_message(self.conversation.id, Role::Assistant, &c.text, &stats)
            .await?;
        Ok(())
    }
}

/// A conversation's title: the start of its first message, on one line.
pub(crate) fn title_for(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    if title.is_empty() {
        "New chat".into()
    } else {
        title
    }
}
