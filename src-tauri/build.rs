// Declaring the app's commands makes Tauri require a permission for each one, so a
// window can call only what its capability file grants.
const COMMANDS: &[&str] = &[
    "chat_send",
    "chat_regenerate",
    "chat_stop",
    "chat_tiers",
    "conversations_list",
    "conversation_messages",
    "conversations_search",
    "conversation_rename",
    "conversation_delete",
    "engine_status",
    "engine_pause",
    "engine_resume",
    "inbox_list",
    "triage_correct",
    "triage_now",
    "mail_status",
    "mail_options",
    "mail_options_set",
    "accounts_list",
    "account_add",
    "account_remove",
    "account_test",
    "models_overview",
    "model_download",
    "download_pause",
    "download_resume",
    "download_remove",
    "model_import",
    "model_import_pick",
    "model_select",
    "model_task_set",
    "model_delete",
    "api_status",
    "settings_get",
    "settings_set",
    "open_main",
    "popup_hide",
    "documents_summarize",
    "documents_cancel",
    "documents_list",
    "document_get",
    "document_delete",
    "document_chat",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
