//! Mail parsing on real emails (mail-parser's test set: plain, HTML-only, multipart with
//! attachments, bulk mail, an Outlook .msg posing as .eml), from files, a Maildir and an
//! mbox.

mod common;

use std::path::{Path, PathBuf};

use bantam_core::mail::{parse, read_source, MailError, MailSource};

pub fn corpus_mail() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::test_corpus().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v
}

fn named(name: &str) -> PathBuf {
    common::test_corpus().join("mail").join(name)
}

#[test]
fn real_emails_parse_with_their_facts_and_a_bad_one_is_its_own_error() {
    let results = read_source(&MailSource::Files { paths: corpus_mail() }).unwrap();
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(results.len(), 23);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(errors[0], MailError::Malformed { location, .. } if location.contains("mail_outlook_1")));
    assert!(ok.iter().all(|m| !m.key.is_empty()));

    let m = parse(&std::fs::read(named("mail_test_13.eml")).unwrap(), "13").unwrap();
    assert_eq!(m.from_address.as_deref(), Some("info@continuityinsights.com"));
    assert!(m.subject.starts_with("New Webinar"));
    assert!(m.bulk.list_unsubscribe);
    assert_eq!(m.sender_domain().as_deref(), Some("continuityinsights.com"));
    let m = parse(&std::fs::read(named("mail_test_1.eml")).unwrap(), "1").unwrap();
    assert_eq!(m.subject, "письмо уведом-е", "encoded-word subject decoded");
    assert!(m.key.starts_with("sha256:"), "no Message-ID: keyed by content");
    let m = parse(&std::fs::read(named("mail_test_16.eml")).unwrap(), "16").unwrap();
    assert_eq!(m.key, "mid:GTUBE1.1010101@example.net");
    let m = parse(&std::fs::read(named("mail_test_5.eml")).unwrap(), "5").unwrap();
    assert!(m.bulk.precedence_bulk && m.attachments.len() == 5, "{:?}", m.bulk);
    assert!(m.attachments.iter().all(|a| a.content_type.contains('/')));
    // An HTML-only message reads as text, without tags.
    let flight = parse(&std::fs::read(fixture("flight.eml")).unwrap(), "f").unwrap();
    assert!(
        flight.text.contains("QX7P2L") && !flight.text.contains("<td>"),
        "{}",
        flight.text
    );
    // A file saved out of an mbox, its envelope line still on top, is the same message.
    let raw = std::fs::read(named("mail_test_13.eml")).unwrap();
    let mut enveloped = b"From info@continuityinsights.com Mon Feb  9 22:17:46 2009\n".to_vec();
    enveloped.extend_from_slice(&raw);
    let m13 = parse(&raw, "13").unwrap();
    let e13 = parse(&enveloped, "13").unwrap();
    assert_eq!((e13.key, e13.subject), (m13.key, m13.subject));
    // A list post (the SpamAssassin corpus): the List-Id is the id in angle brackets.
    let post = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/mail/sa-easyham-2-00911.eml");
    let post = parse(&std::fs::read(post).unwrap(), "post").unwrap();
    assert_eq!(post.bulk.list_id.as_deref(), Some("fork.xent.com"));
    // Not mail at all.
    for junk in [
        &b""[..],
        b"\x00\x01\x02 binary",
        b"just some words\nwithout headers",
        b"From nobody\n",
    ] {
        assert!(parse(junk, "junk").is_err(), "{junk:?}");
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mail")
        .join(name)
}

#[test]
fn a_maildir_and_an_mbox_give_the_same_messages_as_the_files() {
    let files: Vec<PathBuf> = corpus_mail()
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("outlook"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut mbox = Vec::new();
    for (i, p) in files.iter().enumerate() {
        let bytes = std::fs::read(p).unwrap();
        let sub = if i % 2 == 0 { "cur" } else { "new" };
        std::fs::write(maildir.join(sub).join(format!("1700000{i:03}.M{i}P1.host:2,S")), &bytes).unwrap();
        mbox.extend_from_slice(b"From someone@example.com Mon Nov 23 09:00:00 2026\n");
        // mboxrd: body lines starting with "From " are quoted.
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(b"From ") {
                mbox.push(b'>');
            }
            mbox.extend_from_slice(line);
        }
        if !bytes.ends_with(b"\n") {
            mbox.push(b'\n');
        }
        mbox.push(b'\n');
    }
    let mbox_path = dir.path().join("inbox.mbox");
    std::fs::write(&mbox_path, &mbox).unwrap();
    let keys = |source: MailSource| {
        let mut k: Vec<String> = read_source(&source)
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap().key)
            .collect();
        k.sort();
        k
    };
    let from_files = keys(MailSource::Files { paths: files.clone() });
    assert_eq!(from_files.len(), files.len());
    assert_eq!(keys(MailSource::Maildir { path: maildir.clone() }), from_files);
    assert_eq!(keys(MailSource::Mbox { path: mbox_path }), from_files);
    // A stray non-mail file in the Maildir is one error; the rest are read.
    std::fs::write(maildir.join("new").join("garbage"), b"\x00\x00not mail").unwrap();
    let results = read_source(&MailSource::Maildir { path: maildir.clone() }).unwrap();
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), files.len());
    assert!(read_source(&MailSource::Maildir {
        path: dir.path().join("nope")
    })
    .is_err());
}

#[test]
fn a_reply_in_html_keeps_its_own_words_for_the_model_and_its_whole_text_for_the_user() {
    // Gmail's shape: the answer, then the attribution and the old message in a blockquote.
    let raw = "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: Re: Lunch\r\n\
               Message-ID: <r1@example.org>\r\nIn-Reply-To: <q1@example.org>\r\n\
               MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
               <div>Thursday works, see you at noon.</div><br>\
               <div class=\"gmail_quote\">On Mon, 2 Jun 2025, Bob &lt;bob@example.org&gt; wrote:<br>\
               <blockquote class=\"gmail_quote\"><p>Are you free for lunch this week? The usual place, \
               or the new one by the station that everyone talks about?</p><p>Bob</p></blockquote></div>";
    let m = parse(raw.as_bytes(), "reply").unwrap();
    assert!(m.text.contains("Are you free for lunch"), "{}", m.text);
    let new = m.own_text();
    assert!(new.starts_with("Thursday works, see you at noon."), "{new}");
    assert!(new.ends_with(bantam_core::mail::QUOTE_MARKER), "{new}");
    assert!(!new.contains("lunch this week") && !new.contains("wrote:"), "{new}");

    // A real Italian Outlook forward ("I: Ordine"): the forwarded order is the content.
    let forward = parse(&std::fs::read(named("mail_test_7.eml")).unwrap(), "7").unwrap();
    assert!(forward.text.contains("Inviato:"));
    assert_eq!(forward.own_text(), forward.text);
}
