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

/// The log-probability of `chosen` and the `top` most likely tokens with theirs (best
/// first, the lower id on ties), from one position's raw logits: a log-softmax, so they
/// are the model's own probabilities, whatever sampling then did.
pub fn logprobs(logits: &[f32], chosen: i32, top: usize) -> (f32, Vec<(i32, f32)>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return (f32::NEG_INFINITY, Vec::new());
    }
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    let norm = max + sum.ln() as f32;
    let at = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| logits.get(i))
            .map_or(f32::NEG_INFINITY, |l| l - norm)
    };
    // A short sorted list beats sorting the vocabulary: `top` is at most 20.
    let mut best: Vec<(i32, f32)> = Vec::with_capacity(top + 1);
    if top > 0 {
        for (i, &l) in (0..).zip(logits) {
            if best.len() == top && best.last().is_some_and(|&(_, b)| l <= b) {
                continue;
            }
            let pos = best.partition_point(|&(_, b)| b >= l);
            best.insert(pos, (i, l));
            best.truncate(top);
        }
    }
    (at(chosen), best.into_iter().map(|(i, l)| (i, l - norm)).collect())
}

/// One request's sampling: an optional grammar beside the rest of the chain.
///
/// The grammar is checked against the token the chain picks first and only applied to
/// the whole vocabulary when it rejects that token (llama.cpp's server does the same).
/// Checking ~49k candidates against the grammar's stacks cost more than the model's own
/// forward pass on small models (see docs/performance.md); a JSON answer is mostly
/// tokens the grammar allows. For greedy decoding the result is exactly the
/// grammar-first one; for sampling it draws from the same renormalised distribution.
///
/// A token only enters the grammar once the grammar took it: llama.cpp aborts the whole
/// process (`GGML_ASSERT(!stacks.empty())`) on the next step when a grammar was fed a
/// token it cannot take, which a lazy grammar does when the token that completes its
/// trigger carries text the grammar refuses (`<tool_call>` and a blank line). So every
/// accept is checked; a lazy grammar is kept as it was before each token and a refused
/// token is put back and another picked; a grammar with no token left to take ends the
/// request with [`Error::GrammarDeadEnd`] and the engine goes on.
pub struct TokenSampler {
    grammar: Option<LlamaSampler>,
    /// Lazy grammars take text unchecked until their trigger, so each token may be refused.
    lazy: bool,
    /// `None`: a plain argmax over the logits (greedy, no penalty), skipping the copy of
    /// the vocabulary into a candidate array that the sampler chain makes per token.
    chain: Option<LlamaSampler>,
}

/// Tokens a lazy grammar may refuse in one step before the request is given up: each
/// one completes a trigger with text the grammar cannot take, and there are few of those.
const MAX_REFUSED: usize = 32;

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
        let lazy = matches!(constraint, Some(Constraint::Lazy { .. }));
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
        Ok(Self { grammar, lazy, chain })
    }

    /// Picks the next token from one position's logits (one per vocabulary entry) and
    /// records it. Fails only when the grammar allows no token at all.
    pub fn sample(&mut self, logits: &[f32]) -> Result<LlamaToken> {
        let mut refused: Vec<LlamaToken> = Vec::new();
        loop {
            let token = self.pick(logits, &refused)?;
            if let Some(grammar) = self.grammar.as_mut() {
                let before = self.lazy.then(|| grammar.clone());
                if grammar.try_accept(token).is_err() {
                    match before {
                        Some(before) if refused.len() < MAX_REFUSED => {
                            *grammar = before;
                            refused.push(token);
                            continue;
                        }
                        _ => {
                            // The grammar's state is gone: it must not be used again.
                            self.grammar = None;
                            return Err(Error::GrammarDeadEnd);
                        }
                    }
                }
            }
            if let Some(chain) = self.chain.as_mut() {
                chain.accept(token);
            }
            return Ok(token);
        }
    }

    /// The chain's choice, within what the grammar allows, never one of `refused`.
    fn pick(&mut self, logits: &[f32], refused: &[LlamaToken]) -> Result<LlamaToken> {
        let first = if refused.is_empty() {
            Some(match self.chain.as_mut() {
                None => LlamaToken(argmax(logits)),
                Some(chain) => pick(chain, candidates(logits, refused)),
            })
        } else {
            None
        };
        let Some(grammar) = self.grammar.as_mut() else {
            return match first {
                Some(token) => Ok(token),
                None => Ok(best(&candidates(logits, refused))),
            };
        };
        if let Some(first) = first.filter(|&t| allows(grammar, t, logits)) {
            return Ok(first);
        }
        let mut all = candidates(logits, refused);
        grammar.apply(&mut all);
        // Nothing finite left: the chain would draw from nothing, and llama.cpp aborts on
        // whatever it drew.
        if !all.data.iter().any(|d| d.logit().is_finite()) {
            return Err(Error::GrammarDeadEnd);
        }
        Ok(match self.chain.as_mut() {
            None => best(&all),
            Some(chain) => pick(chain, all),
        })
    }
}

/// Every token with its logit; `refused` ones at -inf.
fn candidates(logits: &[f32], refused: &[LlamaToken]) -> LlamaTokenDataArray {
    let mut data: Vec<LlamaTokenData> = (0..)
        .zip(logits)
        .map(|(i, &l)| LlamaTokenData::new(LlamaToken(i), l, 0.0))
        .collect();
    for t in refused {
        if let Some(d) = usize::try_from(t.0).ok().and_then(|i| data.get_mut(i)) {
            d.set_logit(f32::NEG_INFINITY);
        }
    }
    LlamaTokenDataArray::new(data, false)
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
    fn logprobs_are_a_log_softmax_with_the_best_first() {
        let (chosen, top) = super::logprobs(&[0.0, 2.0, 1.0, 2.0], 2, 3);
        let z = (1.0f32 + 2.0 * 2f32.exp() + 1f32.exp()).ln();
        assert!((chosen - (1.0 - z)).abs() < 1e-5, "{chosen}");
        assert_eq!(
            top.iter().map(|t| t.0).collect::<Vec<_>>(),
            [1, 3, 2],
            "ties: lower id first"
        );
        let total: f32 = [0.0f32, 2.0, 1.0, 2.0].iter().map(|l| (l - z).exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(super::logprobs(&[1.0, 2.0], 0, 0).1.is_empty());
        assert_eq!(super::logprobs(&[f32::NEG_INFINITY; 3], 0, 2).0, f32::NEG_INFINITY);
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
