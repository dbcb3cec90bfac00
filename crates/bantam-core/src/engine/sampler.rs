//! Builds one request's llama.cpp sampler chain.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

use super::logs;
use super::types::{Constraint, Sampling};
use crate::error::{Error, Result};

/// Turns a constraint into GBNF text with a `root` rule.
///
/// JSON comes out compact: llama.cpp's converter lets the model put up to two newlines and
/// twenty spaces or tabs between any two tokens, and small models spend tokens indenting.
pub(crate) fn grammar_text(constraint: &Constraint) -> Result<String> {
    match constraint {
        Constraint::Grammar(g) | Constraint::Lazy { grammar: g, .. } => Ok(g.clone()),
        Constraint::JsonSchema(schema) => json_schema_grammar(schema),
    }
}

/// A JSON schema as GBNF with a `root` rule, for grammars that embed JSON (tool calls).
pub fn json_schema_grammar(schema: &serde_json::Value) -> Result<String> {
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|e| Error::Schema(e.to_string()))?;
    Ok(grammar
        .lines()
        .map(|line| {
            if line.starts_with("space ::=") {
                r#"space ::= | " ""#
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The most likely token; the first one on ties, as llama.cpp's greedy sampler picks.
///
/// Two passes: a branch-free maximum over fixed-width lanes (the compiler vectorises it)
/// and a search for its first position: 26 µs over a 128k vocabulary on the bench
/// machine, where a compare-and-branch loop took 47 µs
/// (`cargo bench -p bantam-core --bench sampling`).
pub fn argmax(logits: &[f32]) -> i32 {
    const LANES: usize = 16;
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = logits.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &l) in lanes.iter_mut().zip(chunk) {
            // Not f32::max: it pays for NaN handling that stops vectorisation.
            *m = if l > *m { l } else { *m };
        }
    }
    let max = lanes
        .iter()
        .chain(tail)
        .fold(f32::NEG_INFINITY, |m, &l| if l > m { l } else { m });
    logits.iter().position(|&l| l == max).unwrap_or(0) as i32
}

/// One request's sampling: an optional grammar beside the rest of the chain.
///
/// The grammar is checked against the token the chain picks first and only applied to
/// the whole vocabulary when it rejects that token (llama.cpp's server does the same).
/// Checking ~49k candidates against the grammar's stacks cost more than the model's own
/// forward pass on small models (see docs/performance.md); a JSON answer is mostly
/// tokens the grammar allows. For greedy decoding the result is exactly the
/// grammar-first one; for sampling it draws from the same renormalised distribution.
pub struct TokenSampler {
    grammar: Option<LlamaSampler>,
    /// `None`: a plain argmax over the logits (greedy, no penalty), skipping the copy of
    /// the vocabulary into a candidate array that the sampler chain makes per token.
    chain: Option<LlamaSampler>,
}

impl TokenSampler {
    pub(crate) fn new(model: &LlamaModel, sampling: &Sampling, constraint: Option<&Constraint>) -> Result<Self> {
        let grammar = match constraint {
            Some(constraint) => {
                let grammar = grammar_text(constraint)?;
                logs::clear_recent();
                let sampler = match constraint {
                    Constraint::Lazy { patterns, .. } => {
                        LlamaSampler::grammar_lazy_patterns(model, &grammar, "root", patterns, &[])
                    }
                    _ => LlamaSampler::grammar(model, &grammar, "root"),
                };
                Some(sampler.map_err(|e| {
                    let why = logs::recent_errors().join("; ");
                    Error::Grammar(if why.is_empty() { e.to_string() } else { why })
                })?)
            }
            None => None,
        };
        let penalty =
            (sampling.repeat_penalty != 1.0 || sampling.presence_penalty != 0.0 || sampling.frequency_penalty != 0.0)
                && sampling.repeat_last_n != 0;
        let chain = if sampling.temperature <= 0.0 && !penalty {
            None
        } else {
            let mut chain = Vec::with_capacity(6);
            if penalty {
                chain.push(LlamaSampler::penalties(
                    model.n_vocab(),
                    sampling.repeat_last_n,
                    sampling.repeat_penalty,
                    sampling.frequency_penalty,
                    sampling.presence_penalty,
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
            Some(LlamaSampler::chain_simple(chain))
        };
        Ok(Self { grammar, chain })
    }

    /// Picks the next token from one position's logits (one per vocabulary entry) and
    /// records it.
    pub fn sample(&mut self, logits: &[f32]) -> LlamaToken {
        let first = match self.chain.as_mut() {
            None => LlamaToken(argmax(logits)),
            Some(chain) => pick(chain, candidates(logits)),
        };
        let mut token = first;
        if let Some(grammar) = self.grammar.as_mut() {
            if !allows(grammar, first, logits) {
                let mut all = candidates(logits);
                grammar.apply(&mut all);
                token = match self.chain.as_mut() {
                    None => best(&all),
                    Some(chain) => pick(chain, all),
                };
            }
            grammar.accept(token);
        }
        if let Some(chain) = self.chain.as_mut() {
            chain.accept(token);
        }
        token
    }
}

fn candidates(logits: &[f32]) -> LlamaTokenDataArray {
    LlamaTokenDataArray::new(
        (0..)
            .zip(logits)
            .map(|(i, &l)| LlamaTokenData::new(LlamaToken(i), l, 0.0))
            .collect(),
        false,
    )
}

/// Whether the grammar lets `token` come next (it sets a rejected candidate to -inf).
fn allows(grammar: &mut LlamaSampler, token: LlamaToken, logits: &[f32]) -> bool {
    let logit = logits.get(token.0 as usize).copied().unwrap_or(0.0);
    let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, logit, 0.0)], false);
    grammar.apply(&mut one);
    one.data.first().is_some_and(|d| d.logit().is_finite())
}

fn pick(chain: &mut LlamaSampler, mut candidates: LlamaTokenDataArray) -> LlamaToken {
    chain.apply(&mut candidates);
    candidates.selected_token().unwrap_or_else(|| best(&candidates))
}

/// The highest-logit candidate; the first one on ties.
fn best(candidates: &LlamaTokenDataArray) -> LlamaToken {
    let mut top: Option<&LlamaTokenData> = None;
    for d in &candidates.data {
        if top.is_none_or(|t| d.logit() > t.logit()) {
            top = Some(d);
        }
    }
    top.map(|d| d.id()).unwrap_or(LlamaToken(0))
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

#[cfg(test)]
mod tests {
    use super::{argmax, grammar_text};
    use crate::engine::Constraint;

    #[test]
    fn json_grammars_allow_one_space_at_most_between_tokens() {
        let schema = serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let grammar = grammar_text(&Constraint::JsonSchema(schema)).unwrap();
        let space: Vec<&str> = grammar.lines().filter(|l| l.starts_with("space ::=")).collect();
        assert_eq!(space, [r#"space ::= | " ""#], "{grammar}");
        assert!(grammar.lines().any(|l| l.starts_with("root ::=")));
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 3.0, -1.0, 3.0]), 1);
        assert_eq!(argmax(&[f32::NEG_INFINITY, -5.0]), 1);
        assert_eq!(argmax(&[2.0]), 0);
        assert_eq!(argmax(&[]), 0);
        // Past the vectorised lanes, and in the tail after them.
        let mut long: Vec<f32> = (0..1000).map(|i| (i % 7) as f32).collect();
        long[700] = 9.0;
        long[999] = 9.0;
        assert_eq!(argmax(&long), 700);
        long[998] = 10.0;
        assert_eq!(argmax(&long), 998);
        assert_eq!(argmax(&[f32::NEG_INFINITY; 40]), 0);
    }
}
