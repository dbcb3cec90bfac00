//! `bantam summarize` / `bantam ingest` end to end: real files, the real model, a real
//! kill in the middle of a long summary.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bantam_core::store::JobState;
use bantam_core::Store;
use bantam_testkit::{test_corpus, test_model};
use serde_json::Value;

use bantam_tests::cli as common;

/// `bantam` on the test model.
fn bantam(data: &Path) -> Command {
    let mut cmd = common::bantam(data);
    cmd.arg("--model").arg(test_model());
    cmd
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn several_files_each_get_a_result_or_their_own_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("invoice.pdf");
    std::fs::write(&fake, "just text pretending").expect("write");
    let out = bantam(&dir.path().join("data"))
        .args(["summarize", "--json", "--length", "tldr"])
        .arg(test_corpus().join("python-docx-README.md"))
        .arg(&fake)
        .arg(test_corpus().join("mail_test_3.eml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "a failed file makes the exit code 1");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["ok"], true);
    assert!(!lines[0]["summary"].as_str().unwrap_or_default().is_empty());
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(lines[1]["error"]["kind"], "extension_mismatch");
    assert!(lines[1]["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("invoice.pdf"));
    assert_eq!(lines[2]["ok"], true, "the batch went on past the bad file");
    assert_eq!(lines[2]["metadata"]["title"], "Hi there");
}

#[test]
fn ingest_json_has_text_chunks_pages_and_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bantam(dir.path())
        .args(["ingest", "--json", "--chunk-tokens", "512"])
        .arg(test_corpus().join("fhs-3.0.pdf"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = &json_lines(&out.stdout)[0];
    assert_eq!(doc["format"], "pdf");
    assert_eq!(doc["pages"], 50);
    assert!(doc["text"].as_str().unwrap_or_default().contains("/usr/local"));
    let chunks = doc["chunks"].as_array().expect("chunks");
    assert!(chunks.len() > 10);
    assert!(chunks.iter().all(|c| c["tokens"].as_u64().unwrap_or(u64::MAX) <= 512));
    assert_eq!(chunks[0]["page_start"], 1);
    assert_eq!(chunks.last().expect("last")["page_end"], 50);
    assert_eq!(doc["metadata"]["pages"], 50);
    assert_eq!(doc["metadata"]["sha256"], doc["sha256"]);
    // 3–7 asked for; restatements are dropped, so 1–7 remain (docs/documents.md).
    assert!(doc["metadata"]["key_points"]
        .as_array()
        .is_some_and(|k| (1..=7).contains(&k.len())));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_summary_resumes_without_redoing_finished_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let file = test_corpus().join("debian-faq-basic-defs.en.html");
    let summarize = || {
        let mut cmd = bantam(data);
        cmd.args(["summarize", "--json", "--chunk-tokens", "128"]).arg(&file);
        cmd
    };
    let log = data.join("first-run.log");
    std::fs::create_dir_all(data).expect("data dir");
    let mut child = summarize()
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let store = Store::open(
        &bantam_core::paths::DataDir::resolve(Some(data))
            .expect("data dir")
            .database(),
    )
    .await
    .expect("store");

    // Kill it once a few chunk summaries are stored, well before the end.
    let started = Instant::now();
    let doc_id = loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no chunk summaries appeared"
        );
        if let Some(status) = child.try_wait().expect("wait") {
            panic!(
                "finished ({status}) before it could be killed: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Some(doc) = store.list_documents(None, 1).await.expect("list").into_iter().next() else {
            continue;
        };
        let done = store.chunks(doc.id).await.expect("chunks");
        if done.iter().filter(|c| c.summary.is_some()).count() >= 3 {
            break doc.id;
        }
    };
    child.kill().expect("kill");
    child.wait().expect("reaped");
    let before: Vec<_> = store
        .chunks(doc_id)
        .await
        .expect("chunks")
        .into_iter()
        .filter(|c| c.summary.is_some())
        .collect();
    let total = store.chunks(doc_id).await.expect("chunks").len();
    assert!(before.len() < total, "killed mid-way: {}/{total}", before.len());

    let out = summarize().output().expect("second run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result = &json_lines(&out.stdout)[0];
    assert_eq!(result["chunks"], total);
    assert_eq!(
        result["mapped"].as_u64(),
        Some((total - before.len()) as u64),
        "only the missing chunks were summarized"
    );
    let after = store.chunks(doc_id).await.expect("chunks");
    assert!(after.iter().all(|c| c.summary.is_some()));
    for old in &before {
        let now = &after[old.idx as usize];
        assert_eq!(now.summary, old.summary, "chunk {} was summarized twice", old.idx);
        assert_eq!(now.summarized_at, old.summarized_at);
    }
    assert_eq!(
        store.count_jobs("summarize", JobState::Done).await.expect("jobs"),
        1,
        "one job, resumed"
    );
    let job = store.job(1).await.expect("job");
    assert_eq!(job.attempts, 2);
}

#[test]
fn eval_documents_scores_metadata_against_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labels = dir.path().join("labels.jsonl");
    // The HTML's title is its own <title>; the mail's type is "email" because it is a
    // mail file and its language is detected from its Italian text: neither depends on
    // the test model. The HTML's type is the model's; "invoice" makes it a sure miss.
    std::fs::write(
        &labels,
        "{\"file\": \"maint-guide-first.en.html\", \"titles\": [\"First steps\", \"Chapter 2. First steps\"], \
          \"document_type\": \"invoice\", \"language\": \"en\", \"split\": \"test\"}\n\
         {\"file\": \"mail_test_2.eml\", \"titles\": [\"Bollettino Meteorologico del 29/11/2015\"], \
          \"document_type\": \"email\", \"language\": \"it\", \"split\": \"test\"}\n\
         {\"file\": \"fhs-3.0.pdf\", \"titles\": [\"x\"], \"document_type\": \"manual\", \"language\": \"en\", \"split\": \"dev\"}\n",
    )
    .expect("labels");
    let eval = |extra: &[&str]| {
        bantam(&dir.path().join("data"))
            .args(["eval", "documents", "--json", "--split", "test", "--doc-dir"])
            .arg(test_corpus())
            .args(extra)
            .arg(&labels)
            .output()
            .expect("runs")
    };
    let out = eval(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let r = &v["report"];
    assert_eq!(r["documents"], 2, "only the test split");
    assert_eq!(r["failed"], 0);
    assert_eq!(r["title_accuracy"], 1.0);
    assert_eq!(r["titles_from_file"], 2);
    let mail = r["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|d| d["file"] == "mail_test_2.eml")
        .expect("the mail")
        .clone();
    assert_eq!(
        (&mail["document_type"], &mail["language"]),
        (&Value::from("email"), &Value::from("it"))
    );
    assert!(
        r["type_accuracy"].as_f64().expect("type") <= 0.5,
        "the invoice label is a miss"
    );
    assert_eq!(eval(&["--min-accuracy", "0.4"]).status.code(), Some(0));
    assert_eq!(eval(&["--min-accuracy", "0.9"]).status.code(), Some(1));
}

#[test]
fn search_and_ask_find_a_documents_page_by_meaning_and_words() {
    let data = tempfile::tempdir().expect("tempdir");
    let ingested = bantam(data.path())
        .arg("ingest")
        .arg(test_corpus().join("fhs-3.0.pdf"))
        .output()
        .expect("runs");
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );
    let out = bantam(data.path())
        .args(["search", "--kind", "doc", "--json", "--limit", "3"])
        .arg("--embed-model")
        .arg(bantam_testkit::embed_model())
        .arg("where do programs keep their temporary files")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Off a terminal, progress is whole lines: the last says everything was embedded.
    let said = String::from_utf8_lossy(&out.stderr);
    let last = said
        .lines()
        .rev()
        .find(|l| l.contains("embedded for search"))
        .unwrap_or("");
    let (done, total) = last.split_once(" of ").expect("N of M embedded");
    assert_eq!(done, total.split_whitespace().next().unwrap(), "{said}");
    let hits: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(hits.len(), 3);
    assert!(
        hits.iter().all(|h| h["kind"] == "chunk" && h["title"] == "fhs-3.0.pdf"),
        "{hits:#?}"
    );
    // The pages on /tmp and /var/tmp ("for programs that require temporary files").
    let plain = |h: &Value| h["snippet"].as_str().unwrap().replace(['[', ']'], "").to_lowercase();
    assert!(
        plain(&hits[0]).contains("programs that require temporary files"),
        "{hits:#?}"
    );
    // A question in other words than the page's: found by meaning.
    assert_eq!(hits[0]["meaning_rank"], 1, "{hits:#?}");
    assert!(hits.iter().all(|h| h["page"].as_i64().is_some()), "{hits:#?}");

    // Nothing there: exit 4, said plainly.
    let none = bantam(data.path())
        .args(["search", "--kind", "chat", "--embed-model"])
        .arg(bantam_testkit::embed_model())
        .arg("temporary files")
        .output()
        .expect("runs");
    assert_eq!(none.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&none.stderr).contains("nothing found"));
    // Nothing close: the nearest pages of a standard about file systems are not listed
    // for a question about sport.
    let far = bantam(data.path())
        .args(["search", "--kind", "doc", "--embed-model"])
        .arg(bantam_testkit::embed_model())
        .arg("how many players does a basketball team have")
        .output()
        .expect("runs");
    assert_eq!(far.status.code(), Some(4), "{}", String::from_utf8_lossy(&far.stdout));

    // Ask: the pages found are the numbered sources the model answers from, and what it
    // cites is among them (whether the smoke model answers right is the evaluation's
    // business, on real models: docs/search.md).
    let ask = |question: &str| {
        bantam(data.path())
            .args(["ask", "--kind", "doc", "--json", "--embed-model"])
            .arg(bantam_testkit::embed_model())
            .arg(question)
            .output()
            .expect("runs")
    };
    let asked = ask("Which directory keeps temporary files that are preserved between reboots?");
    let answer: Value = serde_json::from_slice(&asked.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&asked.stderr)));
    assert_ne!(answer["outcome"], "nothing_close", "{answer:#}");
    let sources = answer["sources"].as_array().expect("sources");
    assert!(!sources.is_empty() && sources.len() <= 5, "{answer:#}");
    for (i, s) in sources.iter().enumerate() {
        assert_eq!(s["n"], i + 1, "{answer:#}");
    }
    assert_eq!(sources[0]["hit"]["title"], "fhs-3.0.pdf");
    assert!(
        sources.iter().any(|s| s["passage"]
            .as_str()
            .unwrap()
            .contains("preserved between system reboots")),
        "{answer:#}"
    );
    let cited = answer["cited"].as_array().expect("cited");
    assert!(
        cited
            .iter()
            .all(|n| (1..=sources.len() as u64).contains(&n.as_u64().unwrap())),
        "{answer:#}"
    );
    let answered = answer["outcome"] == "answered";
    assert_eq!(answered, !cited.is_empty(), "{answer:#}");
    assert_eq!(asked.status.code(), Some(if answered { 0 } else { 4 }));

    // Nothing in the file comes near: not found, without asking the model.
    let none = ask("Who won the 2018 FIFA World Cup?");
    assert_eq!(none.status.code(), Some(4));
    let answer: Value = serde_json::from_slice(&none.stdout).expect("JSON");
    assert_eq!(answer["outcome"], "nothing_close", "{answer:#}");
    assert_eq!(answer["text"], "");
    let plain = bantam(data.path())
        .args(["ask", "--embed-model"])
        .arg(bantam_testkit::embed_model())
        .arg("Who won the 2018 FIFA World Cup?")
        .output()
        .expect("runs");
    assert_eq!(plain.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout).trim(),
        "Not found in your files."
    );
}

/// "How many sections …" is answered from the document's structure: its numbered
/// paragraphs, in order, not a stray number in a list or a subsection.
#[test]
fn a_question_about_sections_is_answered_from_the_outline() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("TERMS OF THE HARBOUR LEASE\n\n");
    let titles = ["Definitions", "Rent", "Mooring Rights", "Repairs", "Termination"];
    for (n, title) in titles.iter().enumerate() {
        text.push_str(&format!(
            "  {n}. {title}. The tenant and the harbour master agree as follows.\n\n"
        ));
        text.push_str("    1. A numbered list item inside the section.\n\n");
        text.push_str(&format!("  {n}.1. A subsection of section {n}\n\n"));
        text.push_str(&"Boats are moored at the outer wall during the winter months. ".repeat(40));
        text.push_str("\n\n");
    }
    let file = data.path().join("lease.txt");
    std::fs::write(&file, &text).unwrap();
    let ingested = bantam(data.path()).arg("ingest").arg(&file).output().expect("runs");
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );

    let out = bantam(data.path())
        .args([
            "ask",
            "--doc",
            "1",
            "How many numbered sections does the harbour lease have?",
        ])
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with("5 numbered sections: 0. Definitions; 1. Rent;"),
        "{said}"
    );
    assert!(
        said.contains("(whole document: read the outline of doc 1 · lease.txt; 5 items found)"),
        "{said}"
    );
    assert!(said.contains("  - 4. Termination (part "), "{said}");

    let out = bantam(data.path())
        .args([
            "ask",
            "--doc",
            "1",
            "--json",
            "List all the section titles of the lease",
        ])
        .output()
        .expect("runs");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(answer["reading"], "outline", "{answer:#}");
    let items: Vec<&str> = answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["text"].as_str())
        .collect();
    assert_eq!(
        items,
        [
            "0. Definitions",
            "1. Rent",
            "2. Mooring Rights",
            "3. Repairs",
            "4. Termination"
        ]
    );
}

/// "How many …" reads every part of the document (not the top few), says so, and keeps
/// only items whose words are in the part they came from.
#[test]
fn a_whole_document_question_reads_every_part_of_the_document() {
    let data = tempfile::tempdir().expect("tempdir");
    // Several parts once read in.
    let text = bantam_tests::bird_survey();
    let file = data.path().join("birds.md");
    std::fs::write(&file, &text).unwrap();
    let ingested = bantam(data.path()).arg("ingest").arg(&file).output().expect("runs");
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );

    let question = "How many kinds of birds does the survey name?";
    let out = bantam(data.path())
        .args(["ask", "--embed-model"])
        .arg(bantam_testkit::embed_model())
        .arg(question)
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&out.stdout);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 4)), "{said}\n{progress}");
    let parts = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = bantam_core::paths::DataDir::resolve(Some(data.path()))
            .expect("data dir")
            .database();
        Store::open(&db).await.expect("store").chunks(1).await.unwrap().len()
    });
    assert!(parts >= 2, "one part only: the test needs a longer document");
    assert!(
        said.contains(&format!("whole document: read all {parts} parts of doc 1 · birds.md")),
        "{said}"
    );
    assert!(
        progress.contains(&format!("{parts} of {parts} parts read")),
        "{progress}"
    );

    // Every item listed is made of the document's words.
    let words: std::collections::HashSet<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .collect();
    for line in said.lines().filter_map(|l| l.strip_prefix("  - ")) {
        let item = line.rsplit_once(" (part ").map_or(line, |(i, _)| i).to_lowercase();
        let all: Vec<&str> = item
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let inside = all.iter().filter(|w| words.contains(**w)).count();
        assert!(inside * 3 >= all.len() * 2, "an item not from the document: {item}");
    }
    // A count about something no document covers reads no document: not found.
    let out = bantam(data.path())
        .args(["ask", "--embed-model"])
        .arg(bantam_testkit::embed_model())
        .arg("How many players does a basketball team have on the court?")
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains("Not found in your files") && !said.contains("whole document"),
        "{said}"
    );
    // Forced the other way, the closest passages answer (and say nothing of parts).
    let out = bantam(data.path())
        .args(["ask", "--path", "passages", "--json", "--embed-model"])
        .arg(bantam_testkit::embed_model())
        .arg(question)
        .output()
        .expect("runs");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        answer["outcome"].is_string() && answer.get("parts").is_none(),
        "{answer:#}"
    );
}
