//! Mail in the background: one triage run at a time over every IMAP account, started by
//! the schedule (Settings: every N minutes), the tray or the Inbox. Progress goes to the
//! tray tooltip and menu and to the pages ("mail-status"); a newly triaged urgent message
//! raises a desktop notification when the user turned that on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bantam_core::store::settings::keys::TRIAGE;
use bantam_core::tasks::triage::{InboxEntry, Priority4, SyncEvent, SyncOptions, TriageOptions};
use bantam_fetch::accounts::ImapMailbox;
use bantam_fetch::imap::ImapAccount;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::{broadcast, watch, Notify};

use super::dto::{MailStatus, TriageEvent};
use crate::error::AppResult;
use crate::running::{Stop, Work};
use crate::service::Service;
use crate::shell::{notify, tray};

/// Overrides the schedule's minutes with seconds (tests).
pub const EVERY_SECS_ENV: &str = "BANTAM_MAIL_EVERY_SECS";

pub struct MailRunner {
    run: tokio::sync::Mutex<()>,
    status: Mutex<MailStatus>,
    events: broadcast::Sender<TriageEvent>,
    /// Poked when the schedule's settings or the accounts change.
    reschedule: Notify,
    /// Set with a poke when an account was added: check now rather than in N minutes.
    check_now: std::sync::atomic::AtomicBool,
}

impl Default for MailRunner {
    fn default() -> Self {
        Self {
            run: tokio::sync::Mutex::new(()),
            status: Mutex::new(MailStatus::default()),
            events: broadcast::channel(256).0,
            reschedule: Notify::new(),
            check_now: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl MailRunner {
    pub fn status(&self) -> MailStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TriageEvent> {
        self.events.subscribe()
    }

    pub fn reschedule(&self) {
        self.reschedule.notify_one();
    }

    /// A new account: when the schedule is on, its mail is checked right away.
    pub fn account_added(&self) {
        self.check_now.store(true, std::sync::atomic::Ordering::SeqCst);
        self.reschedule.notify_one();
    }

    fn update(&self, app: &AppHandle, f: impl FnOnce(&mut MailStatus)) {
        let status = match self.status.lock() {
            Ok(mut s) => {
                f(&mut s);
                s.clone()
            }
            Err(_) => return,
        };
        tray::show_mail(app, status.tray_line().as_deref());
        let _ = app.emit("mail-status", status);
    }

    fn send(&self, event: TriageEvent) {
        let _ = self.events.send(event);
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Fetches and triages new mail of every account; errors go to the events and the status.
/// Returns false without doing anything when a run is already going (its events reach
/// every subscriber).
pub async fn run_once(app: &AppHandle) -> bool {
    let runner = app.state::<Arc<MailRunner>>().inner().clone();
    let Ok(_guard) = runner.run.try_lock() else {
        return false;
    };
    let service = app.state::<Arc<Service>>().inner().clone();
    runner.update(app, |s| {
        s.running = true;
        s.next_run = None;
        s.done = 0;
        s.total = 0;
        s.last_error = None;
    });
    let (new, error) = match run_accounts(app, &runner, &service).await {
        Ok((new, errors)) => (new, (!errors.is_empty()).then(|| errors.join("; "))),
        Err(e) => {
            runner.send(TriageEvent::Failed { message: e.to_string() });
            (0, Some(e.to_string()))
        }
    };
    runner.update(app, |s| {
        s.running = false;
        s.last_finished = Some(now_ms());
        s.last_new = new;
        s.last_error = error;
    });
    runner.send(TriageEvent::Finished);
    true
}

/// The number of newly triaged messages, and each account's error (already sent). The
/// run is tracked as [`Work::Triage`]: Quit (or a newer run) stops it between or inside
/// accounts, keeping what was triaged.
async fn run_accounts(app: &AppHandle, runner: &MailRunner, service: &Service) -> AppResult<(usize, Vec<String>)> {
    let accounts: Vec<ImapAccount> = service.store.mail_accounts().await?;
    if accounts.is_empty() {
        return Ok((0, Vec::new()));
    }
    let triage = service.triage().await?;
    let notify_urgent = triage.options().notify_urgent;
    let (stop_tx, stop_rx) = watch::channel(false);
    let ticket = service.running().track(Work::Triage, Stop::Signal(stop_tx));
    let mut new = 0usize;
    let mut errors = Vec::new();
    for account in accounts {
        if *stop_rx.borrow() {
            break;
        }
        runner.send(TriageEvent::Account {
            name: account.name.clone(),
        });
        let mut mailbox = match ImapMailbox::open(&service.store, &account.name).await {
            Ok(m) => m,
            Err(e) => {
                let message = format!("{}: {e}", account.name);
                runner.send(TriageEvent::Failed {
                    message: message.clone(),
                });
                errors.push(message);
                continue;
            }
        };
        let options = SyncOptions {
            sequential: false,
            file_routes: account.move_to_route,
        };
        let mut stop = stop_rx.clone();
        let stopped = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        let result = triage
            .sync(&mut mailbox, options, stopped, |event| match event {
                SyncEvent::Fetched(n) => runner.update(app, |s| s.total += n),
                SyncEvent::Unreadable(e) => runner.send(TriageEvent::Failed { message: e.to_string() }),
                SyncEvent::Outcome(o) => match *o {
                    Ok(t) => {
                        if !t.cached {
                            new += 1;
                            if notify_urgent && t.record.priority == Priority4::Urgent {
                                notify::urgent_mail(t.from.as_deref(), &t.subject, &t.record.summary);
                            }
                        }
                        runner.update(app, |s| s.done += 1);
                        runner.send(TriageEvent::Record {
                            cached: t.cached,
                            item: Box::new(InboxEntry {
                                message_id: t.message_id,
                                key: t.key,
                                from: t.from,
                                subject: t.subject,
                                date: None,
                                record: t.record,
                                draft: t.draft,
                            }),
                        });
                    }
                    Err(f) => {
                        runner.update(app, |s| s.done += 1);
                        runner.send(TriageEvent::Failed {
                            message: format!("{}: {}", f.source, f.error),
                        });
                    }
                },
            })
            .await;
        match result {
            Ok(report) => runner.send(TriageEvent::Done {
                account: account.name.clone(),
                fetched: report.fetched,
            }),
            Err(e) => {
                let message = format!("{}: {e}", account.name);
                runner.send(TriageEvent::Failed {
                    message: message.clone(),
                });
                errors.push(message);
            }
        }
    }
    service.running().finished(ticket);
    Ok((new, errors))
}

/// How long until the next scheduled run; `None` when the schedule is off.
async fn interval(service: &Service) -> Option<Duration> {
    if let Some(secs) = std::env::var(EVERY_SECS_ENV).ok().and_then(|s| s.parse::<u64>().ok()) {
        return (secs > 0).then(|| Duration::from_secs(secs));
    }
    let options: TriageOptions = service
        .store
        .get_setting(TRIAGE)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    (options.every_minutes > 0).then(|| Duration::from_secs(u64::from(options.every_minutes) * 60))
}

/// Runs triage every N minutes while accounts exist, and right after an account is added;
/// a change of the setting restarts the wait.
pub fn start_schedule(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let runner = app.state::<Arc<MailRunner>>().inner().clone();
        let service = app.state::<Arc<Service>>().inner().clone();
        loop {
            let wait = interval(&service).await;
            let has_accounts = service
                .store
                .mail_accounts::<ImapAccount>()
                .await
                .map(|a| !a.is_empty())
                .unwrap_or(false);
            let next = wait.filter(|_| has_accounts);
            runner.update(&app, |s| {
                s.next_run = next.map(|d| now_ms() + d.as_millis() as i64);
            });
            // Off, or no account: nothing to do until the settings or the accounts change.
            let due = async {
                match next {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = due => {
                    run_once(&app).await;
                }
                _ = runner.reschedule.notified() => {
                    let now = runner.check_now.swap(false, std::sync::atomic::Ordering::SeqCst);
                    if now && interval(&service).await.is_some() {
                        run_once(&app).await;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::mail::dto::MailStatus;

    #[test]
    fn the_tray_line_shows_progress_only_while_running() {
        let mut s = MailStatus::default();
        assert_eq!(s.tray_line(), None);
        s.running = true;
        assert_eq!(s.tray_line().as_deref(), Some("Checking mail…"));
        s.total = 12;
        s.done = 3;
        assert_eq!(s.tray_line().as_deref(), Some("Triaging mail: 3 of 12"));
    }
}
