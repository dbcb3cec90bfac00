//! The one registry of work the user can stop: answers being written, summaries being
//! made, the mail run. Commands track what they start and cancel through it; Quit stops
//! everything at once. Nothing else keeps cancel handles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bantam_core::engine::Canceller;
use bantam_core::tasks::documents::SummaryStopper;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// What is running, as the pages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// The answer being written in a conversation.
    Answer { conversation: i64 },
    /// A summary, by the run id the page holds.
    Summary { run: u64 },
    /// The mail run over every account.
    Triage,
}

/// How to stop one piece of work.
pub enum Stop {
    Answer(Canceller),
    /// The user's Stop cancels the summary for good; Quit aborts it, which leaves its job
    /// to be resumed at the next start.
    Summary(SummaryStopper, AbortHandle),
    /// Work that watches a signal and ends itself cleanly (the mail run interrupts its
    /// job and keeps what it triaged).
    Signal(watch::Sender<bool>),
}

impl Stop {
    fn cancel(self) {
        match self {
            Stop::Answer(c) => c.cancel(),
            Stop::Summary(stopper, _) => stopper.cancel(),
            Stop::Signal(tx) => {
                let _ = tx.send(true);
            }
        }
    }

    fn interrupt(self) {
        match self {
            Stop::Summary(_, task) => task.abort(),
            other => other.cancel(),
        }
    }
}

/// Proof of one `track`: only its holder can say that piece of work finished (a newer
/// run of the same work, like a Regenerate, replaces it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    work: Work,
    id: u64,
}

#[derive(Default)]
pub struct Running {
    entries: Mutex<HashMap<Work, (u64, Stop)>>,
    next: AtomicU64,
}

impl Running {
    /// Registers work; an earlier run of the same work is stopped.
    pub fn track(&self, work: Work, stop: Stop) -> Ticket {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let previous = self.lock().insert(work, (id, stop));
        if let Some((_, old)) = previous {
            old.cancel();
        }
        Ticket { work, id }
    }

    /// The work ended by itself: forget it (unless a newer run took its place).
    pub fn finished(&self, ticket: Ticket) {
        let mut entries = self.lock();
        if entries.get(&ticket.work).is_some_and(|(id, _)| *id == ticket.id) {
            entries.remove(&ticket.work);
        }
    }

    /// The user's Stop; false when that work was not running.
    pub fn cancel(&self, work: Work) -> bool {
        let entry = self.lock().remove(&work);
        entry.map(|(_, stop)| stop.cancel()).is_some()
    }

    pub fn is_running(&self, work: Work) -> bool {
        self.lock().contains_key(&work)
    }

    /// Quit: stops everything; what can resume (summaries, the mail run) resumes at the
    /// next start.
    pub fn cancel_all(&self) {
        let entries: Vec<Stop> = self.lock().drain().map(|(_, (_, stop))| stop).collect();
        for stop in entries {
            stop.interrupt();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Work, (u64, Stop)>> {
        // A panic elsewhere while holding the lock leaves the map usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal() -> (Stop, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (Stop::Signal(tx), rx)
    }

    #[test]
    fn a_newer_run_replaces_the_old_one_and_only_its_holder_ends_it() {
        let running = Running::default();
        let (stop, mut first_rx) = signal();
        let first = running.track(Work::Triage, stop);
        let (stop, mut second_rx) = signal();
        let second = running.track(Work::Triage, stop);
        assert!(*first_rx.borrow_and_update(), "the replaced run was told to stop");
        // The old run's end does not forget the new one.
        running.finished(first);
        assert!(running.is_running(Work::Triage));
        running.finished(second);
        assert!(!running.is_running(Work::Triage));
        assert!(!running.cancel(Work::Triage), "nothing to stop");
        assert!(!*second_rx.borrow_and_update(), "a run that ended is not stopped");
    }

    #[test]
    fn stop_ends_one_piece_of_work_and_quit_ends_all() {
        let running = Running::default();
        let (stop, mut answer) = signal();
        running.track(Work::Answer { conversation: 1 }, stop);
        let (stop, mut other) = signal();
        running.track(Work::Answer { conversation: 2 }, stop);
        let (stop, mut mail) = signal();
        running.track(Work::Triage, stop);
        assert!(running.cancel(Work::Answer { conversation: 1 }));
        assert!(*answer.borrow_and_update());
        assert!(!*other.borrow_and_update(), "only the one asked for");
        running.cancel_all();
        assert!(*other.borrow_and_update() && *mail.borrow_and_update());
        assert!(!running.is_running(Work::Triage));
    }
}
