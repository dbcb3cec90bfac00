//! Email triage: for each message a typed record — category, priority, whether it needs a
//! reply, action items, a one-line summary, a route and a reason — and what decided it.
//! Split at the model line: the record book ([`TriageBook`]: rules, corrections, stored
//! records, the Inbox) needs only the store, so correcting a label or adding a rule works
//! with the model paused; the model path ([`TriageService`]) asks the model, under a JSON
//! schema parsed with serde, about what the book's cheap signals (rules, then the user's
//! corrections for the sender, then a list's or a machine's headers, then a filter trained
//! on the corrections) leave open. Every message is its
//! own request, so a mailbox is decoded in the engine's continuous batch at background
//! priority and one message's text never reaches another's prompt. Mail is untrusted:
//! nothing in it is followed, and the route is derived from the category, never taken
//! from the text.

mod book;
mod filter;
mod prompts;
mod record;
mod service;
mod signals;
mod sync;

pub use book::{InboxEntry, TriageBook};
pub use filter::{Filter, Verdict};
pub use prompts::schema;
pub use record::*;
pub use service::TriageService;
pub use sync::{route_folder, SyncError, SyncEvent, SyncOptions, SyncReport, JOB_KIND};
