//! One run of a background job (a summary, a triage run), from the queue to its end.
//! Every long job goes through [`JobRun`]: it is queued (once per dedupe key) and started
//! in one step, then ends exactly one way — completed, failed, cancelled by the user, or
//! interrupted. A run dropped before it ended (its task aborted, Ctrl-C, the app quitting)
//! is interrupted: back in the queue, so the next start resumes it; a killed process
//! leaves it `running`, which [`Store::recover_interrupted_jobs`] puts back at start.

use serde::Serialize;

use crate::error::Result;
use crate::store::{Job, JobState, Store};

/// A started job. End it with [`complete`](Self::complete), [`fail`](Self::fail),
/// [`cancel`](Self::cancel) or [`interrupt`](Self::interrupt); dropping it interrupts it.
#[must_use = "a job run ends with complete, fail, cancel or interrupt"]
pub struct JobRun {
    store: Store,
    job: Job,
    ended: bool,
}

impl JobRun {
    /// Queues the job (or finds the one queued before under `dedupe_key`) and starts it.
    pub async fn begin<T: Serialize>(store: &Store, kind: &str, dedupe_key: Option<&str>, payload: &T) -> Result<Self> {
        let queued = store.enqueue_job(kind, dedupe_key, payload).await?;
        Self::resume(store, queued.id).await
    }

    /// Starts a job that is already in the queue (one a crash or quit left unfinished).
    pub async fn resume(store: &Store, id: i64) -> Result<Self> {
        let job = store.start_job(id).await?;
        Ok(Self {
            store: store.clone(),
            job,
            ended: false,
        })
    }

    pub fn job(&self) -> &Job {
        &self.job
    }

    pub async fn complete<T: Serialize>(mut self, result: &T) -> Result<()> {
        self.ended = true;
        self.store.complete_job(self.job.id, result).await
    }

    /// Back in the queue while it has had fewer than `max_attempts`, else `failed`.
    pub async fn fail(mut self, error: &str, max_attempts: i64) -> Result<JobState> {
        self.ended = true;
        self.store.fail_job(self.job.id, error, max_attempts).await
    }

    /// The user stopped it: it stays stopped (never resumed by itself).
    pub async fn cancel(mut self) -> Result<()> {
        self.ended = true;
        self.store.cancel_job(self.job.id).await
    }

    /// Stopped before its end, to be resumed: back in the queue.
    pub async fn interrupt(mut self) -> Result<()> {
        self.ended = true;
        self.store.interrupt_job(self.job.id).await
    }
}

impl Drop for JobRun {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // Dropped mid-way (an aborted task): put it back in the queue on the runtime it
        // ran on. Without a runtime (the process is ending) the row stays `running`, and
        // the next start's recovery does the same.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = self.store.clone();
            let id = self.job.id;
            runtime.spawn(async move {
                if let Err(e) = store.interrupt_job(id).await {
                    tracing::warn!("job {id} could not be marked interrupted: {e}");
                }
            });
        }
    }
}
