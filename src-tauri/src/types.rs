//! The TypeScript types of everything the pages send and receive, generated from the Rust
//! types with ts-rs into `ui/src/types.gen.ts`. The test fails when that file is stale;
//! `BANTAM_WRITE_TYPES=1 cargo test -p bantam-app types` writes it anew.

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ts_rs::{Config, TS};

    /// Declarations of the listed types, in order, as one file.
    macro_rules! declarations {
        ($cfg:expr; $($t:ty),* $(,)?) => {
            vec![$(<$t as TS>::decl($cfg)),*]
        };
    }

    fn generated() -> String {
        use bantam_core::hardware::{Gpu, Hardware};
        use bantam_core::memory::MemorySettings;
        use bantam_core::models::fit::{Budget, Fit, MemoryEstimate, Verdict};
        use bantam_core::models::ModelListing;
        use bantam_core::router::{Decision, RouteBy};
        use bantam_core::store::settings::AppSettings;
        use bantam_core::store::{
            Conversation, DownloadStatus, Memory, MemoryStatus, StoredDocument, StoredMessage, StoredSummary,
        };
        use bantam_core::tasks::documents::{DocumentMetadata, DocumentType, ExtractedMetadata, SummaryLength};
        use bantam_core::tasks::triage::{ActionItem, DecidedBy, InboxEntry, Priority4, TriageRecord};
        use bantam_core::tiers::{RemoteEndpoint, Task, TaskTiers, Tier, TierChoice, TierSettings};
        use bantam_fetch::imap::{ImapAccount, Security};
        use bantam_fetch::{DownloadUpdate, Phase};

        use crate::api::dto::ApiStatus;
        use crate::ask::dto::{AskEvent, AskSource, WholeRead};
        use crate::chat::dto::{ChatEvent, SamplingOverrides};
        use crate::documents::dto::{DocEvent, DocumentDetail, DocumentRow, SummarizeTarget};
        use crate::engine::dto::{EngineState, StatusView};
        use crate::mail::dto::{InboxView, MailOptions, MailStatus, TriageEvent};
        use crate::models::dto::ModelsOverview;
        use crate::search::dto::{FoundHit, SearchKind};
        use crate::settings::dto::SettingsView;
        use crate::tiers::dto::TiersView;
        use crate::windows::dto::Navigate;

        // JSON numbers are JavaScript numbers: ids, sizes and times all fit in 2^53.
        let cfg = Config::new().with_large_int("number");
        let decls = declarations![&cfg;
            EngineState, StatusView,
            Tier, TierChoice, RouteBy, Decision, Task, TaskTiers, RemoteEndpoint, TierSettings, TiersView,
            Conversation, StoredMessage, MemoryStatus, Memory, MemorySettings, ChatEvent,
            SamplingOverrides, AskSource, WholeRead, AskEvent, SearchKind, FoundHit,
            AppSettings, SettingsView, ApiStatus, Navigate,
            Fit, MemoryEstimate, Verdict, Gpu, Hardware, Budget, ModelListing,
            DownloadStatus, Phase, DownloadUpdate, ModelsOverview,
            Priority4, DecidedBy, ActionItem, TriageRecord, InboxEntry, InboxView, MailStatus,
            MailOptions, TriageEvent, Security, ImapAccount,
            DocumentType, ExtractedMetadata, DocumentMetadata, StoredDocument, DocumentRow,
            SummaryLength, StoredSummary, DocumentDetail, SummarizeTarget, DocEvent,
        ];
        let mut out = String::from(
            "// Generated from the Rust types by src-tauri/src/types.rs (ts-rs): do not edit.\n\
             // BANTAM_WRITE_TYPES=1 cargo test -p bantam-app types writes it anew.\n",
        );
        for decl in decls {
            out.push_str("\nexport ");
            out.push_str(decl.trim());
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_ui_types_are_generated_from_the_rust_types() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/types.gen.ts");
        let fresh = generated();
        if std::env::var_os("BANTAM_WRITE_TYPES").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "{} is stale: run `BANTAM_WRITE_TYPES=1 cargo test -p bantam-app types` and commit it",
            path.display()
        );
    }
}
