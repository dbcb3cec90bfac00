//! The per-token sampling path: greedy argmax over a vocabulary's logits, and a
//! schema-constrained answer through `TokenSampler` when the model's top token is one the
//! grammar allows (checked alone) and when it is not (the whole vocabulary is masked).
//!
//! `cargo bench -p bantam-core --bench sampling` (the grammar group uses the test model's
//! vocabulary: `models/fetch-test-model.sh` or `BANTAM_TEST_MODEL`).

use std::hint::black_box;

use bantam_core::engine::{argmax, Constraint, Sampling, Tokenizer};
use bantam_core::tasks::triage::{self, TriageOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Deterministic logits in [-8, 8): a 32-bit LCG, so runs compare.
fn logits(n: usize, seed: u32) -> Vec<f32> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 8) as f32 / (1u32 << 24) as f32 * 16.0 - 8.0
        })
        .collect()
}

fn bench_argmax(c: &mut Criterion) {
    let mut group = c.benchmark_group("argmax");
    // SmolLM2's and Llama 3's vocabularies.
    for n in [49_152usize, 128_256] {
        let l = logits(n, 7);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &l, |b, l| {
            b.iter(|| argmax(black_box(l)))
        });
    }
    group.finish();
}

fn bench_grammar(c: &mut Criterion) {
    let tokenizer = Tokenizer::load(&bantam_testkit::test_model()).expect("load the test model's vocabulary");
    let vocab = tokenizer.vocab_size();
    let schema = triage::schema(&TriageOptions::default().categories);
    // Keys in the grammar's order: the schema's, as declared.
    let answer = in_schema_order(
        &serde_json::json!({
            "action_items": [{"due": "Friday", "text": "Send the signed contract"}],
            "category": "work",
            "needs_reply": true,
            "priority": "high",
            "reason": "A client deadline this week.",
            "summary": "The client asks for the signed contract by Friday.",
        }),
        &schema,
    );
    let answer = answer.as_str();
    let tokens = tokenizer.tokenize(answer);
    // A newline is never allowed by the compact JSON grammar: outside strings only one
    // space may separate tokens, and inside strings control characters must be escaped.
    let refused = *tokenizer.tokenize("\n").first().expect("a newline token");
    let constraint = Constraint::JsonSchema(schema);
    let greedy = Sampling {
        temperature: 0.0,
        ..Sampling::default()
    };
    let base = logits(vocab, 11);
    // Each step's logits make the answer's token the model's choice; in the refused case
    // a newline scores higher still, so the grammar has to pick the answer's token.
    let steps = |top_refused: bool| -> Vec<Vec<f32>> {
        tokens
            .iter()
            .map(|&t| {
                let mut l = base.clone();
                l[t as usize] = 20.0;
                if top_refused {
                    l[refused as usize] = 30.0;
                }
                l
            })
            .collect()
    };
    let mut group = c.benchmark_group("json answer");
    group.throughput(Throughput::Elements(tokens.len() as u64));
    group.sample_size(20);
    for (name, constrained, top_refused) in [
        ("no grammar", false, false),
        ("grammar, top token allowed", true, false),
        ("grammar, top token refused", true, true),
    ] {
        let steps = steps(top_refused);
        let constraint = constrained.then_some(&constraint);
        // The bench means nothing if the sampler does not produce the answer.
        let mut sampler = tokenizer.sampler(&greedy, constraint).expect("sampler");
        let picked: Vec<i32> = steps.iter().map(|l| sampler.sample(l).expect("a token").0).collect();
        assert_eq!(picked, tokens, "{name}: the sampler strayed from the answer");
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut sampler = tokenizer.sampler(&greedy, constraint).expect("sampler");
                for l in &steps {
                    let _ = black_box(sampler.sample(l));
                }
            })
        });
    }
    group.finish();
}

/// Compact JSON with each object's keys in the order its schema declares them (the order
/// the grammar made from the schema demands).
fn in_schema_order(value: &serde_json::Value, schema: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let fields: Vec<String> = match schema["properties"].as_object() {
                Some(props) => props
                    .iter()
                    .filter_map(|(k, s)| {
                        map.get(k)
                            .map(|v| format!("{}:{}", Value::from(k.as_str()), in_schema_order(v, s)))
                    })
                    .collect(),
                None => map
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
                    .collect(),
            };
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|v| in_schema_order(v, &schema["items"])).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

criterion_group!(benches, bench_argmax, bench_grammar);
criterion_main!(benches);
