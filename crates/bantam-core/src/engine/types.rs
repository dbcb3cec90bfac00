//! What callers send to the engine and what comes back.

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Rendered with the model's chat template.
    Chat(Vec<ChatMessage>),
    /// Sent to the model as is (special tokens in the text are parsed).
    Prompt(String),
}

/// Sampling settings. `temperature <= 0` means greedy decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sampling {
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub repeat_last_n: i32,
    /// OpenAI's penalties over the last `repeat_last_n` tokens: `presence` once for a token
    /// that appeared, `frequency` per appearance. 0 turns each off.
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    /// `None` picks a random seed per request.
    pub seed: Option<u32>,
    pub max_tokens: usize,
    pub stop: Vec<String>,
    /// Keep generating past end-of-generation tokens, for benchmarks that must produce
    /// exactly `max_tokens` (llama.cpp server's `ignore_eos`).
    pub ignore_eos: bool,
    /// Write control tokens as their text, as llama-server does for the tokens a tool-call
    /// format needs (`<tool_call>` is one in Qwen2.5's vocabulary). End-of-generation
    /// tokens still end the answer.
    pub render_special: bool,
    /// Report each generated token's log-probability and this many of the most likely
    /// alternatives at its position (0 to [`MAX_TOP_LOGPROBS`]); `None` computes nothing.
    pub logprobs: Option<usize>,
}

/// The most alternatives per position a request may ask for (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: usize = 20;

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            seed: None,
            max_tokens: 512,
            stop: Vec::new(),
            ignore_eos: false,
            render_special: false,
            logprobs: None,
        }
    }
}

impl Sampling {
    /// Deterministic decoding: always the most likely token.
    pub fn greedy(max_tokens: usize) -> Self {
        Self {
            temperature: 0.0,
            max_tokens,
            ..Self::default()
        }
    }
}

/// Constrains sampling so the output is in a language.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// A GBNF grammar with a `root` rule.
    Grammar(String),
    /// A JSON schema; converted to a grammar by llama.cpp's converter.
    JsonSchema(serde_json::Value),
    /// A GBNF grammar that applies only once the output so far matches one of `patterns`
    /// (regular expressions over the whole output, llama.cpp's lazy grammar): free text
    /// until then, e.g. a tool call after an answer. The grammar gets the output from the
    /// pattern's first group on.
    Lazy { grammar: String, patterns: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Someone is waiting for it: goes before background work.
    #[default]
    Interactive,
    /// Batch jobs (triage, summaries): use what interactive work leaves.
    Background,
}

/// What to do when a chat does not fit in the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Fail with `Error::ContextOverflow`.
    #[default]
    Error,
    /// Drop the oldest turns (never the system prompt nor the last message) and report them.
    DropOldest,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub input: Input,
    pub sampling: Sampling,
    pub constraint: Option<Constraint>,
    pub priority: Priority,
    pub overflow: Overflow,
    /// Reuse a slot's cached prefix (default). Off only for measurements that must
    /// prefill the whole prompt, as llama.cpp server's `cache_prompt: false`.
    pub cache_prompt: bool,
}

impl Request {
    pub fn chat(messages: Vec<ChatMessage>) -> Self {
        Self::new(Input::Chat(messages))
    }

    pub fn prompt(text: impl Into<String>) -> Self {
        Self::new(Input::Prompt(text.into()))
    }

    pub fn new(input: Input) -> Self {
        Self {
            input,
            sampling: Sampling::default(),
            constraint: None,
            priority: Priority::Interactive,
            overflow: Overflow::Error,
            cache_prompt: true,
        }
    }

    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    pub fn with_constraint(mut self, constraint: Constraint) -> Self {
        self.constraint = Some(constraint);
        self
    }

    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    pub fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    pub fn without_prompt_cache(mut self) -> Self {
        self.cache_prompt = false;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its answer.
    Stop,
    /// A stop string was produced (it is not part of the text).
    StopString,
    /// `max_tokens` reached, or the context is full.
    Length,
    /// Cancelled by the caller.
    Cancelled,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::StopString => "stop_string",
            FinishReason::Length => "length",
            FinishReason::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the whole prompt.
    pub prompt_tokens: usize,
    /// Of those, tokens whose KV cache was reused from an earlier request (not recomputed).
    pub cached_tokens: usize,
    /// Tokens actually prefilled for this request (`prompt_tokens - cached_tokens`).
    pub prefilled_tokens: usize,
    pub generated_tokens: usize,
}

impl Usage {
    /// Two generations' counts together (a request answered in two steps).
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.prefilled_tokens += other.prefilled_tokens;
        self.generated_tokens += other.generated_tokens;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Time spent waiting for a free slot.
    pub queue_ms: f64,
    /// From the request's arrival to its first generated token.
    pub time_to_first_token_ms: f64,
    /// Prefill of the new prompt tokens (the engine may share those steps with other requests).
    pub prompt_ms: f64,
    pub prompt_tokens_per_s: f64,
    /// From the first to the last generated token.
    pub generation_ms: f64,
    pub tokens_per_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    pub finish_reason: FinishReason,
    pub usage: Usage,
    pub timings: Timings,
    /// For chats with `Overflow::DropOldest`: how many of the oldest messages (after the
    /// system prompt) were left out to fit the context.
    pub dropped_messages: usize,
    /// Each generated token's log-probability, when the request asked for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logprobs: Vec<TokenLogprob>,
}

/// One token as the model saw it: its text (control tokens as their text; bytes of a
/// character split across tokens as they are) and its natural-log probability under the
/// model's own distribution at that position (before temperature, penalties or grammar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenChoice {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
}

/// A generated token and the most likely alternatives at its position, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub chosen: TokenChoice,
    pub top: Vec<TokenChoice>,
}

/// Streamed back for one request, in order: `Started`, any number of `Token`s, then
/// `Done` — or a single `Failed`. With `Sampling::logprobs`, a `Logprobs` comes right
/// before each `Token` with the tokens whose text that piece carries.
#[derive(Debug)]
pub enum Event {
    Started {
        prompt_tokens: usize,
        cached_tokens: usize,
        dropped_messages: usize,
    },
    Logprobs(Vec<TokenLogprob>),
    Token(String),
    Done(Completion),
    Failed(Error),
}
