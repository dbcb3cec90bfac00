//! A grammar never takes a token it cannot accept: llama.cpp aborts the whole process on
//! the step after that (`GGML_ASSERT(!stacks.empty())`). Driven with hand-made logits over
//! the test model's vocabulary, so each case is exact.

mod common;

use bantam_core::engine::{Constraint, Sampling, Tokenizer};
use bantam_core::Error;

fn tokenizer() -> Tokenizer {
    Tokenizer::load(&common::test_model()).expect("the test model's vocabulary")
}

/// The one token `text` is in this vocabulary.
fn single(tok: &Tokenizer, text: &str) -> i32 {
    let t = tok.tokenize(text);
    assert_eq!(t.len(), 1, "{text:?} is one token in the test vocabulary: {t:?}");
    t[0]
}

/// Logits where `ranked` come first, in that order, and every other token at `rest`.
fn logits(tok: &Tokenizer, ranked: &[i32], rest: f32) -> Vec<f32> {
    let mut l = vec![rest; tok.vocab_size()];
    for (i, &t) in ranked.iter().enumerate() {
        l[t as usize] = 20.0 - i as f32;
    }
    l
}

fn samplings() -> [Sampling; 2] {
    let sampled = Sampling {
        temperature: 0.7,
        seed: Some(7),
        ..Sampling::default()
    };
    [Sampling::greedy(16), sampled]
}

#[test]
fn a_grammar_with_no_allowed_token_ends_the_request_with_a_typed_error() {
    let tok = tokenizer();
    let (a, c) = (single(&tok, "a"), single(&tok, "c"));
    for sampling in samplings() {
        let grammar = Constraint::Grammar(r#"root ::= "ab""#.into());
        let mut sampler = tok.sampler(&sampling, Some(&grammar)).unwrap();
        assert_eq!(sampler.sample(&logits(&tok, &[a], 0.0)).unwrap().0, a);
        // Only `c` can be written (every other token is banned, as a logit bias would):
        // the grammar wants `b`, so there is nothing to write.
        let dead = logits(&tok, &[c], f32::NEG_INFINITY);
        assert!(
            matches!(sampler.sample(&dead), Err(Error::GrammarDeadEnd)),
            "{sampling:?}"
        );
        // The request is over; a new one over the same vocabulary works.
        let mut again = tok.sampler(&sampling, Some(&grammar)).unwrap();
        assert_eq!(again.sample(&logits(&tok, &[a], 0.0)).unwrap().0, a);
    }
}

#[test]
fn a_token_that_completes_a_lazy_trigger_with_text_the_grammar_refuses_is_put_back() {
    let tok = tokenizer();
    let (a, ab, one) = (single(&tok, "a"), single(&tok, "ab"), single(&tok, "1"));
    for sampling in samplings() {
        // Free text until an `a`, then exactly `a1`. The model's favourite, `ab`, contains
        // the trigger and then a `b` the grammar cannot take (as `<tool_call>` followed by
        // a blank line, in one token, does for tool calls).
        let lazy = Constraint::Lazy {
            grammar: r#"root ::= "a1""#.into(),
            patterns: vec![r"[\s\S]*?(a)[\s\S]*".into()],
        };
        let mut sampler = tok.sampler(&sampling, Some(&lazy)).unwrap();
        let greedy = sampling.temperature == 0.0;
        let rest = if greedy { 0.0 } else { f32::NEG_INFINITY };
        let first = logits(&tok, &[ab, a], rest);
        assert_eq!(sampler.sample(&first).unwrap().0, a, "{sampling:?}: `ab` was put back");
        let ranked = logits(&tok, &[ab, a, one], rest);
        // Triggered now: the grammar holds, `ab` is refused again, `1` follows.
        assert_eq!(sampler.sample(&ranked).unwrap().0, one, "{sampling:?}");
        // Complete: only the end of generation may follow.
        let end = sampler.sample(&logits(&tok, &[ab, a], 0.0)).unwrap().0;
        assert!(![a, ab, one].contains(&end), "{sampling:?}: the grammar was complete");
    }
}

#[test]
fn no_calls_puts_back_the_token_that_would_start_a_call() {
    let tok = tokenizer();
    let call = tok.tokenize("<tool_call>");
    assert!(call.len() > 1, "{call:?}");
    let alternative = single(&tok, "a");
    let mut sampler = tok
        .sampler(&Sampling::greedy(16), Some(&bantam_core::tools::no_calls()))
        .unwrap();
    let (last, start) = call.split_last().unwrap();
    for &t in start {
        assert_eq!(sampler.sample(&logits(&tok, &[t], 0.0)).unwrap().0, t);
    }
    // The token that completes `<tool_call>` is the model's favourite; it is put back.
    let next = sampler.sample(&logits(&tok, &[*last, alternative], 0.0)).unwrap().0;
    assert_eq!(next, alternative);
}
