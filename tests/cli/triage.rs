//! `bantam triage` on a Maildir of real emails: JSON lines with a record or an error per
//! message; SIGKILL mid-run and the same command finishes with every message triaged
//! exactly once; a correction with --correct applies to the next mail from that sender.

use bantam_tests::cli as common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::bantam;
use serde_json::Value;

fn maildir(dir: &Path) -> (PathBuf, usize) {
    let maildir = dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let corpus = bantam_testkit::test_corpus().join("mail");
    let mut n = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    // The Outlook file (a refused one), the two copies of one message, and the
    // newsletter the correction below is about; ten in all keeps the run short.
    names.retain(|p| {
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        [
            "outlook", "test_1.", "test_11", "test_13", "test_16", "test_18", "test_19", "test_2.", "test_3.",
            "test_14",
        ]
        .iter()
        .any(|k| n.contains(k))
    });
    for (i, p) in names.iter().enumerate() {
        std::fs::copy(p, maildir.join("cur").join(format!("{i:04}.host:2,S"))).unwrap();
        n += 1;
    }
    (maildir, n)
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_killed_triage_finishes_on_the_next_run_with_each_message_once() {
    let data = tempfile::tempdir().unwrap();
    let model = bantam_testkit::test_model();
    let (maildir, n) = maildir(data.path());
    let run = || {
        let mut cmd = bantam(data.path());
        cmd.env("BANTAM_MODEL", &model)
            .args(["triage", "--json", "--sequential", "--maildir"])
            .arg(&maildir);
        cmd
    };
    // First run: killed once three messages have their record.
    let mut child = run().stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v.get("record").is_some() {
            first.push(v);
        }
        if first.len() == 3 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(first.len(), 3);

    // Second run: the same command; the three come back from the store, the rest are new.
    let out = run().output().unwrap();
    let events = lines(&out.stdout);
    let records: Vec<&Value> = events.iter().filter(|e| e.get("record").is_some()).collect();
    let errors: Vec<&Value> = events.iter().filter(|e| e.get("error").is_some()).collect();
    assert_eq!(
        records.len() + errors.len(),
        n,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(errors.len(), 1, "only the Outlook .msg posing as .eml: {errors:?}");
    assert_eq!(errors[0]["error"]["kind"], "malformed");
    let source = errors[0]["source"].as_str().expect("the error names its file");
    assert!(
        Path::new(source).starts_with(&maildir) && Path::new(source).is_file(),
        "{source}"
    );
    assert_eq!(out.status.code(), Some(1), "a failed message makes the exit code 1");
    for f in &first {
        let again = records.iter().find(|r| r["key"] == f["key"]).unwrap();
        assert_eq!(again["cached"], true);
        assert_eq!(again["record"], f["record"]);
    }
    // Computed once: nothing the first run finished is computed again, nothing twice now
    // (the corpus holds one message twice, under two file names: one key, one record).
    let fresh: Vec<&str> = records
        .iter()
        .filter(|r| r["cached"] == false)
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(first.iter().all(|f| !fresh.contains(&f["key"].as_str().unwrap())));
    let mut unique = fresh.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fresh.len(), "a message computed twice");
    let mut keys: Vec<&str> = records.iter().map(|r| r["key"].as_str().unwrap()).collect();
    keys.sort();
    keys.dedup();
    let stored = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = bantam_core::Store::open(&data.path().join("bantam.sqlite3"))
            .await
            .unwrap();
        store.triage_count().await.unwrap()
    });
    assert_eq!(stored as usize, keys.len(), "one stored record per message");

    // Correct one sender; an mbox with a new message from them follows the correction.
    let webinar = records
        .iter()
        .find(|r| r["from"] == "info@continuityinsights.com")
        .unwrap();
    // Its List-Id (a mailing list's own mark) files it without the model.
    assert_eq!(webinar["record"]["decided_by"], "headers");
    let key = webinar["key"].as_str().unwrap();
    // A correction needs no model: it works with the model missing altogether.
    let corrected = bantam(data.path())
        .env("BANTAM_MODEL", data.path().join("no-such-model.gguf"))
        .args(["triage", "--correct", key, "--category", "work", "--priority", "high"])
        .output()
        .unwrap();
    assert!(
        corrected.status.success(),
        "{}",
        String::from_utf8_lossy(&corrected.stderr)
    );
    let mbox = data.path().join("new.mbox");
    std::fs::write(
        &mbox,
        "From info@continuityinsights.com Tue Nov 24 10:00:00 2026\n\
         From: Continuity Insights <info@continuityinsights.com>\n\
         Subject: Your speaker slot is confirmed\n\
         Message-ID: <speaker-1@continuityinsights.com>\n\
         List-Unsubscribe: <mailto:unsubscribe@continuityinsights.com>\n\n\
         Please send your slides by Friday.\n",
    )
    .unwrap();
    let out = bantam(data.path())
        .env("BANTAM_MODEL", &model)
        .args(["triage", "--json", "--mbox"])
        .arg(&mbox)
        .output()
        .unwrap();
    let next = lines(&out.stdout);
    assert_eq!(next.len(), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(next[0]["record"]["category"], "work");
    assert_eq!(next[0]["record"]["priority"], "high");
    assert_eq!(next[0]["record"]["decided_by"], "learned");
}

#[test]
fn imap_triage_fetches_only_new_mail_with_the_password_from_the_keyring() {
    use bantam_testkit::Dovecot;
    let corpus = bantam_testkit::test_corpus().join("mail");
    let seed: Vec<Vec<u8>> = ["mail_test_13", "mail_test_16", "mail_test_19"]
        .iter()
        .map(|n| std::fs::read(corpus.join(format!("{n}.eml"))).unwrap())
        .collect();
    let server = Dovecot::start(&seed);
    let keyring = common::PrivateKeyring::start();
    let data = tempfile::tempdir().unwrap();
    let model = bantam_testkit::test_model();
    let cmd = |args: &[&str]| {
        let mut c = bantam(data.path());
        c.env("BANTAM_MODEL", &model)
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
            .env_remove("BANTAM_IMAP_PASSWORD")
            .args(args);
        c
    };
    let port = server.imaps_port.to_string();
    let ca = server.ca_file.display().to_string();
    let add = |password: &str| {
        let mut c = cmd(&[
            "accounts",
            "add",
            "test",
            "--host",
            "localhost",
            "--port",
            &port,
            "--user",
            &server.user,
            "--ca-file",
            &ca,
            "--password-stdin",
        ]);
        let mut child = c.stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    // A wrong password is refused before anything is saved.
    let refused = add("not it");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let added = add(&server.password);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // The password is in the keyring, not in the database.
    let db = std::fs::read(data.path().join("bantam.sqlite3")).unwrap();
    assert!(!db
        .windows(server.password.len())
        .any(|w| w == server.password.as_bytes()));
    let listed = cmd(&["accounts", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("test@localhost"));

    let first = cmd(&["triage", "--imap", "test", "--json"]).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let records = lines(&first.stdout);
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records
        .iter()
        .all(|r| r["key"].as_str().unwrap().starts_with("imap:test/INBOX/")));
    // Again: nothing new is fetched.
    let again = cmd(&["triage", "--imap", "test", "--json"]).output().unwrap();
    assert!(lines(&again.stdout).is_empty());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing new"));
    // One new message: only it.
    server.deliver(&std::fs::read(corpus.join("mail_test_18.eml")).unwrap());
    let next = cmd(&["triage", "--imap", "test", "--json"]).output().unwrap();
    let next = lines(&next.stdout);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0]["subject"], "Test for Comma and Name Bugs");
    assert_eq!(next[0]["cached"], false);
}

#[test]
fn eval_reports_accuracy_per_field_and_a_confusion_matrix() {
    let data = tempfile::tempdir().unwrap();
    let mail = data.path().join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    // Both are machine mail (Auto-Submitted), so the scores are known without the model:
    // a real bounce labeled as one, and an auto-reply labeled personal (a miss).
    std::fs::copy(
        bantam_tests::repo().join("eval/mail/flufl-simple_39.eml"),
        mail.join("bounce.eml"),
    )
    .unwrap();
    std::fs::write(
        mail.join("away.eml"),
        "From: Dana <dana@example.org>\nTo: sam@example.org\nSubject: Out of office\n\
         Message-ID: <away-1@example.org>\nAuto-Submitted: auto-replied\n\nBack on Monday.\n",
    )
    .unwrap();
    let labels = data.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        "{\"file\": \"bounce.eml\", \"category\": \"notification\", \"priority\": \"low\", \"needs_reply\": false, \"split\": \"test\"}\n\
         {\"file\": \"away.eml\", \"category\": \"personal\", \"priority\": \"low\", \"needs_reply\": false, \"split\": \"test\"}\n\
         {\"file\": \"bounce.eml\", \"category\": \"notification\", \"priority\": \"low\", \"needs_reply\": false, \"split\": \"dev\"}\n",
    )
    .unwrap();
    let eval = |extra: &[&str]| {
        bantam(data.path())
            .env("BANTAM_MODEL", bantam_testkit::test_model())
            .args(["eval", "triage", "--json", "--split", "test", "--mail-dir"])
            .arg(&mail)
            .args(extra)
            .arg(&labels)
            .output()
            .unwrap()
    };
    let out = eval(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["report"];
    assert_eq!(r["messages"], 2, "only the test split");
    assert_eq!(r["category_accuracy"], 0.5);
    assert_eq!(r["priority_accuracy"], 1.0);
    assert_eq!(r["parts"][0]["decided_by"], "headers");
    assert_eq!(r["parts"][0]["messages"], 2);
    assert_eq!(r["parts"][0]["category_correct"], 1);
    let class = |name: &str| {
        r["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["class"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(class("notification")["precision"], 0.5);
    assert_eq!(class("notification")["recall"], 1.0);
    assert_eq!(class("personal")["recall"], 0.0);
    let cats: Vec<&str> = r["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let at = |c: &str| cats.iter().position(|x| *x == c).unwrap();
    assert_eq!(r["matrix"][at("personal")][at("notification")], 1);
    assert_eq!(r["matrix"][at("notification")][at("notification")], 1);
    assert_eq!(v["misses"][0]["file"], "away.eml");
    // A floor it does not reach fails the run; one it reaches passes.
    assert_eq!(eval(&["--min-category", "0.9"]).status.code(), Some(1));
    assert_eq!(eval(&["--min-category", "0.5"]).status.code(), Some(0));
    // A label file naming a missing message is an error, not a silent skip.
    std::fs::write(
        &labels,
        "{\"file\": \"nope.eml\", \"category\": \"work\", \"priority\": \"low\", \"needs_reply\": false}\n",
    )
    .unwrap();
    let out = bantam(data.path())
        .args(["eval", "triage"])
        .arg(&labels)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
