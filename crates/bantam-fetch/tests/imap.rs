//! IMAP against a real Dovecot on 127.0.0.1 (TLS and STARTTLS, a self-signed certificate
//! trusted through the account's CA file): first sync, incremental sync, a UIDVALIDITY
//! change, a refused password, an untrusted certificate, a missing folder.

use bantam_core::mail::SyncPoint;
use bantam_core::tasks::triage::route_folder;
use bantam_fetch::imap::{fetch_new, move_to_folders, test_connection, ImapAccount, ImapError, Security};
use bantam_testkit::Dovecot;

fn mail(n: usize) -> Vec<u8> {
    format!(
        "From: Sender {n} <sender{n}@example.org>\r\nTo: test@localhost\r\nSubject: Message {n}\r\n\
         Message-ID: <m{n}@example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nBody of message {n}.\r\n"
    )
    .into_bytes()
}

fn account(server: &Dovecot, security: Security) -> ImapAccount {
    ImapAccount {
        name: "test".into(),
        host: "localhost".into(),
        port: match security {
            Security::Tls => server.imaps_port,
            Security::StartTls => server.imap_port,
        },
        security,
        user: server.user.clone(),
        folder: "INBOX".into(),
        ca_file: Some(server.ca_file.clone()),
        move_to_route: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_only_new_mail_and_starts_over_when_uidvalidity_changes() {
    let server = Dovecot::start(&[mail(1), mail(2), mail(3)]);
    let tls = account(&server, Security::Tls);
    let first = fetch_new(&tls, &server.password, None)
        .await
        .unwrap_or_else(|e| panic!("{e}: {}", server.log()));
    assert_eq!(first.messages.len(), 3);
    assert!(!first.reset);
    let uids: Vec<u32> = first.messages.iter().map(|m| m.uid).collect();
    assert_eq!(uids, vec![1, 2, 3]);
    assert!(String::from_utf8_lossy(&first.messages[0].bytes).contains("Subject: Message"));
    let point = SyncPoint {
        uid_validity: first.uid_validity,
        last_uid: 3,
    };
    // Nothing new: nothing fetched (also over STARTTLS).
    let starttls = account(&server, Security::StartTls);
    let again = fetch_new(&starttls, &server.password, Some(point)).await.unwrap();
    assert!(again.messages.is_empty());
    assert_eq!(again.uid_validity, first.uid_validity);
    // One new message: only it.
    server.deliver(&mail(4));
    let next = fetch_new(&tls, &server.password, Some(point)).await.unwrap();
    assert_eq!(next.messages.len(), 1);
    assert_eq!(next.messages[0].uid, 4);
    assert!(String::from_utf8_lossy(&next.messages[0].bytes).contains("Message 4"));
    assert_eq!(test_connection(&tls, &server.password).await.unwrap(), 4);
    // The server renumbered the folder: everything is new again.
    server.reset_uids();
    let after = fetch_new(&tls, &server.password, Some(SyncPoint { last_uid: 4, ..point }))
        .await
        .unwrap();
    assert!(after.reset);
    assert_ne!(after.uid_validity, first.uid_validity);
    assert_eq!(after.messages.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_password_untrusted_certificate_and_missing_folder_are_clear_errors() {
    let server = Dovecot::start(&[mail(1)]);
    let tls = account(&server, Security::Tls);
    let err = fetch_new(&tls, "wrong password", None).await.unwrap_err();
    assert!(matches!(err, ImapError::Auth(_)), "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    let untrusted = ImapAccount {
        ca_file: None,
        ..tls.clone()
    };
    let err = fetch_new(&untrusted, &server.password, None).await.unwrap_err();
    assert_eq!(err.kind(), "tls", "{err}");
    let missing = ImapAccount {
        folder: "Nope".into(),
        ..tls.clone()
    };
    let err = fetch_new(&missing, &server.password, None).await.unwrap_err();
    assert_eq!(err.kind(), "folder", "{err}");
    let closed = ImapAccount { port: 1, ..tls };
    assert_eq!(fetch_new(&closed, "x", None).await.unwrap_err().kind(), "connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_move_action_files_messages_into_their_route_folders_and_nothing_else() {
    let server = Dovecot::start(&[mail(1), mail(2), mail(3)]);
    let tls = account(&server, Security::Tls);
    let fetched = fetch_new(&tls, &server.password, None).await.unwrap();
    // Never a path out of the Triage tree, whatever a record says: core's rule drops it.
    let moves: Vec<(u32, Vec<String>)> = [(1, "Triage/Newsletter"), (2, "Triage/Work"), (3, "INBOX/../../Trash")]
        .into_iter()
        .filter_map(|(uid, route)| route_folder(route).map(|f| (uid, f)))
        .collect();
    assert_eq!(moves.len(), 2);
    let moved = move_to_folders(&tls, &server.password, fetched.uid_validity, &moves)
        .await
        .unwrap();
    assert_eq!(moved, 2);
    let left = fetch_new(&tls, &server.password, None).await.unwrap();
    assert_eq!(left.messages.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![3]);
    // Dovecot's Maildir++ uses "." between levels.
    let newsletter = ImapAccount {
        folder: "Triage.Newsletter".into(),
        ..tls.clone()
    };
    let there = fetch_new(&newsletter, &server.password, None).await.unwrap();
    assert_eq!(there.messages.len(), 1);
    assert!(String::from_utf8_lossy(&there.messages[0].bytes).contains("Message 1"));
    // A stale UIDVALIDITY moves nothing.
    let err = move_to_folders(
        &tls,
        &server.password,
        fetched.uid_validity + 1,
        &[(3, vec!["Triage".into(), "Work".into()])],
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "folder", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_fetch_is_an_error_and_the_next_sync_gets_everything() {
    use bantam_testkit::DroppingRelay;
    // Big messages, so the cut falls inside the FETCH, after login and EXAMINE.
    let corpus = bantam_testkit::test_corpus().join("mail");
    let big: Vec<Vec<u8>> = ["mail_test_2", "mail_test_4", "mail_test_15"]
        .iter()
        .map(|n| std::fs::read(corpus.join(format!("{n}.eml"))).unwrap())
        .collect();
    let server = Dovecot::start(&big);
    let relay = DroppingRelay::start(server.imaps_port, 200_000).await.unwrap();
    let via_relay = ImapAccount {
        port: relay.port,
        ..account(&server, Security::Tls)
    };
    let err = fetch_new(&via_relay, &server.password, None).await.unwrap_err();
    assert_eq!(err.kind(), "protocol", "{err}");
    // Nothing was kept as synced: the next run (the relay now lets it through) gets all.
    let all = fetch_new(&via_relay, &server.password, None).await.unwrap();
    assert_eq!(all.messages.len(), 3);
    // Whole, byte for byte (IMAP sends lines ending in CRLF).
    let lf = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", "\n");
    for (got, want) in all.messages.iter().map(|m| &m.bytes).zip(&big) {
        assert_eq!(lf(got).trim_end(), lf(want).trim_end(), "a message arrived cut");
    }
}
