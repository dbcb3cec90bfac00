//! Continuous batching must not change answers: requests decoded together — joining
//! while others are mid-answer, and queueing when every slot is busy — give exactly the
//! tokens each gives alone (greedy).

mod common;

use bantam_core::engine::{ChatMessage, Completion, Event, Request, Sampling};

const QUESTIONS: [&str; 8] = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "List three uses of a paperclip.",
    "Explain what a CPU does in one sentence.",
    "Give me a name for a black cat.",
    "Why is the sky blue?",
    "Translate 'good morning' into Spanish.",
    "What should I pack for a weekend hike?",
];

fn request(q: &str) -> Request {
    Request::chat(vec![ChatMessage::user(q)]).with_sampling(Sampling::greedy(40))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_give_their_solo_answers() {
    let engine = common::engine().await; // 4 slots
    let mut solo: Vec<Completion> = Vec::new();
    for q in QUESTIONS {
        solo.push(engine.complete(request(q)).await.unwrap());
    }

    // The first four start together; the other four are submitted once the first answer
    // is streaming, so they join running batches (and queue for a free slot).
    let mut first: Vec<_> = QUESTIONS[..4]
        .iter()
        .map(|q| engine.submit(request(q)).unwrap())
        .collect();
    let mut early = Vec::new();
    loop {
        match first[0].next().await.unwrap() {
            Event::Token(t) => {
                early.push(t);
                break;
            }
            Event::Started { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let second: Vec<_> = QUESTIONS[4..]
        .iter()
        .map(|q| engine.submit(request(q)).unwrap())
        .collect();
    let mut together = Vec::new();
    for g in first.into_iter().chain(second) {
        together.push(g.collect().await.unwrap());
    }
    for ((q, a), b) in QUESTIONS.iter().zip(&solo).zip(&together) {
        assert!(a.usage.generated_tokens > 5, "{q}: solo answer too short: {:?}", a.text);
        assert_eq!(a.text, b.text, "{q}: batched answer differs from the solo one");
        assert_eq!(a.usage.generated_tokens, b.usage.generated_tokens);
        assert_eq!(a.finish_reason, b.finish_reason);
    }
    assert!(solo[0].text.starts_with(&early[0]));
}
