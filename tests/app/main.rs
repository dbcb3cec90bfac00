//! End to end: the built app in a real WebKit window under Xvfb, driven over WebDriver,
//! answering with the real test model.

use bantam_tests::app as harness;

use std::path::PathBuf;
use std::time::Duration;

use harness::Desktop;

/// The tests share X displays, ports and a lot of CPU: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn screenshots() -> Option<PathBuf> {
    std::env::var_os("BANTAM_SCREENSHOTS").map(PathBuf::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_streams_is_kept_across_restarts_and_found_by_search() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    let app = desktop.launch().await;
    app.wait_ready().await;
    // Empty state first.
    assert!(app.text("#messages").await.contains("Ask anything"));

    app.type_into("#composer-input", "What is the capital of France?").await;
    app.click("#send").await;
    app.find(".message.assistant").await;
    // The answer streams (the cursor class is on while tokens arrive) and then ends.
    app.wait_answer().await;
    let answer = app.text(".message.assistant .body").await;
    assert!(!answer.trim().is_empty(), "empty answer");
    let stats = app.text(".message.assistant .stats").await;
    assert!(stats.contains("tok/s"), "stats: {stats}");
    let title = app.text("#chat-title").await;
    assert!(title.contains("capital"), "title: {title}");
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("main-window.png")).await;
    }
    app.quit().await;

    // A new process on the same data: the conversation is listed and searchable.
    let app = desktop.launch().await;
    let listed = app.text("#conversation-list .conversation .title").await;
    assert!(listed.contains("capital"), "listed: {listed}");
    app.type_into("#search", "capital").await;
    let hit = app.text("#search-results .hit").await;
    assert!(hit.contains("capital"), "hit: {hit}");
    app.click("#search-results .hit").await;
    app.until(
        "the conversation to open",
        "return document.querySelectorAll('#messages .message').length === 2",
    )
    .await;
    assert_eq!(app.text(".message.assistant .body").await.trim(), answer.trim());

    // Settings show the default hotkey and the model in use.
    app.open("#open-settings", "settings-view").await;
    app.until(
        "settings to load",
        "return document.getElementById('set-hotkey').value === 'Ctrl+Alt+Space' \
         && document.getElementById('set-model').value.endsWith('SmolLM2-135M-Instruct.Q4_1.gguf')",
    )
    .await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("settings.png")).await;
    }

    // The API switch starts the server in the app's process, on the app's model, and its
    // token (shown for Copy) works with curl.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    app.client
        .execute("document.getElementById('set-api').click()", vec![])
        .await
        .unwrap();
    app.type_into("#set-api-port", &port.to_string()).await;
    app.click("#save-settings").await;
    app.until(
        "the API to run",
        &format!(
            "return document.getElementById('api-state').textContent.includes('Running at http://127.0.0.1:{port}/v1')"
        ),
    )
    .await;
    let token = app
        .client
        .execute("return document.getElementById('api-token').value", vec![])
        .await
        .unwrap();
    let token = token.as_str().unwrap_or_default().to_string();
    assert!(token.starts_with("bnt-"), "token: {token}");
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "60",
                "-H",
                &format!("Authorization: Bearer {token}"),
            ])
            .args(args)
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let models = curl(&[&format!("http://127.0.0.1:{port}/v1/models")]);
    assert!(
        models.contains("SmolLM2-135M-Instruct") && models.contains(r#""loaded":true"#),
        "{models}"
    );
    let answer = curl(&[
        "-d",
        r#"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}"#,
        &format!("http://127.0.0.1:{port}/v1/chat/completions"),
    ]);
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert!(
        answer["usage"]["completion_tokens"].as_u64().is_some_and(|n| n > 0),
        "{answer}"
    );
    if let Some(dir) = screenshots() {
        app.client
            .execute("document.getElementById('api-settings').scrollIntoView()", vec![])
            .await
            .unwrap();
        app.screenshot(&dir.join("settings-api.png")).await;
    }
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_cancels_an_answer_mid_way() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    let app = desktop.launch().await;
    app.wait_ready().await;
    app.click("#chat-options summary").await;
    app.type_into("#opt-max-tokens", "4000").await;
    // Greedy: this question then gets a ~500-token answer, deterministically.
    app.type_into("#opt-temperature", "0").await;
    app.click("#chat-options summary").await;
    app.type_into(
        "#composer-input",
        "Write a very long story about a dragon and a knight.",
    )
    .await;
    app.click("#send").await;
    app.until(
        "the first tokens",
        "const b = document.querySelector('.message.assistant .body'); return !!b && b.textContent.length > 0",
    )
    .await;
    app.click("#stop").await;
    app.until(
        "the answer to stop",
        "const a = document.querySelector('.message.assistant'); return !!a && a.dataset.finish !== undefined",
    )
    .await;
    let finish = app
        .client
        .execute(
            "return document.querySelector('.message.assistant').dataset.finish",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(finish, "cancelled");
    assert!(app.text(".message.assistant .stats").await.contains("stopped"));
    // The slot is free again: the next question is answered.
    app.type_into("#composer-input", "Say hi.").await;
    app.click("#send").await;
    app.until(
        "a second answer",
        "const a = document.querySelectorAll('.message.assistant'); \
         return a.length === 2 && a[1].dataset.finish !== undefined",
    )
    .await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_pinned_to_the_workhorse_is_answered_there_with_a_badge_and_reasked_on_small() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    // The workhorse is set up as a user would, with the CLI on the same data directory.
    let workhorse = bantam_testkit::real_model("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    let set = bantam_tests::cli::bantam(&desktop.data_dir())
        .args(["tiers", "workhorse"])
        .arg(&workhorse)
        .output()
        .unwrap();
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let app = desktop.launch().await;
    app.wait_ready().await;
    app.until(
        "the tier menu",
        "return !document.getElementById('chat-tier-label').hidden",
    )
    .await;
    app.client
        .execute("document.getElementById('chat-tier').value = 'workhorse'", vec![])
        .await
        .unwrap();
    app.type_into("#composer-input", "Say hello in five words.").await;
    app.click("#send").await;
    app.wait_answer().await;
    let badge = app.text(".message.assistant .route").await;
    assert_eq!(badge, "workhorse · you chose workhorse");
    assert!(!app.text(".message.assistant .body").await.trim().is_empty());
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("chat-tiers.png")).await;
    }

    // One click asks the small model instead; the badge says so.
    app.click(".message.assistant .reask[data-tier='small']").await;
    app.until(
        "the answer on small",
        "const a = document.querySelector('.message.assistant'); \
         return !!a && a.dataset.finish !== undefined && a.dataset.tier === 'small'",
    )
    .await;
    assert!(app.text(".message.assistant .route").await.starts_with("small · "));

    // The conversation keeps its choice.
    app.click("#new-chat").await;
    app.click(".conversation").await;
    app.until(
        "the conversation's tier",
        "return document.getElementById('chat-tier').value === 'workhorse'",
    )
    .await;

    // Models → Tiers shows the workhorse the CLI set, and places documents on it.
    app.open("#nav-models", "models-view").await;
    app.until(
        "the tiers panel with the workhorse",
        "const s = document.getElementById('tier-workhorse'); \
         return !!s && s.value.endsWith('qwen2.5-coder-0.5b-instruct-q4_k_m.gguf')",
    )
    .await;
    app.client
        .execute(
            "const s = document.querySelector('#tier-tasks select[data-task=\"documents\"]'); \
             s.value = 'workhorse'; s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap();
    let shown = || {
        bantam_tests::cli::bantam(&desktop.data_dir())
            .args(["tiers", "show", "--json"])
            .output()
            .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = shown();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if json["tasks"]["documents"] == "workhorse" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "documents were not placed on the workhorse: {json}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Mail never leaves the machine: the menu offers no remote tier for it.
    let offered = app
        .client
        .execute(
            "return [...document.querySelector('#tier-tasks select[data-task=\"triage\"]').options].map(o => o.value)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, serde_json::json!(["small", "workhorse"]));
    if let Some(dir) = screenshots() {
        app.client
            .execute("document.getElementById('tiers').scrollIntoView()", vec![])
            .await
            .unwrap();
        app.screenshot(&dir.join("models-tiers.png")).await;
    }
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hotkey_opens_the_popup_which_answers_and_hides_on_escape() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    let app = desktop.launch().await;
    app.wait_ready().await;
    assert!(
        !desktop.window_visible("Bantam quick ask"),
        "popup visible before the hotkey"
    );

    desktop.xdotool(&["key", "ctrl+alt+space"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !desktop.window_visible("Bantam quick ask") {
        assert!(
            std::time::Instant::now() < deadline,
            "the hotkey did not show the popup"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Drive the popup's page: switch the WebDriver session to its webview.
    app.switch_to("Bantam quick ask").await;
    app.type_into("#ask-input", "What is the capital of France?").await;
    app.find("#ask-input").await.send_keys("\u{E007}").await.unwrap(); // Enter
    app.until(
        "the popup's answer",
        "const a = document.getElementById('answer'); return !!a && a.dataset.finish !== undefined",
    )
    .await;
    assert!(!app.text("#answer").await.trim().is_empty());
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("popup.png")).await;
    }

    app.find("#ask-input").await.send_keys("\u{E00C}").await.unwrap(); // Escape
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while desktop.window_visible("Bantam quick ask") {
        assert!(std::time::Instant::now() < deadline, "Esc did not hide the popup");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_files_are_summarized_with_progress_and_metadata() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    let app = desktop.launch().await;
    app.wait_ready().await;
    app.open("#nav-documents", "documents-view").await;
    assert!(app.text("#doc-detail").await.contains("Drop files to summarize"));
    assert!(app.text("#doc-list").await.contains("No documents yet"));

    let corpus = bantam_testkit::test_corpus();
    let good = corpus.join("debian-faq-basic-defs.en.html");
    let bad = desktop.data_dir().join("quarterly-report.pdf");
    std::fs::create_dir_all(desktop.data_dir()).unwrap();
    std::fs::write(&bad, "this is not a PDF").unwrap();
    // The same event the webview emits for a native drop, sent through Tauri's event
    // system (WebDriver cannot drag files from outside the window).
    app.client
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('plugin:event|emit_to', { \
               target: { kind: 'Webview', label: 'main' }, event: 'tauri://drag-drop', \
               payload: { paths: arguments[0], position: { x: 100, y: 100 } } })",
            vec![serde_json::json!([good, bad])],
        )
        .await
        .unwrap();
    app.until(
        "both files to be listed",
        "return document.querySelectorAll('#doc-list .doc-item.job').length === 2",
    )
    .await;
    app.until(
        "the bad file to fail with a reason",
        "const f = document.querySelector('#doc-list .doc-item.failed .meta'); \
         return !!f && f.textContent.includes('the name says PDF')",
    )
    .await;
    // The good one: progress over its parts, then the streamed summary and metadata.
    app.until(
        "the summary to finish",
        "return !!document.querySelector('#doc-list .doc-item.job.done')",
    )
    .await;
    app.click("#doc-list .doc-item.job.done").await;
    app.until(
        "the metadata",
        "return !!document.querySelector('#doc-detail .metadata')",
    )
    .await;
    let summary = app.text("#doc-detail .doc-summary").await;
    assert!(!summary.trim().is_empty(), "empty summary");
    let status = app.text("#doc-detail .doc-status").await;
    assert!(status.contains("HTML") && status.contains("parts"), "status: {status}");
    let metadata = app.text("#doc-detail .metadata").await;
    assert!(metadata.contains("Words"), "metadata: {metadata}");
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("documents.png")).await;
    }
    // Ask about it: a chat whose context is the document.
    app.click("#doc-detail .doc-ask").await;
    app.until(
        "the document chat to open",
        "return !document.getElementById('chat-view').hidden && \
         document.getElementById('chat-title').textContent.startsWith('About ')",
    )
    .await;
    app.quit().await;

    // Another start: the document is in the list, searchable.
    let app = desktop.launch().await;
    app.wait_ready().await;
    app.open("#nav-documents", "documents-view").await;
    app.type_into("#doc-search", "Murdock").await;
    app.until(
        "the search hit",
        "const i = document.querySelector('#doc-list .doc-item .title'); \
         return !!i && document.querySelectorAll('#doc-list .doc-item').length === 1",
    )
    .await;
    // The search box finds the document's words and opens it.
    app.type_into("#search", "Murdock").await;
    app.until(
        "a document hit",
        "return !!document.querySelector('#search-results .hit[data-kind=chunk]')",
    )
    .await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("search.png")).await;
    }
    app.click("#search-results .hit[data-kind=chunk]").await;
    app.until(
        "the document to open",
        "return !document.getElementById('documents-view').hidden && \
           document.getElementById('doc-detail').textContent.toLowerCase().includes('debian')",
    )
    .await;
    app.quit().await;
}

/// The test model with another `general.name` (same length, so every offset stays):
/// a second, distinguishable model to switch to.
fn renamed_model(name: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(harness::test_model()).unwrap();
    let old = b"Smollm2 135M 8k Lc100K Mix1 Ep2";
    assert_eq!(name.len(), old.len());
    let at = bytes[..1 << 16]
        .windows(old.len())
        .position(|w| w == old)
        .expect("the test model's name in its header");
    bytes[at..at + old.len()].copy_from_slice(name.as_bytes());
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_sees_what_fits_downloads_a_model_and_switches_between_models() {
    use bantam_testkit::{FileServer, ServeOptions};
    use std::collections::HashMap;
    use std::sync::Arc;
    let _serial = SERIAL.lock().await;
    const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
    const B: &str = "Bantam Switch Test Model B 135M";
    // The catalogue's test model behind a slow mirror (so progress can be seen and
    // paused); a second model at a plain URL.
    let mirror = FileServer::serve_bytes(
        HashMap::from([(
            format!("/{FILE}"),
            Arc::new(std::fs::read(harness::test_model()).unwrap()),
        )]),
        ServeOptions {
            ranges: true,
            drop_after: None,
            rate: Some(8 << 20),
        },
    )
    .await
    .unwrap();
    let other = FileServer::serve_bytes(
        HashMap::from([("/model-b.gguf".to_string(), Arc::new(renamed_model(B)))]),
        ServeOptions {
            ranges: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let desktop = Desktop::start();
    let env = [("BANTAM_MODEL", None), ("BANTAM_MODEL_MIRROR", Some(mirror.base_url()))];
    let app = desktop.launch_with(&env).await;
    app.until(
        "the page to say there is no model",
        "return document.getElementById('status')?.dataset.state === 'no_model'",
    )
    .await;
    app.open("#nav-models", "models-view").await;
    // Every catalogue model is judged for this machine; one is suggested per tier.
    app.until(
        "the catalogue with fit badges",
        "return document.querySelectorAll('.model-row .fit').length >= 13 && \
         !!document.querySelector('.model-row[data-id=\"llama-3.2-3b-instruct\"] .fit') && \
         document.querySelectorAll('.model-row .recommended').length >= 2",
    )
    .await;
    assert!(app.text("#model-list").await.contains("No model on this machine yet"));
    assert!(app.text("#hw-summary").await.contains("memory free"));

    // Download with a progress bar; pause; resume from where it stopped.
    let row = ".model-row[data-id=\"smollm2-135m-instruct-q4_1\"]";
    app.click(&format!("{row} .download")).await;
    app.until(
        "the progress bar to move",
        &format!(
            "const p = document.querySelector('{row} progress'); \
             return !!p && p.value > 5 && p.value < 60"
        ),
    )
    .await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("models.png")).await;
    }
    app.click(&format!("{row} .dl-pause")).await;
    app.until(
        "the download to pause",
        &format!("return !!document.querySelector('{row} .download.paused .dl-resume')"),
    )
    .await;
    app.click(&format!("{row} .dl-resume")).await;
    // With no model yet, the first download is loaded by itself.
    app.until(
        "the download to finish and be in use",
        &format!("return !!document.querySelector('{row} .in-use')"),
    )
    .await;
    let resumed = mirror.seen().iter().filter_map(|s| s.range_start).max();
    assert!(
        resumed.is_some_and(|r| r > 0),
        "no request resumed: {:?}",
        mirror.seen()
    );
    app.until(
        "the downloaded model to load",
        "const s = document.getElementById('status'); \
         return s.dataset.state === 'ready' && s.textContent.includes('SmolLM2')",
    )
    .await;

    // A second model from a URL; switching to it answers from it.
    app.type_into("#model-url", &other.url("model-b.gguf")).await;
    app.click("#model-url-add").await;
    app.until(
        "model B to be listed",
        &format!(
            "return [...document.querySelectorAll('.model-row')].some(r => \
               r.querySelector('.model-name').textContent === '{B}' && !!r.querySelector('.use'))"
        ),
    )
    .await;
    app.client
        .execute(
            &format!(
                "[...document.querySelectorAll('.model-row')].find(r => \
                   r.querySelector('.model-name').textContent === '{B}').querySelector('.use').click()"
            ),
            vec![],
        )
        .await
        .unwrap();
    app.until(
        "model B to be in use",
        "const s = document.getElementById('status'); \
         return s.dataset.state === 'ready' && s.textContent.includes('model-b')",
    )
    .await;
    if let Some(dir) = screenshots() {
        app.client
            .execute("document.querySelector('.models').scrollTop = 0", vec![])
            .await
            .unwrap();
        app.screenshot(&dir.join("models-in-use.png")).await;
    }
    let chat_model = |app: &harness::App| {
        let client = app.client.clone();
        async move {
            let v = client
                .execute_async(
                    "const done = arguments[arguments.length - 1]; \
                     const inv = window.__TAURI_INTERNALS__.invoke; \
                     inv('conversations_list').then(cs => inv('conversation_messages', { conversationId: cs[0].id })) \
                       .then(ms => done(ms.filter(m => m.role === 'assistant').pop().model));",
                    vec![],
                )
                .await
                .unwrap();
            v.as_str().unwrap_or_default().to_string()
        }
    };
    app.open("#nav-chats", "chat-view").await;
    // Enter sends (the "ready" toast may still be over the Send button).
    app.type_into("#composer-input", "Say hello.\u{E007}").await;
    app.wait_answer().await;
    assert_eq!(chat_model(&app).await, B);
    app.quit().await;

    // The choice persists across a restart.
    let app = desktop.launch_with(&env).await;
    app.until(
        "model B to load again",
        "const s = document.getElementById('status'); \
         return s.dataset.state === 'ready' && s.textContent.includes('model-b')",
    )
    .await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imap_account_is_added_triaged_into_the_inbox_and_a_label_corrected() {
    use bantam_testkit::Dovecot;
    let _serial = SERIAL.lock().await;
    let corpus = bantam_testkit::test_corpus().join("mail");
    let mut seed: Vec<Vec<u8>> = ["mail_test_13", "mail_test_16", "mail_test_19"]
        .iter()
        .map(|n| std::fs::read(corpus.join(format!("{n}.eml"))).unwrap())
        .collect();
    seed.push(
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../crates/bantam-core/tests/fixtures/mail/meeting.eml"),
        )
        .unwrap(),
    );
    let server = Dovecot::start(&seed);
    let desktop = Desktop::start();
    let app = desktop.launch().await;
    app.wait_ready().await;
    app.open("#nav-inbox", "inbox-view").await;
    assert!(app
        .text("#inbox-list")
        .await
        .contains("Add an IMAP account in Settings"));

    // Settings: the account, checked against the server before it is saved.
    add_account(&app, &server, 4).await;

    // Inbox: Triage now fetches and triages the four messages, most urgent first.
    app.open("#nav-inbox", "inbox-view").await;
    app.click("#triage-now").await;
    app.until(
        "the four messages to be triaged",
        "return document.querySelectorAll('#inbox-list .mail-item').length === 4 && \
         document.getElementById('triage-progress').textContent.includes('4 new')",
    )
    .await;
    let list = app.text("#inbox-list").await;
    assert!(list.contains("New Webinar") && list.contains("budget review"), "{list}");
    // The filters offer the categories the list holds.
    let webinar: String = serde_json::from_value(
        app.client
            .execute(
                "return [...document.querySelectorAll('#inbox-list .mail-item')] \
                   .find(i => i.textContent.includes('New Webinar')).querySelector('.mail-category').value",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(app.text("#inbox-filters").await.contains(&webinar), "{webinar}");

    // The search box finds mail too; the Mail filter keeps to it and a hit opens the
    // message in the inbox.
    app.open("#nav-chats", "chat-view").await;
    app.type_into("#search", "budget review").await;
    app.until(
        "the search to offer its filters",
        "return !document.getElementById('search-filters').hidden",
    )
    .await;
    app.click("#search-filters [data-kind=mail]").await;
    app.until(
        "mail hits only",
        "const hits = [...document.querySelectorAll('#search-results .hit')]; \
         return document.querySelector('#search-filters .chip.active')?.dataset.kind === 'mail' && \
           hits.length > 0 && hits.every(h => h.dataset.kind === 'mail') && \
           hits[0].textContent.includes('budget review')",
    )
    .await;
    app.click("#search-results .hit").await;
    app.until(
        "the message to be shown in the inbox",
        "const f = document.querySelector('#inbox-list .mail-item.found'); \
         return !document.getElementById('inbox-view').hidden && !!f && f.textContent.includes('budget review')",
    )
    .await;

    // Again: nothing new on the server.
    app.click("#triage-now").await;
    app.until(
        "a second run to find nothing new",
        "return document.getElementById('triage-progress').textContent.includes('nothing new')",
    )
    .await;
    assert_eq!(
        app.client
            .execute(
                "return document.querySelectorAll('#inbox-list .mail-item').length",
                vec![]
            )
            .await
            .unwrap(),
        serde_json::json!(4)
    );

    // Correct the meeting's category with the model paused: corrections need no model.
    app.open("#open-settings", "settings-view").await;
    app.click("#pause-model").await;
    app.until(
        "the model to be paused",
        "return document.getElementById('status').dataset.state === 'paused'",
    )
    .await;
    app.open("#nav-inbox", "inbox-view").await;
    app.until(
        "the inbox again",
        "return !document.getElementById('inbox-view').hidden && \
         document.querySelectorAll('#inbox-list .mail-item').length === 4",
    )
    .await;
    let set = "const s = [...document.querySelectorAll('#inbox-list .mail-item')] \
                 .find(i => i.textContent.includes('budget review')).querySelector('.mail-category'); \
               s.value = 'finance'; s.dispatchEvent(new Event('change'));";
    app.client.execute(set, vec![]).await.unwrap();
    app.until(
        "the correction to be saved while the model is paused",
        "const i = [...document.querySelectorAll('#inbox-list .mail-item')] \
           .find(i => i.textContent.includes('budget review')); \
         return !!i && i.textContent.includes('decided by learned')",
    )
    .await;
    // The next run, model back, follows it for the same sender.
    app.open("#open-settings", "settings-view").await;
    app.click("#pause-model").await;
    app.wait_ready().await;
    app.open("#nav-inbox", "inbox-view").await;
    let next = String::from_utf8_lossy(&seed[3])
        .replace("Message-ID: <20261123091244.4411@", "Message-ID: <20261124080000.1@")
        .replace(
            "Can we move Thursday's budget review to 3pm?",
            "Room booked for the review",
        );
    server.deliver(next.as_bytes());
    app.click("#triage-now").await;
    app.until(
        "the new message from the same sender to follow the correction",
        "const i = [...document.querySelectorAll('#inbox-list .mail-item')] \
           .find(i => i.textContent.includes('Room booked')); \
         return !!i && i.textContent.includes('decided by learned') && \
           i.querySelector('.mail-category').value === 'finance'",
    )
    .await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("inbox.png")).await;
    }

    // Forget the webinar here (two clicks): its row goes, a new run does not bring it
    // back, and search no longer finds it. The mailbox itself is not changed.
    let webinar_forget = "[...document.querySelectorAll('#inbox-list .mail-item')] \
                            .find(i => i.textContent.includes('New Webinar'))?.querySelector('.mail-forget')";
    let before: usize = serde_json::from_value(
        app.client
            .execute(
                "return document.querySelectorAll('#inbox-list .mail-item').length",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    app.client
        .execute(&format!("{webinar_forget}.click()"), vec![])
        .await
        .unwrap();
    app.until(
        "the forget button to ask for a second click",
        &format!("return {webinar_forget}?.textContent === 'Click again to forget'"),
    )
    .await;
    app.client
        .execute(&format!("{webinar_forget}.click()"), vec![])
        .await
        .unwrap();
    let gone = format!(
        "const items = [...document.querySelectorAll('#inbox-list .mail-item')]; \
         return items.length === {} && !items.some(i => i.textContent.includes('New Webinar'))",
        before - 1
    );
    app.until("the webinar to be forgotten", &gone).await;
    app.click("#triage-now").await;
    app.until(
        "a run after forgetting to find nothing new",
        "return document.getElementById('triage-progress').textContent.includes('nothing new')",
    )
    .await;
    app.until("the webinar to stay forgotten", &gone).await;
    app.open("#nav-chats", "chat-view").await;
    app.type_into("#search", "New Webinar").await;
    app.until(
        "search to find no webinar",
        "return document.getElementById('search-results').textContent.includes('Nothing in mail for “New Webinar”')",
    )
    .await;
    app.quit().await;
}

/// Adds the server's account in Settings: a wrong password first (refused), then the
/// right one; the server has `messages` messages.
async fn add_account(app: &harness::App, server: &bantam_testkit::Dovecot, messages: usize) {
    app.open("#open-settings", "settings-view").await;
    app.type_into("#acc-name", "work").await;
    app.type_into("#acc-host", "localhost").await;
    app.type_into("#acc-port", &server.imaps_port.to_string()).await;
    app.type_into("#acc-user", &server.user).await;
    app.type_into("#acc-password", "wrong").await;
    app.type_into("#acc-ca", &server.ca_file.display().to_string()).await;
    app.click("#acc-add").await;
    app.until(
        "the wrong password to be refused",
        "return document.getElementById('acc-status').textContent.includes('refused')",
    )
    .await;
    app.type_into("#acc-password", &server.password).await;
    app.click("#acc-add").await;
    app.until(
        "the account to be added",
        &format!(
            "return document.getElementById('acc-status').textContent.includes('{messages} message{}') && \
             !!document.querySelector('#account-list .account[data-name=\"work\"]')",
            if messages == 1 { "" } else { "s" }
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_triaged_on_a_schedule_with_urgent_notifications_and_reply_drafts() {
    use bantam_core::store::settings::keys::TRIAGE;
    use bantam_core::tasks::triage::{Priority4, Rule, RuleField, TriageOptions};
    use bantam_testkit::Dovecot;
    let _serial = SERIAL.lock().await;
    let corpus = bantam_testkit::test_corpus().join("mail");
    let fixture = |name: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../crates/bantam-core/tests/fixtures/mail")
                .join(name),
        )
        .unwrap()
    };
    let server = Dovecot::start(&[std::fs::read(corpus.join("mail_test_13.eml")).unwrap()]);
    let desktop = Desktop::start();
    let notifications = desktop.start_notifications();
    // The user's rule makes the budget meeting urgent (the model's choice is not the test).
    {
        std::fs::create_dir_all(desktop.data_dir()).unwrap();
        let store = bantam_core::Store::open(&desktop.data_dir().join("bantam.sqlite3"))
            .await
            .unwrap();
        let options = TriageOptions {
            rules: vec![Rule {
                field: RuleField::Subject,
                pattern: "budget review".into(),
                category: "work".into(),
                priority: Some(Priority4::Urgent),
            }],
            ..TriageOptions::default()
        };
        store.set_setting(TRIAGE, &options).await.unwrap();
    }
    let app = desktop
        .launch_with(&[
            ("BANTAM_MODEL", Some(harness::test_model().display().to_string())),
            ("BANTAM_MAIL_EVERY_SECS", Some("4".into())),
        ])
        .await;
    app.wait_ready().await;
    add_account(&app, &server, 1).await;
    // Settings: notifications and drafts on (both off by default).
    app.click("#mail-notify").await;
    app.click("#mail-drafts").await;
    app.until(
        "the mail settings to be saved",
        "return document.getElementById('toast').textContent.includes('Mail settings saved')",
    )
    .await;

    if let Some(dir) = screenshots() {
        app.client
            .execute(
                "document.getElementById('mail-every').scrollIntoView({block: 'center'});",
                vec![],
            )
            .await
            .unwrap();
        app.screenshot(&dir.join("settings-mail.png")).await;
    }

    // The Inbox fills by itself: nobody presses Triage now.
    app.open("#nav-inbox", "inbox-view").await;
    app.until(
        "the scheduled check to triage the first message",
        "return document.querySelectorAll('#inbox-list .mail-item').length === 1 && \
         document.getElementById('triage-progress').textContent.includes('next check in')",
    )
    .await;
    assert!(app.text("#inbox-list").await.contains("New Webinar"));

    // New mail arrives on the server; the next check brings it, notifies of the urgent
    // one and drafts replies where one is needed.
    server.deliver(&fixture("meeting.eml"));
    server.deliver(&fixture("flight.eml"));
    for name in ["mail_test_12", "mail_test_5", "mail_test_2"] {
        server.deliver(&std::fs::read(corpus.join(format!("{name}.eml"))).unwrap());
    }
    // Finished: six listed, the run's line says five new, and every message that needs a
    // reply shows its draft.
    app.until_advancing(
        "the next scheduled check to triage the new mail and draft replies",
        "const items = [...document.querySelectorAll('#inbox-list .mail-item')]; \
         return items.length === 6 && \
           document.getElementById('triage-progress').textContent.includes('5 new') && \
           items.every(i => !i.querySelector('.badge.reply') || i.querySelector('.mail-draft pre'));",
        "return document.getElementById('triage-progress').textContent + ' ' + \
           document.querySelectorAll('#inbox-list .mail-item, #inbox-list .mail-draft pre').length",
    )
    .await;
    // One notification per urgent message (the rule's, and any the model found urgent),
    // none for the rest. Notifications are sent as records finish; give the last a moment.
    let urgent = app
        .client
        .execute(
            "return [...document.querySelectorAll('#inbox-list .mail-item.priority-urgent .mail-subject')] \
               .map(s => 'Urgent: ' + s.textContent);",
            vec![],
        )
        .await
        .unwrap();
    let mut urgent: Vec<String> = serde_json::from_value(urgent).unwrap();
    urgent.sort();
    assert!(urgent.contains(&"Urgent: Can we move Thursday's budget review to 3pm?".to_string()));
    let mut titles = Vec::new();
    for _ in 0..40 {
        titles = notifications.titles();
        titles.sort();
        if titles == urgent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(titles, urgent);

    // Every message that needs a reply has its draft; the others have none.
    let counts = app
        .client
        .execute(
            "const items = [...document.querySelectorAll('#inbox-list .mail-item')]; \
             return [items.filter(i => i.querySelector('.badge.reply')).length, \
                     items.filter(i => i.querySelector('.badge.reply') && i.querySelector('.mail-draft pre')).length, \
                     items.filter(i => !i.querySelector('.badge.reply') && i.querySelector('.mail-draft')).length];",
            vec![],
        )
        .await
        .unwrap();
    let counts: Vec<u64> = serde_json::from_value(counts).unwrap();
    assert!(
        counts[0] >= 1,
        "no message needs a reply: {}",
        app.text("#inbox-list").await
    );
    assert_eq!(counts[1], counts[0], "a message that needs a reply has no draft");
    assert_eq!(counts[2], 0, "a draft for a message that needs no reply");
    app.client
        .execute(
            "const d = document.querySelector('#inbox-list .mail-draft'); d.open = true; d.closest('.mail-item').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("inbox-drafts.png")).await;
    }
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_app_measures_the_real_app_start_hotkey_and_memory() {
    let _serial = SERIAL.lock().await;
    let data = tempfile::tempdir().unwrap();
    let out = bantam_tests::cli::bantam(data.path())
        .args([
            "bench",
            "app",
            "--starts",
            "2",
            "--presses",
            "3",
            "--settle",
            "1",
            "--json",
            "--model",
        ])
        .arg(harness::test_model())
        .arg("--app")
        .arg(bantam_tests::bin("bantam-app"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cold_start_ms"].as_array().unwrap().len(), 2);
    // The popup is created at start-up, so the hotkey only maps it: well under a second
    // even for a debug build under a loaded CI machine.
    let hotkey = report["hotkey_ms"].as_array().unwrap();
    assert_eq!(hotkey.len(), 2, "the first press is left out");
    assert!(hotkey.iter().all(|ms| ms.as_f64().unwrap() < 1000.0), "{report}");
    // The whole tree is counted: the app and its WebKit web process at least.
    let tray = report["tray_breakdown"].as_array().unwrap();
    assert!(tray.len() >= 2, "{report}");
    for key in ["idle_no_model_tray_mb", "idle_model_tray_mb"] {
        assert!(report[key].as_f64().unwrap() > 50.0, "{key}: {report}");
    }
    assert!(
        report["idle_model_window_mb"].as_f64() > report["idle_no_model_tray_mb"].as_f64(),
        "a loaded model and an open window cost memory: {report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fact_kept_in_memory_is_used_in_a_new_chat_edited_and_gone_for_good_after_delete() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    let app = desktop.launch().await;
    app.wait_ready().await;

    // Empty state, then a fact the user writes is kept at once.
    app.open("#nav-memory", "memory-view").await;
    assert!(app.text("#memory-list").await.contains("Nothing remembered yet"));
    app.type_into("#mem-add", "My daughter is called Ana").await;
    app.click("#mem-add-btn").await;
    app.until(
        "the fact to be kept",
        "const i = document.querySelector('#memory-list .memory-item'); \
         return !!i && i.dataset.status === 'kept' && \
           i.querySelector('.memory-text').textContent === 'My daughter is called Ana' && \
           i.querySelector('.meta').textContent.includes('not used yet')",
    )
    .await;

    // A new chat is answered with it, and the answer says so.
    app.open("#nav-chats", "chat-view").await;
    app.click("#new-chat").await;
    app.type_into("#composer-input", "What is my daughter called?").await;
    app.click("#send").await;
    app.wait_answer().await;
    let used = app.text(".message.assistant .memory-used").await;
    assert!(used.contains("My daughter is called Ana"), "memory line: {used}");
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("chat-from-memory.png")).await;
    }

    // Memory counts the use; the fact is edited in place (Enter saves).
    app.click(".message.assistant .memory-used a").await;
    app.until(
        "Memory to show the use",
        "const i = document.querySelector('#memory-list .memory-item'); \
         return !document.getElementById('memory-view').hidden && !!i && \
           i.querySelector('.meta').textContent.includes('used 1 time')",
    )
    .await;
    app.click("#memory-list .memory-item .edit").await;
    app.type_into("#memory-list .memory-edit", "My daughter is called Ana Sofia\u{E007}")
        .await;
    app.until(
        "the edit to be saved",
        "const t = document.querySelector('#memory-list .memory-item .memory-text'); \
         return !!t && t.textContent === 'My daughter is called Ana Sofia'",
    )
    .await;
    app.type_into("#mem-add", "I work at Northwind Logistics").await;
    app.click("#mem-add-btn").await;
    app.until(
        "two facts",
        "return document.querySelectorAll('#memory-list .memory-item').length === 2",
    )
    .await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("memory.png")).await;
    }

    // Delete one; "forget everything" takes two clicks and leaves the empty state.
    app.click("#memory-list .memory-item[data-status='kept'] .delete").await;
    app.until(
        "one fact left",
        "return document.querySelectorAll('#memory-list .memory-item').length === 1",
    )
    .await;
    app.click("#mem-forget-all").await;
    app.until(
        "the second click to be asked for",
        "return document.getElementById('mem-forget-all').textContent.includes('Click again')",
    )
    .await;
    app.click("#mem-forget-all").await;
    app.until(
        "the empty state",
        "return document.getElementById('memory-list').textContent.includes('Nothing remembered yet')",
    )
    .await;

    // A new chat is answered without it.
    app.open("#nav-chats", "chat-view").await;
    app.click("#new-chat").await;
    app.type_into("#composer-input", "What is my daughter called?").await;
    app.click("#send").await;
    app.wait_answer().await;
    let lines: serde_json::Value = app
        .client
        .execute(
            "return document.querySelectorAll('.message.assistant .memory-used').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(lines, serde_json::json!(0), "an answer still used a forgotten fact");
    app.quit().await;

    // Gone for good: not in the table, not found by search.
    let store = bantam_core::Store::open(&desktop.data_dir().join("bantam.sqlite3"))
        .await
        .unwrap();
    assert!(store.memories(None).await.unwrap().is_empty());
    assert!(store.search_memories("daughter", 10).await.unwrap().is_empty());
    assert!(store.search_memories("Northwind", 10).await.unwrap().is_empty());
}

/// Reads a file into the app's store with the CLI, as a user who uses both would.
fn ingest_with_cli(desktop: &Desktop, file: &std::path::Path, options: &[&str]) {
    let ingested = std::process::Command::new(bantam_tests::bin("bantam"))
        .arg("--data-dir")
        .arg(desktop.data_dir())
        .arg("--model")
        .arg(harness::test_model())
        .arg("ingest")
        .args(options)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_my_files_cites_an_earlier_chat_which_the_citation_opens() {
    let _serial = SERIAL.lock().await;
    let desktop = Desktop::start();
    // A document of three parts, read in with the CLI on the same data.
    let text = bantam_tests::bird_survey();
    std::fs::create_dir_all(desktop.data_dir()).unwrap();
    let file = desktop.data_dir().join("birds.md");
    std::fs::write(&file, &text).unwrap();
    ingest_with_cli(&desktop, &file, &[]);
    // The same survey as a census cut into many small parts: reading it all takes long
    // enough to be stopped midway.
    let census = desktop.data_dir().join("census.md");
    std::fs::write(&census, text.replace("survey", "census")).unwrap();
    ingest_with_cli(&desktop, &census, &["--chunk-tokens", "48"]);
    let app = desktop.launch().await;
    app.wait_ready().await;
    app.type_into("#composer-input", "The wifi password at the cabin is bluefjord42.")
        .await;
    app.click("#send").await;
    app.wait_answer().await;

    // A new chat asks the user's files: the earlier message is among the passages, and
    // its link opens that chat.
    app.click("#new-chat").await;
    app.click("#ask-files").await;
    app.type_into("#composer-input", "What is the wifi password at the cabin?")
        .await;
    app.click("#send").await;
    app.until(
        "the answer from the files",
        "const a = document.querySelector('.message.assistant.from-files'); \
         return !!a && !a.classList.contains('streaming') && a.dataset.outcome !== undefined",
    )
    .await;
    let body = app.text(".message.assistant.from-files .body").await;
    assert!(!body.trim().is_empty(), "an empty answer");
    let looked = app.text(".message.assistant.from-files .looked-in").await;
    assert!(looked.contains("chat · The wifi password"), "looked in: {looked}");
    if let Some(dir) = screenshots() {
        app.client
            .execute("document.querySelector('.looked-in').open = true", vec![])
            .await
            .unwrap();
        app.screenshot(&dir.join("chat-ask-files.png")).await;
    }
    app.client
        .execute("document.querySelector('.looked-in').open = true", vec![])
        .await
        .unwrap();
    app.click(".message.assistant.from-files .looked-in a.citation[data-kind='message']")
        .await;
    app.until(
        "the cited chat to open",
        "return document.getElementById('chat-title').textContent.startsWith('The wifi password') && \
           document.querySelector('#messages .message.user').textContent.includes('bluefjord42')",
    )
    .await;

    // "How many …" reads the whole document, part by part, and links to it.
    app.click("#new-chat").await;
    app.type_into("#composer-input", "How many kinds of birds does the survey name?")
        .await;
    app.click("#send").await;
    app.until_advancing(
        "the whole document to be read",
        "const a = document.querySelector('.message.assistant.from-files'); \
         return !!a && !a.classList.contains('streaming') && a.dataset.outcome !== undefined",
        "const a = document.querySelector('.message.assistant.from-files .body'); return a ? a.textContent : ''",
    )
    .await;
    let body = app.text(".message.assistant.from-files .body").await;
    assert!(
        body.contains("Read all ") && body.contains(" parts of birds.md"),
        "answer: {body}"
    );
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("chat-whole-document.png")).await;
    }
    app.click(".message.assistant.from-files .whole-read a").await;
    app.until(
        "the document to open",
        "return !document.getElementById('documents-view').hidden && \
           /birds\\.md|Birds of the coast/.test(document.getElementById('doc-detail').textContent)",
    )
    .await;

    // Stop ends an ask midway: the question is kept, the unfinished answer is not.
    app.open("#nav-chats", "chat-view").await;
    app.click("#new-chat").await;
    app.type_into("#composer-input", "How many kinds of birds does the census name?")
        .await;
    app.click("#send").await;
    app.until(
        "the census to be read",
        "const a = document.querySelector('.message.assistant.from-files .body'); \
         return !!a && a.textContent.startsWith('Reading the whole document')",
    )
    .await;
    app.click("#stop").await;
    app.until(
        "the ask to stop",
        "const a = document.querySelector('.message.assistant.from-files'); \
         return !!a && !a.classList.contains('streaming') && \
           a.querySelector('.stats').textContent === 'stopped · answer not kept'",
    )
    .await;
    let read = app.text(".message.assistant.from-files .body").await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("chat-ask-stopped.png")).await;
    }
    app.quit().await;

    // The ask is kept like a chat: question and answer (with its sources or "not found").
    let store = bantam_core::Store::open(&desktop.data_dir().join("bantam.sqlite3"))
        .await
        .unwrap();
    let conversations = store.list_conversations(10).await.unwrap();
    let ask = conversations
        .iter()
        .find(|c| c.title.starts_with("What is the wifi password"))
        .expect("the ask's conversation");
    let messages = store.messages(ask.id).await.unwrap();
    assert_eq!(messages.len(), 2);
    let kept = &messages[1].content;
    assert!(
        kept.contains("Sources:\n[") || kept.contains("Not found in your files"),
        "kept answer: {kept}"
    );
    let stopped = conversations
        .iter()
        .find(|c| c.title.contains("the census name"))
        .expect("the stopped ask's conversation");
    let messages = store.messages(stopped.id).await.unwrap();
    assert_eq!(
        messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["How many kinds of birds does the census name?"],
        "stopped while: {read}"
    );
}
