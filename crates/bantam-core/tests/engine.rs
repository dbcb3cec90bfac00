//! The engine on the real test model: streaming, counts and timings, prefix reuse,
//! structured output, cancellation, stop strings, priorities and context overflow.

mod common;

use std::time::Duration;

use bantam_core::engine::{ChatMessage, Constraint, Event, FinishReason, Overflow, Priority, Request, Sampling};
use bantam_core::Error;
use serde::Deserialize;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_streams_tokens_and_reports_counts_and_timings() {
    let engine = common::engine().await;
    assert_eq!(engine.info().architecture, "llama");
    assert!(engine.info().has_chat_template);
    let request =
        Request::chat(vec![ChatMessage::user("What is the capital of France?")]).with_sampling(Sampling::greedy(24));
    let mut generation = engine.submit(request).unwrap();
    let mut streamed = String::new();
    let mut tokens = 0;
    let mut started = None;
    let done = loop {
        match generation.next().await.expect("events until Done") {
            Event::Started { prompt_tokens, .. } => started = Some(prompt_tokens),
            Event::Token(t) => {
                tokens += 1;
                streamed.push_str(&t);
            }
            Event::Done(c) => break c,
            Event::Failed(e) => panic!("{e}"),
            Event::Logprobs(_) => panic!("logprobs were not asked for"),
        }
    };
    assert!(generation.next().await.is_none());
    assert!(tokens > 1, "the answer came in one piece, not streamed");
    assert_eq!(streamed, done.text);
    assert!(done.text.contains("Paris"), "{:?}", done.text);
    assert_eq!(started, Some(done.usage.prompt_tokens));
    assert!(done.usage.prompt_tokens > 5);
    assert!(done.usage.generated_tokens > 0 && done.usage.generated_tokens <= 24);
    assert!(done.timings.time_to_first_token_ms > 0.0);
    assert!(done.timings.tokens_per_s > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_turn_does_not_reprocess_the_history() {
    let engine = common::engine_with(|c| c.parallel = 2).await;
    let system = ChatMessage::system(
        "You are Bantam, a concise assistant that runs on the user's own computer. \
         Answer in one or two sentences. Never invent facts; say when you are unsure. "
            .repeat(4),
    );
    let mut history = vec![system, ChatMessage::user("Name a large city in Japan.")];
    let first = engine
        .complete(Request::chat(history.clone()).with_sampling(Sampling::greedy(32)))
        .await
        .unwrap();
    assert!(first.usage.prompt_tokens > 140);
    history.push(ChatMessage::assistant(first.text.clone()));
    history.push(ChatMessage::user("And one in Italy?"));
    let second = engine
        .complete(Request::chat(history.clone()).with_sampling(Sampling::greedy(32)))
        .await
        .unwrap();
    let new_tokens = second.usage.prompt_tokens - first.usage.prompt_tokens;
    // Everything up to the end of the first answer comes from the cache; only the new
    // turn (plus at most a few tokens where the answer's tokenization differs) is prefilled.
    assert!(
        second.usage.cached_tokens >= first.usage.prompt_tokens,
        "cached {} of the first turn's {}",
        second.usage.cached_tokens,
        first.usage.prompt_tokens
    );
    assert!(
        second.usage.prefilled_tokens <= new_tokens + 4,
        "prefilled {} tokens for a turn that added {new_tokens}",
        second.usage.prefilled_tokens
    );
    assert_eq!(
        second.usage.prompt_tokens,
        second.usage.cached_tokens + second.usage.prefilled_tokens
    );

    // A different conversation shares only the system prompt, and reuses exactly that much.
    let other = engine
        .complete(
            Request::chat(vec![history[0].clone(), ChatMessage::user("What is 2 + 2?")])
                .with_sampling(Sampling::greedy(8)),
        )
        .await
        .unwrap();
    assert!(
        other.usage.cached_tokens > 120 && other.usage.cached_tokens < first.usage.prompt_tokens,
        "{:?} vs first {:?}",
        other.usage,
        first.usage
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_another_slot_holds_is_copied_not_computed_again() {
    let engine = common::engine_with(|c| c.parallel = 2).await;
    let system = ChatMessage::system(
        "You are Bantam, a careful assistant on the user's own computer. Keep answers short, \
         say when you are unsure, and never invent names, numbers or dates. "
            .repeat(3),
    );
    let ask = |q: &str, max: usize| {
        Request::chat(vec![system.clone(), ChatMessage::user(q)]).with_sampling(Sampling {
            ignore_eos: true,
            ..Sampling::greedy(max)
        })
    };
    // One answer holds a slot, mid-generation, with the system prompt in its cache.
    let mut long = engine.submit(ask("Count from one to one hundred.", 160)).unwrap();
    loop {
        match long.next().await.unwrap() {
            Event::Token(_) => break,
            Event::Started { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // So the next request takes the other, empty slot, and gets the system prompt's KV
    // cache copied over instead of computing it.
    let copied = engine.complete(ask("What is 2 + 2?", 12)).await.unwrap();
    assert!(
        copied.usage.cached_tokens > 100,
        "only {} of {} prompt tokens came from the other slot",
        copied.usage.cached_tokens,
        copied.usage.prompt_tokens
    );
    long.collect().await.unwrap();
    // The copy holds exactly what computing the prompt gives: the same answer.
    engine.forget_prompts().await.unwrap();
    let fresh = engine
        .complete(ask("What is 2 + 2?", 12).without_prompt_cache())
        .await
        .unwrap();
    assert_eq!(fresh.usage.cached_tokens, 0);
    assert_eq!(copied.text, fresh.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_whose_slot_moved_on_is_restored_from_memory() {
    let system = ChatMessage::system(
        "You are Bantam, a careful assistant on the user's own computer. Keep answers short, \
         say when you are unsure, and never invent names, numbers or dates. "
            .repeat(3),
    );
    let ask = || Request::chat(vec![system.clone(), ChatMessage::user("What is 2 + 2?")]);
    let other = || Request::chat(vec![ChatMessage::user("Name a colour.")]).with_sampling(Sampling::greedy(4));
    // One slot: the other question takes it over from (almost) its first token.
    let engine = common::engine_with(|c| c.parallel = 1).await;
    let first = engine
        .complete(ask().with_sampling(Sampling::greedy(12)))
        .await
        .unwrap();
    engine.complete(other()).await.unwrap();
    let again = engine
        .complete(ask().with_sampling(Sampling::greedy(12)))
        .await
        .unwrap();
    assert!(
        again.usage.cached_tokens + 1 >= again.usage.prompt_tokens && again.usage.prefilled_tokens <= 1,
        "{:?}: the first prompt was not restored",
        again.usage
    );
    // The restored cache holds exactly what computing the prompt gives.
    assert_eq!(again.text, first.text);

    // Without the memory the prompt is computed again.
    let engine = common::engine_with(|c| {
        c.parallel = 1;
        c.prompt_cache_mib = 0;
    })
    .await;
    engine
        .complete(ask().with_sampling(Sampling::greedy(12)))
        .await
        .unwrap();
    engine.complete(other()).await.unwrap();
    let cold = engine
        .complete(ask().with_sampling(Sampling::greedy(12)))
        .await
        .unwrap();
    assert!(cold.usage.cached_tokens < 10, "{:?}", cold.usage);
    assert_eq!(cold.text, first.text);
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Triage {
    category: Category,
    priority: u8,
    needs_reply: bool,
    summary: String,
    tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Category {
    Work,
    Personal,
    Finance,
    Newsletter,
    Spam,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_constrained_output_always_deserializes() {
    let engine = common::engine().await;
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "category": {"enum": ["work", "personal", "finance", "newsletter", "spam"]},
            "priority": {"type": "integer", "minimum": 1, "maximum": 5},
            "needs_reply": {"type": "boolean"},
            "summary": {"type": "string", "maxLength": 80},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 3}
        },
        "required": ["category", "priority", "needs_reply", "summary", "tags"],
        "additionalProperties": false
    });
    let emails = [
        "Subject: Q3 budget review moved to Friday. Please confirm you can attend.",
        "Subject: Your invoice #4411 is overdue, pay now to avoid a fee.",
        "Subject: Weekly digest: 10 articles about gardening you might like.",
        "Subject: Mom's birthday dinner on Sunday, can you bring dessert?",
        "Subject: CONGRATULATIONS you won a free cruise!!! click here",
        "Subject: Server outage postmortem draft attached for your comments.",
        "Subject: Your bank statement for October is ready.",
        "Subject: Re: lunch tomorrow? I'm free after 12.",
    ];
    // Greedy and sampled alike: the grammar, not luck, makes the JSON valid.
    for (i, email) in emails.iter().enumerate() {
        let sampling = Sampling {
            temperature: if i % 2 == 0 { 0.0 } else { 0.9 },
            seed: Some(i as u32),
            max_tokens: 200,
            ..Sampling::default()
        };
        let request = Request::chat(vec![
            ChatMessage::system("Classify the email. Reply with JSON only."),
            ChatMessage::user(*email),
        ])
        .with_sampling(sampling);
        let (triage, completion): (Triage, _) = engine
            .complete_json(request, schema.clone())
            .await
            .unwrap_or_else(|e| panic!("email {i}: {e}"));
        assert!((1..=5).contains(&triage.priority), "{completion:?}");
        assert!(triage.summary.chars().count() <= 80 && triage.tags.len() <= 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbnf_grammar_limits_the_answer() {
    let engine = common::engine().await;
    let request = Request::chat(vec![ChatMessage::user("Is water wet? Answer yes or no.")])
        .with_sampling(Sampling::greedy(8))
        .with_constraint(Constraint::Grammar(r#"root ::= "yes" | "no""#.into()));
    let c = engine.complete(request).await.unwrap();
    assert!(c.text == "yes" || c.text == "no", "{:?}", c.text);
    assert_eq!(c.finish_reason, FinishReason::Stop);

    let bad = Request::prompt("x").with_constraint(Constraint::Grammar("root ::= ( unclosed".into()));
    assert!(matches!(engine.complete(bad).await, Err(Error::Grammar(_))));
    let bad_schema = Request::prompt("x").with_constraint(Constraint::JsonSchema(serde_json::json!({"type": 12})));
    assert!(engine.complete(bad_schema).await.is_err());
    // The engine is still fine afterwards.
    assert!(engine
        .complete(Request::prompt("Hello").with_sampling(Sampling::greedy(2)))
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_within_a_token_or_two_and_frees_the_slot() {
    let engine = common::engine_with(|c| c.parallel = 1).await;
    let long = Sampling {
        max_tokens: 2000,
        seed: Some(7),
        ..Sampling::default()
    };
    let mut g = engine
        .submit(Request::chat(vec![ChatMessage::user("Tell me a very long story about a dragon.")]).with_sampling(long))
        .unwrap();
    let mut received = 0;
    while received < 3 {
        if let Some(Event::Token(_)) = g.next().await {
            received += 1;
        }
    }
    g.cancel();
    let done = g.collect().await.unwrap();
    assert_eq!(done.finish_reason, FinishReason::Cancelled);
    assert!(
        done.usage.generated_tokens <= received + 3,
        "{} tokens generated after cancelling at {received}",
        done.usage.generated_tokens
    );

    // Dropping a generation cancels it too; the only slot is free again right away.
    let dropped = engine
        .submit(Request::prompt("Once upon a time").with_sampling(Sampling::greedy(2000)))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(dropped);
    let next = tokio::time::timeout(
        Duration::from_secs(60),
        engine.complete(Request::prompt("The capital of France is").with_sampling(Sampling::greedy(4))),
    )
    .await
    .expect("the slot was freed")
    .unwrap();
    assert_eq!(next.finish_reason, FinishReason::Length);
    assert_eq!(engine.load().active, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_strings_end_the_answer_and_are_not_shown() {
    let engine = common::engine().await;
    let ask = || Request::chat(vec![ChatMessage::user("Count from one to ten in words.")]);
    let free = engine
        .complete(ask().with_sampling(Sampling::greedy(40)))
        .await
        .unwrap();
    // Stop at the third word of the free answer.
    let word = free.text.split_whitespace().nth(2).expect("a few words").to_string();
    let cut = free.text.find(&word).unwrap();
    let stopped = engine
        .complete(ask().with_sampling(Sampling {
            stop: vec![word.clone()],
            ..Sampling::greedy(40)
        }))
        .await
        .unwrap();
    assert_eq!(stopped.finish_reason, FinishReason::StopString);
    assert_eq!(stopped.text, free.text[..cut], "stop string {word:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_requests_overtake_background_work() {
    let engine = common::engine_with(|c| c.parallel = 2).await;
    let background = |i: u32| {
        Request::prompt(format!("Write a long essay about topic number {i}."))
            .with_sampling(Sampling {
                max_tokens: 120,
                seed: Some(i),
                stop: vec![],
                ..Sampling::default()
            })
            .with_priority(Priority::Background)
    };
    let mut jobs: Vec<_> = (0..3).map(|i| engine.submit(background(i)).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Background work may use only one of the two slots, so this starts at once.
    let chat = engine
        .submit(Request::chat(vec![ChatMessage::user("Hi!")]).with_sampling(Sampling::greedy(8)))
        .unwrap();
    let chat_done = chat.collect().await.unwrap();
    assert!(
        chat_done.timings.queue_ms < 1000.0,
        "waited {} ms for a slot",
        chat_done.timings.queue_ms
    );
    // The last background job is still waiting or running when the chat is done.
    let last = jobs.pop().unwrap();
    let mut last = last;
    let first_event = last.next().await.unwrap();
    assert!(matches!(first_event, Event::Started { .. }));
    for j in jobs {
        assert!(j.collect().await.is_ok());
    }
    assert!(last.collect().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlong_prompt_is_a_typed_error_and_chats_drop_their_oldest_turns() {
    let engine = common::engine_with(|c| {
        c.context_size = 512;
        c.parallel = 1;
    })
    .await;
    let long_text = "The quick brown fox jumps over the lazy dog. ".repeat(80); // ~800 tokens
    match engine.complete(Request::prompt(long_text.clone())).await {
        Err(Error::ContextOverflow {
            prompt_tokens,
            context_size,
            ..
        }) => {
            assert!(prompt_tokens > 512);
            assert_eq!(context_size, 512);
        }
        other => panic!("expected ContextOverflow, got {other:?}"),
    }

    let mut history = vec![ChatMessage::system("You are terse.")];
    for i in 0..8 {
        history.push(ChatMessage::user(format!(
            "Remember fact {i}: {}",
            "lorem ipsum dolor sit amet ".repeat(8)
        )));
        history.push(ChatMessage::assistant(format!("Noted fact {i}.")));
    }
    history.push(ChatMessage::user("Which facts do you remember?"));
    let strict = Request::chat(history.clone()).with_sampling(Sampling::greedy(16));
    assert!(matches!(
        engine.complete(strict).await,
        Err(Error::ContextOverflow { .. })
    ));

    let lenient = Request::chat(history.clone())
        .with_sampling(Sampling::greedy(16))
        .with_overflow(Overflow::DropOldest);
    let c = engine.complete(lenient).await.unwrap();
    assert!(
        c.dropped_messages >= 2 && c.dropped_messages % 2 == 0,
        "dropped {}",
        c.dropped_messages
    );
    assert!(c.dropped_messages < history.len() - 2);
    assert!(c.usage.prompt_tokens + 16 <= 512);

    // Even the last message alone does not fit: an error, not a silent cut.
    let huge = Request::chat(vec![ChatMessage::user(long_text)]).with_overflow(Overflow::DropOldest);
    assert!(matches!(
        engine.complete(huge).await,
        Err(Error::ContextOverflow { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokenize_uses_the_model_vocabulary() {
    let engine = common::engine().await;
    let plain = engine.tokenize("Hello world", false).await.unwrap();
    let with_bos = engine.tokenize("Hello world", true).await.unwrap();
    assert!(!plain.is_empty() && plain.len() < 5);
    assert!(with_bos.len() >= plain.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unloading_ends_running_answers_cleanly_and_refuses_queued_ones() {
    let engine = common::engine_with(|c| c.parallel = 1).await;
    let long = || Request::prompt("Count from one to one thousand:").with_sampling(Sampling::greedy(4000));
    let mut running = engine.submit(long()).unwrap();
    // Wait until it is really generating, then queue a second one behind it.
    loop {
        match running.next().await.expect("events") {
            Event::Token(_) => break,
            Event::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    let queued = engine.submit(long()).unwrap();
    engine.shutdown(Duration::from_millis(300)).await;
    let done = running.collect().await.expect("the running answer ends, not fails");
    assert_eq!(done.finish_reason, FinishReason::Cancelled);
    assert!(done.usage.generated_tokens > 0);
    assert!(matches!(queued.collect().await, Err(Error::Unloaded)));
    // The model is gone: the handle still exists but answers nothing.
    let after = engine.submit(long());
    let failed = match after {
        Err(e) => e,
        Ok(g) => g.collect().await.unwrap_err(),
    };
    assert!(matches!(failed, Error::EngineStopped), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logprobs_come_with_each_token_and_greedy_picks_the_top_one() {
    let engine = common::engine().await;
    let sampling = Sampling {
        logprobs: Some(5),
        ..Sampling::greedy(12)
    };
    let request = Request::chat(vec![ChatMessage::user("Name three colours.")]).with_sampling(sampling.clone());
    let mut generation = engine.submit(request).unwrap();
    let mut streamed = Vec::new();
    let mut text = String::new();
    let done = loop {
        match generation.next().await.expect("events until Done") {
            Event::Logprobs(l) => streamed.extend(l),
            Event::Token(t) => text.push_str(&t),
            Event::Done(c) => break c,
            Event::Failed(e) => panic!("{e}"),
            Event::Started { .. } => {}
        }
    };
    assert_eq!(
        streamed, done.logprobs,
        "the stream carries every token's logprobs once"
    );
    assert_eq!(done.logprobs.len(), done.usage.generated_tokens);
    let bytes: Vec<u8> = done.logprobs.iter().flat_map(|l| l.chosen.bytes.clone()).collect();
    assert_eq!(String::from_utf8_lossy(&bytes), done.text);
    for l in &done.logprobs {
        assert_eq!(l.top.len(), 5);
        assert!(l.chosen.logprob <= 0.0 && l.chosen.logprob.is_finite(), "{l:?}");
        // Greedy: the chosen token is the most likely one.
        assert_eq!(l.top[0].token, l.chosen.token, "{l:?}");
        assert!((l.top[0].logprob - l.chosen.logprob).abs() < 1e-4);
        assert!(l.top.windows(2).all(|w| w[0].logprob >= w[1].logprob));
    }
    // Without asking, nothing is computed.
    let plain = engine
        .complete(Request::chat(vec![ChatMessage::user("Hi")]).with_sampling(Sampling::greedy(4)))
        .await
        .unwrap();
    assert!(plain.logprobs.is_empty());
    let too_many = Sampling {
        logprobs: Some(21),
        ..Sampling::greedy(4)
    };
    let refused = engine
        .complete(Request::chat(vec![ChatMessage::user("Hi")]).with_sampling(too_many))
        .await;
    assert!(matches!(refused, Err(Error::InvalidRequest(_))), "{refused:?}");
}
