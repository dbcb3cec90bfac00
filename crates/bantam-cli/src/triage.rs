//! `bantam triage`: category, priority, needed reply, action items and a route for each
//! message of an IMAP account, a Maildir, an mbox or `.eml` files; one JSON line each with
//! `--json` (or a per-message error). Records are stored as they finish, so a killed run
//! picks up where it stopped and nothing is triaged twice. `--correct` and `--add-rule`
//! teach it, without loading the model.

use std::path::PathBuf;

use anyhow::{bail, Result};
use bantam_core::mail::{LocalMailbox, MailError, MailSource, Mailbox};
use bantam_core::tasks::triage::{
    Outcome, Priority4, Rule, RuleField, SyncError, SyncEvent, SyncOptions, TriageBook, TriageService,
};
use bantam_fetch::accounts::ImapMailbox;
use bantam_fetch::imap::ImapError;
use clap::Args;
use serde_json::json;

use crate::context::Context;
use crate::{exit, Global};

#[derive(Args, Debug)]
pub struct TriageArgs {
    /// An IMAP account (`bantam accounts add`): only mail new since the last run is fetched
    #[arg(long, value_name = "ACCOUNT", conflicts_with_all = ["maildir", "mbox", "files"])]
    pub imap: Option<String>,
    /// A Maildir folder (with cur/ and new/)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["mbox", "files"])]
    pub maildir: Option<PathBuf>,
    /// An mbox file
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    pub mbox: Option<PathBuf>,
    /// .eml files
    #[arg(value_name = "FILE.eml")]
    pub files: Vec<PathBuf>,
    /// One JSON object per message on stdout
    #[arg(long)]
    pub json: bool,
    /// One message at a time instead of batched (for comparison)
    #[arg(long)]
    pub sequential: bool,
    /// Sampling seed (greedy decoding; the seed matters only for ties)
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Correct a triaged message (its key or Message-ID): with --category and/or --priority
    #[arg(long, value_name = "KEY")]
    pub correct: Option<String>,
    #[arg(long, requires = "correct")]
    pub category: Option<String>,
    #[arg(long, requires = "correct")]
    pub priority: Option<String>,
    /// Also write a reply draft for each message that needs a reply (stored locally, shown
    /// with the record; Bantam never sends mail). `triage.drafts` in the settings turns it on
    /// for every run
    #[arg(long)]
    pub drafts: bool,
    /// Add a rule: sender:ADDRESS=CATEGORY, domain:DOMAIN=CATEGORY or subject:TEXT=CATEGORY,
    /// optionally with :PRIORITY after the category
    #[arg(long, value_name = "RULE")]
    pub add_rule: Vec<String>,
}

pub async fn run(global: &Global, args: TriageArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    // The record book needs no model: rules and corrections work with none loaded.
    let mut book = TriageBook::open(&ctx.store).await?;
    if !args.add_rule.is_empty() {
        for spec in &args.add_rule {
            book.add_rule(parse_rule(spec)?).await?;
        }
        eprintln!("{} rules", book.options().rules.len());
    }
    if let Some(key) = &args.correct {
        correct(&book, key, &args).await?;
    }
    let source = if let Some(path) = args.maildir.clone() {
        Some(MailSource::Maildir { path })
    } else if let Some(path) = args.mbox.clone() {
        Some(MailSource::Mbox { path })
    } else if !args.files.is_empty() {
        Some(MailSource::Files {
            paths: args.files.clone(),
        })
    } else {
        None
    };
    if source.is_none() && args.imap.is_none() {
        if args.add_rule.is_empty() && args.correct.is_none() {
            bail!("nothing to triage: give --maildir DIR, --mbox FILE or .eml files");
        }
        return Ok(0);
    }
    let options = book.options_mut();
    options.seed = args.seed;
    options.drafts |= args.drafts;
    let service = TriageService::new(ctx.task_engine(bantam_core::tiers::Task::Triage).await?, book);
    match (&args.imap, source) {
        (Some(name), _) => {
            let mut mailbox = match ImapMailbox::open(&ctx.store, name).await {
                Ok(m) => m,
                Err(e) => {
                    report_error(args.json, Some(name), e.kind(), &e.to_string());
                    return Ok(exit::ERROR);
                }
            };
            let file_routes = mailbox.account().move_to_route;
            sync(&service, &mut mailbox, file_routes, &args).await
        }
        (None, Some(source)) => sync(&service, &mut LocalMailbox::new(source), false, &args).await,
        (None, None) => Ok(0),
    }
}

/// `--correct KEY`: the label the user gives, learned for the sender (no model needed).
async fn correct(book: &TriageBook, key: &str, args: &TriageArgs) -> Result<()> {
    let id = book.message_id(key).await?;
    let priority = match args.priority.as_deref() {
        Some(p) => Some(Priority4::parse(p).ok_or_else(|| anyhow::anyhow!("priority is urgent, high, normal or low"))?),
        None => None,
    };
    let record = book.correct(id, args.category.as_deref(), priority).await?;
    if args.json {
        println!("{}", json!({"key": key, "record": record}));
    } else {
        eprintln!(
            "corrected: {} / {}; mail from this sender will follow",
            record.category,
            record.priority.as_str()
        );
    }
    Ok(())
}

/// The error kind `--json` reports for a mailbox's failure.
trait ErrorKind {
    fn kind(&self) -> &'static str;
}

impl ErrorKind for ImapError {
    fn kind(&self) -> &'static str {
        ImapError::kind(self)
    }
}

impl ErrorKind for MailError {
    fn kind(&self) -> &'static str {
        match self {
            MailError::Read { .. } => "read",
            MailError::Malformed { .. } => "malformed",
            MailError::ReadOnly { .. } => "read_only",
        }
    }
}

/// Syncs and triages a mailbox, printing each record as it finishes. Ctrl-C stops it
/// (finished records are kept; the next run does the rest) with exit code 130.
async fn sync<M: Mailbox>(service: &TriageService, mailbox: &mut M, file_routes: bool, args: &TriageArgs) -> Result<u8>
where
    M::Error: ErrorKind,
{
    let name = mailbox.name();
    let started = std::time::Instant::now();
    let (mut total, mut done, mut failed) = (0usize, 0usize, 0usize);
    let json_out = args.json;
    let options = SyncOptions {
        sequential: args.sequential,
        file_routes,
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let report = service
        .sync(mailbox, options, stop, |event| match event {
            SyncEvent::Fetched(n) => total = n,
            SyncEvent::Unreadable(e) => {
                failed += 1;
                report_error(json_out, Some(&e.location()), "malformed", &e.to_string());
            }
            SyncEvent::Outcome(o) => {
                done += 1;
                if print_outcome(json_out, *o) {
                    failed += 1;
                }
            }
        })
        .await;
    let report = match report {
        Ok(r) => r,
        Err(SyncError::Mailbox(e)) => {
            report_error(json_out, Some(&name), e.kind(), &e.to_string());
            return Ok(exit::ERROR);
        }
        Err(SyncError::Core(e)) => return Err(e.into()),
    };
    if report.interrupted {
        eprintln!("\ninterrupted; {done} of {total} triaged and kept — run again to finish");
        return Ok(exit::INTERRUPTED);
    }
    if report.reset {
        eprintln!("{name}: the server renumbered the folder (UIDVALIDITY changed); it was read again");
    }
    if report.fetched == 0 {
        eprintln!("{name}: nothing new");
    } else {
        eprintln!(
            "{total} messages triaged in {:.1} s{}",
            started.elapsed().as_secs_f64(),
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        );
    }
    if report.moved > 0 {
        eprintln!("{name}: moved {} messages into their Triage/ folders", report.moved);
    }
    Ok(if failed > 0 { exit::ERROR } else { 0 })
}

/// Prints one record (or its error); true when it failed.
fn print_outcome(json_out: bool, outcome: Outcome) -> bool {
    match outcome {
        Ok(t) => {
            if json_out {
                println!("{}", json!(t));
            } else {
                let r = &t.record;
                println!(
                    "{:<7} {:<12} {}{} — {}",
                    r.priority.as_str(),
                    r.category,
                    t.subject.chars().take(60).collect::<String>(),
                    if r.needs_reply { " [reply]" } else { "" },
                    r.summary
                );
                if let Some(draft) = &t.draft {
                    for line in draft.lines() {
                        println!("        │ {line}");
                    }
                }
            }
            false
        }
        Err(f) => {
            report_error(json_out, Some(&f.source), "triage", &f.error.to_string());
            true
        }
    }
}

fn report_error(json_out: bool, source: Option<&str>, kind: &str, message: &str) {
    if json_out {
        println!(
            "{}",
            json!({"source": source, "error": {"kind": kind, "message": message}})
        );
    } else {
        eprintln!("error: {message}");
    }
}

/// `domain:example.com=work:high` (the book checks the category).
fn parse_rule(spec: &str) -> Result<Rule> {
    let (field, rest) = spec
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("a rule is FIELD:PATTERN=CATEGORY[:PRIORITY]"))?;
    let field = match field {
        "sender" => RuleField::Sender,
        "domain" => RuleField::Domain,
        "subject" => RuleField::Subject,
        other => bail!("rule field {other:?}: sender, domain or subject"),
    };
    let (pattern, target) = rest
        .rsplit_once('=')
        .ok_or_else(|| anyhow::anyhow!("a rule is FIELD:PATTERN=CATEGORY[:PRIORITY]"))?;
    let (category, priority) = match target.split_once(':') {
        Some((c, p)) => (
            c,
            Some(Priority4::parse(p).ok_or_else(|| anyhow::anyhow!("unknown priority {p:?}"))?),
        ),
        None => (target, None),
    };
    Ok(Rule {
        field,
        pattern: pattern.trim().to_string(),
        category: category.to_string(),
        priority,
    })
}
