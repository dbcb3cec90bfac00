//! Builds one request's llama.cpp sampler chain.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;

use super::logs;
use super::types::{Constraint, Sampling};
use crate::error::{Error, Result};

/// Turns a constraint into GBNF text with a `root` rule.
pub(crate) fn grammar_text(constraint: &Constraint) -> Result<String> {
    match constraint {
        Constraint::Grammar(g) => Ok(g.clone()),
        Constraint::JsonSchema(schema) => {
            llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|e| Error::Schema(e.to_string()))
        }
    }
}

/// Whether sampling is a plain argmax over the logits: greedy, unconstrained, no penalty.
/// The engine then skips the sampler chain, which copies the whole vocabulary into a
/// candidate array for every token (measurable on small models; see docs/performance.md).
pub(crate) fn is_plain_greedy(sampling: &Sampling, constraint: Option<&Constraint>) -> bool {
    sampling.temperature <= 0.0
        && constraint.is_none()
        && (sampling.repeat_penalty == 1.0 || sampling.repeat_last_n == 0)
}

/// The most likely token; the first one on ties, as llama.cpp's greedy sampler picks.
pub(crate) fn argmax(logits: &[f32]) -> i32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as i32
}

pub(crate) fn build(model: &LlamaModel, sampling: &Sampling, constraint: Option<&Constraint>) -> Result<LlamaSampler> {
    let mut chain = Vec::with_capacity(7);
    if let Some(constraint) = constraint {
        let grammar = grammar_text(constraint)?;
        logs::clear_recent();
        let sampler = LlamaSampler::grammar(model, &grammar, "root").map_err(|e| {
            let why = logs::recent_errors().join("; ");
            Error::Grammar(if why.is_empty() { e.to_string() } else { why })
        })?;
        // The grammar goes first so every later sampler only sees allowed tokens.
        chain.push(sampler);
    }
    if sampling.repeat_penalty != 1.0 && sampling.repeat_last_n != 0 {
        chain.push(LlamaSampler::penalties(
            model.n_vocab(),
            sampling.repeat_last_n,
            sampling.repeat_penalty,
            0.0,
            0.0,
        ));
    }
    if sampling.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        if sampling.top_k > 0 {
            chain.push(LlamaSampler::top_k(sampling.top_k));
        }
        if sampling.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(sampling.top_p, 1));
        }
        if sampling.min_p > 0.0 {
            chain.push(LlamaSampler::min_p(sampling.min_p, 1));
        }
        chain.push(LlamaSampler::temp(sampling.temperature));
        chain.push(LlamaSampler::dist(sampling.seed.unwrap_or_else(random_seed)));
    }
    Ok(LlamaSampler::chain_simple(chain))
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 3.0, -1.0, 3.0]), 1);
        assert_eq!(argmax(&[f32::NEG_INFINITY, -5.0]), 1);
        assert_eq!(argmax(&[2.0]), 0);
    }
}
