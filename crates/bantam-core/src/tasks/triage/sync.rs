//! Triage of a mailbox, the same way for IMAP and local mail: fetch what is new since the
//! sync point, parse, triage (the book first, then the model), file into route folders
//! when the user turned that on, and only then move the sync point. The run is a job row
//! ([`JobRun`]): a stop signal interrupts it cleanly, a killed run is recovered, and a
//! rerun gets the stored records for what was already triaged.

use std::collections::HashMap;
use std::future::Future;

use serde::Serialize;

use super::record::Outcome;
use super::service::TriageService;
use crate::error::Error;
use crate::jobs::JobRun;
use crate::mail::{parse, MailError, Mailbox, SyncPoint};

/// The job kind of a mailbox sync.
pub const JOB_KIND: &str = "triage";

#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// One message at a time instead of batched (for comparison).
    pub sequential: bool,
    /// Move triaged mail into its route's folder (`Triage/<Category>`).
    pub file_routes: bool,
}

/// What a sync reports while it runs.
pub enum SyncEvent {
    /// The new messages are fetched: this many will be triaged.
    Fetched(usize),
    /// A message that could not be read or parsed (the others go on).
    Unreadable(MailError),
    /// One message's record (or error), in finishing order.
    Outcome(Box<Outcome>),
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub mailbox: String,
    pub fetched: usize,
    pub unreadable: usize,
    /// Moved into their route folders (only when filing is on).
    pub moved: usize,
    /// The server renumbered the folder; everything was read again.
    pub reset: bool,
    /// Stopped before the end: what was triaged is kept, the sync point is not moved, and
    /// the next run finishes the rest.
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Mailbox(E),
    #[error(transparent)]
    Core(#[from] Error),
}

/// The folder a route may become: `Triage/<Category>`, each part letters, digits, spaces
/// or dashes — never anything a message could have put there.
pub fn route_folder(route: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = route.split('/').map(str::to_string).collect();
    let safe = parts.len() == 2
        && parts[0] == "Triage"
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-'));
    safe.then_some(parts)
}

impl TriageService {
    /// Syncs and triages a mailbox; `stop` resolving ends the run early as interrupted.
    pub async fn sync<M: Mailbox>(
        &self,
        mailbox: &mut M,
        options: SyncOptions,
        stop: impl Future<Output = ()>,
        on_event: impl FnMut(SyncEvent),
    ) -> Result<SyncReport, SyncError<M::Error>> {
        let name = mailbox.name();
        let store = self.book().store();
        let job = JobRun::begin(store, JOB_KIND, Some(&name), &serde_json::json!({ "mailbox": name })).await?;
        let outcome = tokio::select! {
            r = self.sync_run(mailbox, &name, options, on_event) => Some(r),
            _ = stop => None,
        };
        match outcome {
            Some(Ok(report)) => {
                job.complete(&report).await?;
                Ok(report)
            }
            Some(Err(e)) => {
                // Not retried by itself: the next sync (schedule, Triage now) runs it again.
                job.fail(&e.to_string(), 0).await?;
                Err(e)
            }
            None => {
                job.interrupt().await?;
                Ok(SyncReport {
                    mailbox: name,
                    fetched: 0,
                    unreadable: 0,
                    moved: 0,
                    reset: false,
                    interrupted: true,
                })
            }
        }
    }

    async fn sync_run<M: Mailbox>(
        &self,
        mailbox: &mut M,
        name: &str,
        options: SyncOptions,
        mut on_event: impl FnMut(SyncEvent),
    ) -> Result<SyncReport, SyncError<M::Error>> {
        let store = self.book().store();
        let sync_key = mailbox.sync_key();
        let since = match &sync_key {
            Some((account, folder)) => store
                .sync_point(account, folder)
                .await?
                .map(|(uid_validity, last_uid)| SyncPoint { uid_validity, last_uid }),
            None => None,
        };
        let fetched = mailbox.fetch_new(since).await.map_err(SyncError::Mailbox)?;
        let mut report = SyncReport {
            mailbox: name.to_string(),
            fetched: fetched.messages.len(),
            unreadable: fetched.unreadable.len(),
            moved: 0,
            reset: fetched.reset,
            interrupted: false,
        };
        for e in fetched.unreadable {
            on_event(SyncEvent::Unreadable(e));
        }
        let mut messages = Vec::new();
        let mut uid_of = HashMap::new();
        for raw in &fetched.messages {
            match parse(&raw.bytes, &raw.source) {
                Ok(mut m) => {
                    if sync_key.is_some() {
                        // The server's UID names it: two copies of a mail are two messages.
                        m.key = format!("{name}/{}/{}", fetched.uid_validity, raw.uid);
                    }
                    uid_of.insert(m.key.clone(), raw.uid);
                    messages.push(m);
                }
                Err(e) => {
                    report.unreadable += 1;
                    on_event(SyncEvent::Unreadable(e));
                }
            }
        }
        on_event(SyncEvent::Fetched(messages.len()));
        let mut moves = Vec::new();
        self.triage(messages, options.sequential, |o| {
            if let Ok(t) = &o {
                if let (Some(uid), Some(folder)) = (uid_of.get(&t.key), route_folder(&t.record.route)) {
                    moves.push((*uid, folder));
                }
            }
            on_event(SyncEvent::Outcome(Box::new(o)))
        })
        .await?;
        if options.file_routes && !moves.is_empty() {
            report.moved = mailbox
                .file(fetched.uid_validity, &moves)
                .await
                .map_err(SyncError::Mailbox)?;
        }
        if let Some((account, folder)) = &sync_key {
            let last = fetched.messages.iter().map(|m| m.uid).max();
            if let Some(last) = last.or(since.filter(|_| !fetched.reset).map(|s| s.last_uid)) {
                store
                    .set_sync_point(account, folder, fetched.uid_validity, last)
                    .await?;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::route_folder;

    #[test]
    fn only_triage_routes_of_plain_words_become_folders() {
        assert_eq!(
            route_folder("Triage/Finance"),
            Some(vec!["Triage".to_string(), "Finance".to_string()])
        );
        assert_eq!(
            route_folder("Triage/Read later"),
            Some(vec!["Triage".into(), "Read later".into()])
        );
        for bad in [
            "Finance",
            "Triage/",
            "Triage/../Trash",
            "Triage/a/b",
            "INBOX/Finance",
            "Triage/Fin\"ance",
        ] {
            assert_eq!(route_folder(bad), None, "{bad}");
        }
    }
}
