//! The Inbox: triaged mail most urgent first, a click to correct a label, "Triage now"
//! over every IMAP account (progress and records stream to the page); accounts in
//! Settings (the password goes to the OS keyring).

use std::sync::Arc;

use bantam_core::tasks::triage::{Priority4, TriageRecord};
use bantam_fetch::accounts::{self, sync_and_triage};
use bantam_fetch::imap::{test_connection, ImapAccount};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, AppResult};
use crate::service::Service;

#[derive(Serialize, Clone)]
pub struct InboxItem {
    pub message_id: i64,
    pub key: String,
    pub from: Option<String>,
    pub subject: String,
    pub date: Option<String>,
    pub record: TriageRecord,
}

#[derive(Serialize)]
pub struct InboxView {
    pub items: Vec<InboxItem>,
    pub categories: Vec<String>,
    pub accounts: usize,
}

#[tauri::command]
pub async fn inbox_list(service: State<'_, Arc<Service>>, query: Option<String>) -> AppResult<InboxView> {
    let query = query.filter(|q| !q.trim().is_empty());
    let rows = service.store.inbox(query.as_deref(), 500).await?;
    let items = rows
        .into_iter()
        .filter_map(|r| {
            let record = serde_json::from_str(&r.record).ok()?;
            Some(InboxItem {
                message_id: r.message_id,
                key: r.key,
                from: r.from_address,
                subject: r.subject,
                date: r.date,
                record,
            })
        })
        .collect();
    let options: bantam_core::tasks::triage::TriageOptions = service
        .store
        .get_setting(bantam_core::store::settings::keys::TRIAGE)
        .await?
        .unwrap_or_default();
    Ok(InboxView {
        items,
        categories: options.categories,
        accounts: service.store.mail_accounts::<ImapAccount>().await?.len(),
    })
}

#[tauri::command]
pub async fn triage_correct(
    service: State<'_, Arc<Service>>,
    message_id: i64,
    category: Option<String>,
    priority: Option<String>,
) -> AppResult<TriageRecord> {
    let priority = match priority.as_deref() {
        Some(p) => Some(Priority4::parse(p).ok_or_else(|| AppError::msg(format!("unknown priority {p:?}")))?),
        None => None,
    };
    Ok(service
        .triage()
        .await?
        .correct(message_id, category.as_deref(), priority)
        .await?)
}

#[derive(Serialize, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TriageEvent {
    Account { name: String },
    Record { item: Box<InboxItem>, cached: bool },
    Failed { message: String },
    Done { account: String, fetched: usize },
    Finished,
}

/// Fetches and triages new mail of every account, streaming each record.
#[tauri::command]
pub async fn triage_now(service: State<'_, Arc<Service>>, on_event: Channel<TriageEvent>) -> AppResult<()> {
    let names: Vec<ImapAccount> = service.store.mail_accounts().await?;
    if names.is_empty() {
        return Err(AppError::msg("no mail account: add one in Settings"));
    }
    let triage = service.triage().await?;
    for account in names {
        let _ = on_event.send(TriageEvent::Account {
            name: account.name.clone(),
        });
        let events = on_event.clone();
        let result = sync_and_triage(&service.store, &triage, &account.name, false, move |o| {
            let _ = events.send(match o {
                Ok(t) => TriageEvent::Record {
                    cached: t.cached,
                    item: Box::new(InboxItem {
                        message_id: t.message_id,
                        key: t.key,
                        from: t.from,
                        subject: t.subject,
                        date: None,
                        record: t.record,
                    }),
                },
                Err(f) => TriageEvent::Failed {
                    message: format!("{}: {}", f.source, f.error),
                },
            });
        })
        .await;
        match result {
            Ok(report) => {
                for m in report.malformed {
                    let _ = on_event.send(TriageEvent::Failed { message: m });
                }
                let _ = on_event.send(TriageEvent::Done {
                    account: account.name.clone(),
                    fetched: report.fetched,
                });
            }
            Err(e) => {
                let _ = on_event.send(TriageEvent::Failed {
                    message: format!("{}: {e}", account.name),
                });
            }
        }
    }
    let _ = on_event.send(TriageEvent::Finished);
    Ok(())
}

#[tauri::command]
pub async fn accounts_list(service: State<'_, Arc<Service>>) -> AppResult<Vec<ImapAccount>> {
    Ok(service.store.mail_accounts().await?)
}

/// Checks the account against its server, then saves it (password to the OS keyring).
#[tauri::command]
pub async fn account_add(service: State<'_, Arc<Service>>, account: ImapAccount, password: String) -> AppResult<u32> {
    if account.name.trim().is_empty() || account.host.trim().is_empty() || account.user.trim().is_empty() {
        return Err(AppError::msg("name, server and user are needed"));
    }
    Ok(accounts::add(&service.store, &account, &password).await?)
}

#[tauri::command]
pub async fn account_remove(service: State<'_, Arc<Service>>, name: String) -> AppResult<()> {
    accounts::remove(&service.store, &name).await?;
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
