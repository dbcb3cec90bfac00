//! End to end: the built app in a real WebKit window under Xvfb, driven over WebDriver,
//! answering with the real test model.

mod harness;

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
    app.until(
        "the answer to finish",
        "const a = document.querySelector('.message.assistant'); \
         return !!a && !a.classList.contains('streaming') && a.dataset.finish !== undefined",
    )
    .await;
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
    app.click("#open-settings").await;
    app.until(
        "settings to load",
        "return document.getElementById('set-hotkey').value === 'Ctrl+Alt+Space' \
         && document.getElementById('set-model').value.endsWith('SmolLM2-135M-Instruct.Q4_1.gguf')",
    )
    .await;
    if let Some(dir) = screenshots() {
        app.screenshot(&dir.join("settings.png")).await;
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
    app.click("#nav-documents").await;
    assert!(app.text("#doc-detail").await.contains("Drop files to summarize"));
    assert!(app.text("#doc-list").await.contains("No documents yet"));

    let corpus = bantam_core::paths::test_corpus();
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
    app.click("#nav-documents").await;
    app.until(
        "the documents view",
        "return !document.getElementById('documents-view').hidden",
    )
    .await;
    app.type_into("#doc-search", "Murdock").await;
    app.until(
        "the search hit",
        "const i = document.querySelector('#doc-list .doc-item .title'); \
         return !!i && document.querySelectorAll('#doc-list .doc-item').length === 1",
    )
    .await;
    app.quit().await;
}
