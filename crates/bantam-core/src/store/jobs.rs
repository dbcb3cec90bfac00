//! A generic queue of resumable background jobs (the rows behind [`crate::jobs::JobRun`]).
//! A job is started (state `running`, attempts + 1) in one statement; after a crash,
//! `recover_interrupted_jobs` puts `running` jobs back in the queue.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::{now_ms, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub payload: String,
    pub state: JobState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Job {
    pub fn payload<T: for<'de> Deserialize<'de>>(&self) -> Result<T> {
        serde_json::from_str(&self.payload)
            .map_err(|e| Error::InvalidRequest(format!("job {} has an unreadable payload: {e}", self.id)))
    }
}

impl Store {
    /// Queues a job. With a `dedupe_key`, queuing the same (kind, key) again returns the
    /// existing job instead of adding a second one.
    pub async fn enqueue_job<T: Serialize>(&self, kind: &str, dedupe_key: Option<&str>, payload: &T) -> Result<Job> {
        let payload = serde_json::to_string(payload).map_err(|e| Error::InvalidRequest(format!("job payload: {e}")))?;
        let now = now_ms();
        let inserted: Option<Job> = sqlx::query_as(
            "INSERT INTO jobs (kind, dedupe_key, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(kind, dedupe_key) DO NOTHING RETURNING *",
        )
        .bind(kind)
        .bind(dedupe_key)
        .bind(payload)
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match inserted {
            Some(job) => Ok(job),
            None => Ok(sqlx::query_as("SELECT * FROM jobs WHERE kind = ? AND dedupe_key = ?")
                .bind(kind)
                .bind(dedupe_key)
                .fetch_one(&self.pool)
                .await?),
        }
    }

    /// Takes a given job, whatever its state (a resumed or redone job): running, attempts + 1.
    pub async fn start_job(&self, id: i64) -> Result<Job> {
        sqlx::query_as(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, result = NULL, updated_at = ?
             WHERE id = ? RETURNING *",
        )
        .bind(now_ms())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound {
            what: "job",
            id: id.to_string(),
        })
    }

    /// Queued jobs of a kind, oldest first (to resume after a restart).
    pub async fn queued_jobs(&self, kind: &str) -> Result<Vec<Job>> {
        Ok(
            sqlx::query_as("SELECT * FROM jobs WHERE kind = ? AND state = 'queued' ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn complete_job<T: Serialize>(&self, id: i64, result: &T) -> Result<()> {
        let result = serde_json::to_string(result).map_err(|e| Error::InvalidRequest(format!("job result: {e}")))?;
        self.set_job_state(id, JobState::Done, Some(&result), None).await
    }

    /// Records a failure: back to the queue while attempts < `max_attempts`, else `failed`.
    pub async fn fail_job(&self, id: i64, error: &str, max_attempts: i64) -> Result<JobState> {
        let state: JobState = sqlx::query_scalar(
            "UPDATE jobs SET state = CASE WHEN attempts < ? THEN 'queued' ELSE 'failed' END,
                             last_error = ?, updated_at = ?
             WHERE id = ? RETURNING state",
        )
        .bind(max_attempts)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound {
            what: "job",
            id: id.to_string(),
        })?;
        Ok(state)
    }

    pub async fn cancel_job(&self, id: i64) -> Result<()> {
        self.set_job_state(id, JobState::Cancelled, None, None).await
    }

    /// A run stopped before its end (Ctrl-C, an aborted task, the app quitting): back in
    /// the queue to be resumed — unless another run of it has ended it meanwhile.
    pub async fn interrupt_job(&self, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', last_error = 'interrupted', updated_at = ?
             WHERE id = ? AND state = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_job_state(&self, id: i64, state: JobState, result: Option<&str>, error: Option<&str>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET state = ?, result = COALESCE(?, result), last_error = COALESCE(?, last_error),
                             updated_at = ? WHERE id = ?",
        )
        .bind(state)
        .bind(result)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                what: "job",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// After a crash: jobs left `running` go back to the queue. Returns how many.
    pub async fn recover_interrupted_jobs(&self) -> Result<u64> {
        Ok(
            sqlx::query("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'")
                .bind(now_ms())
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn job(&self, id: i64) -> Result<Job> {
        sqlx::query_as("SELECT * FROM jobs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound {
                what: "job",
                id: id.to_string(),
            })
    }

    pub async fn count_jobs(&self, kind: &str, state: JobState) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = ?")
                .bind(kind)
                .bind(state)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
