//! The Inbox: triaged mail most urgent first, a click to correct a label, "Triage now"
//! over every IMAP account (progress and records stream to the page); accounts in
//! Settings (the password goes to the OS keyring).

use std::sync::Arc;

use bantam_core::store::settings::keys::TRIAGE;
use bantam_core::tasks::triage::{Priority4, TriageOptions, TriageRecord};
use bantam_fetch::accounts;
use bantam_fetch::imap::{test_connection, ImapAccount};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tokio::sync::broadcast;

use super::dto::{InboxView, MailOptions, MailStatus, TriageEvent};
use super::runner::{self, MailRunner};
use crate::error::{AppError, AppResult};
use crate::service::Service;

#[tauri::command]
pub async fn inbox_list(service: State<'_, Arc<Service>>, query: Option<String>) -> AppResult<InboxView> {
    let query = query.filter(|q| !q.trim().is_empty());
    let book = service.triage_book().await?;
    Ok(InboxView {
        items: book.inbox(query.as_deref(), 500).await?,
        categories: book.options().categories.clone(),
        accounts: service.store.mail_accounts::<ImapAccount>().await?.len(),
    })
}

/// Works with the model paused or not loaded: corrections need only the store.
#[tauri::command]
pub async fn triage_correct(
    service: State<'_, Arc<Service>>,
    message_id: i64,
    category: Option<String>,
    priority: Option<String>,
) -> AppResult<TriageRecord> {
    let priority = match priority.as_deref() {
        Some(p) => Some(Priority4::parse(p).ok_or_else(|| AppError::UnknownPriority(p.to_string()))?),
        None => None,
    };
    Ok(service
        .triage_book()
        .await?
        .correct(message_id, category.as_deref(), priority)
        .await?)
}

/// Forgets one message on this machine: its triage, draft, words and vectors. The
/// mailbox on the server is never changed, and the next run fetches only newer mail.
#[tauri::command]
pub async fn mail_forget(service: State<'_, Arc<Service>>, message_id: i64) -> AppResult<()> {
    Ok(service.store.delete_mail(message_id).await?)
}

/// Fetches and triages new mail of every account, streaming each record. When a
/// scheduled run is already going, this follows it instead of starting another.
#[tauri::command]
pub async fn triage_now(
    app: AppHandle,
    service: State<'_, Arc<Service>>,
    runner: State<'_, Arc<MailRunner>>,
    on_event: Channel<TriageEvent>,
) -> AppResult<()> {
    if service.store.mail_accounts::<ImapAccount>().await?.is_empty() {
        return Err(AppError::NoMailAccount);
    }
    let mut events = runner.subscribe();
    let mut run = tauri::async_runtime::spawn(async move { runner::run_once(&app).await });
    let mut run_ended = false;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(TriageEvent::Finished) | Err(broadcast::error::RecvError::Closed) => break,
                Ok(event) => {
                    let _ = on_event.send(event);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
            },
            ran = &mut run, if !run_ended => {
                run_ended = true;
                // Another run held the lock and has just ended: nothing more will come.
                if !ran.unwrap_or(false) && !runner.status().running {
                    break;
                }
            }
        }
    }
    let _ = on_event.send(TriageEvent::Finished);
    Ok(())
}

/// Where background triage stands (also pushed as "mail-status" events).
#[tauri::command]
pub fn mail_status(runner: State<'_, Arc<MailRunner>>) -> MailStatus {
    runner.status()
}

#[tauri::command]
pub async fn mail_options(service: State<'_, Arc<Service>>) -> AppResult<MailOptions> {
    let o: TriageOptions = service.store.get_setting(TRIAGE).await?.unwrap_or_default();
    Ok(MailOptions {
        every_minutes: o.every_minutes,
        notify_urgent: o.notify_urgent,
        drafts: o.drafts,
    })
}

#[tauri::command]
pub async fn mail_options_set(
    service: State<'_, Arc<Service>>,
    runner: State<'_, Arc<MailRunner>>,
    options: MailOptions,
) -> AppResult<()> {
    if options.every_minutes > 24 * 60 {
        return Err(AppError::InvalidSetting(
            "check mail at least once a day (at most 1440 minutes)",
        ));
    }
    let mut o: TriageOptions = service.store.get_setting(TRIAGE).await?.unwrap_or_default();
    o.every_minutes = options.every_minutes;
    o.notify_urgent = options.notify_urgent;
    o.drafts = options.drafts;
    service.store.set_setting(TRIAGE, &o).await?;
    runner.reschedule();
    Ok(())
}

#[tauri::command]
pub async fn accounts_list(service: State<'_, Arc<Service>>) -> AppResult<Vec<ImapAccount>> {
    Ok(service.store.mail_accounts().await?)
}

/// Checks the account against its server, then saves it (password to the OS keyring).
#[tauri::command]
pub async fn account_add(
    service: State<'_, Arc<Service>>,
    runner: State<'_, Arc<MailRunner>>,
    account: ImapAccount,
    password: String,
) -> AppResult<u32> {
    if account.name.trim().is_empty() || account.host.trim().is_empty() || account.user.trim().is_empty() {
        return Err(AppError::IncompleteAccount);
    }
    let messages = accounts::add(&service.store, &account, &password).await?;
    runner.account_added();
    Ok(messages)
}

#[tauri::command]
pub async fn account_remove(
    service: State<'_, Arc<Service>>,
    runner: State<'_, Arc<MailRunner>>,
    name: String,
) -> AppResult<()> {
    accounts::remove(&service.store, &name).await?;
    runner.reschedule();
    Ok(())
}

/// Logs in with the stored password: the number of messages in the folder.
#[tauri::command]
pub async fn account_test(service: State<'_, Arc<Service>>, name: String) -> AppResult<u32> {
    let account: ImapAccount = service.store.mail_account(&name).await?;
    let password = accounts::password(&account)?;
    test_connection(&account, &password)
        .await
        .map_err(|e| AppError::Account(e.into()))
}
