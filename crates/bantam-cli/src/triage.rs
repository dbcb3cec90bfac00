//! `bantam triage`: category, priority, needed reply, action items and a route for each
//! message of a Maildir, an mbox or `.eml` files; one JSON line each with `--json` (or a
//! per-message error). Records are stored as they finish, so a killed run picks up where
//! it stopped and nothing is triaged twice. `--correct` teaches it.

use std::path::PathBuf;

use anyhow::{bail, Result};
use bantam_core::mail::{read_source, MailMessage, MailSource};
use bantam_core::tasks::triage::{Outcome, Priority4, Rule, RuleField, TriageOptions, TriageService};
use bantam_fetch::accounts::{sync_and_triage, SyncEvent};
use clap::Args;
use serde_json::json;

use crate::context::Context;
use crate::{exit, Global};

use bantam_core::store::settings::keys::TRIAGE as SETTING;

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
    let mut options: TriageOptions = ctx.store.get_setting(SETTING).await?.unwrap_or_default();
    if !args.add_rule.is_empty() {
        for spec in &args.add_rule {
            options.rules.push(parse_rule(spec, &options.categories)?);
        }
        ctx.store.set_setting(SETTING, &options).await?;
        eprintln!("{} rules", options.rules.len());
    }
    options.seed = args.seed;
    options.drafts |= args.drafts;
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
    if source.is_none() && args.correct.is_none() && args.imap.is_none() {
        if args.add_rule.is_empty() {
            bail!("nothing to triage: give --maildir DIR, --mbox FILE or .eml files");
        }
        return Ok(0);
    }
    let engine = ctx.engine().await?;
    let service = TriageService::new(engine, ctx.store.clone(), options);

    if let Some(key) = &args.correct {
        let Some(id) = ctx.store.mail_id_by_key(key).await? else {
            bail!("no triaged message with key or Message-ID {key}");
        };
        let priority = match args.priority.as_deref() {
            Some(p) => {
                Some(Priority4::parse(p).ok_or_else(|| anyhow::anyhow!("priority is urgent, high, normal or low"))?)
            }
            None => None,
        };
        let record = service.correct(id, args.category.as_deref(), priority).await?;
        if args.json {
            println!("{}", json!({"key": key, "record": record}));
        } else {
            eprintln!(
                "corrected: {} / {}; mail from this sender will follow",
                record.category,
                record.priority.as_str()
            );
        }
        if source.is_none() {
            return Ok(0);
        }
    }
    if let Some(name) = &args.imap {
        return imap(&ctx, &service, name, &args).await;
    }
    let Some(source) = source else { return Ok(0) };

    let read = tokio::task::spawn_blocking({
        let source = source.clone();
        move || read_source(&source)
    })
    .await??;
    let mut failed = 0usize;
    let mut messages = Vec::new();
    for r in read {
        match r {
            Ok(m) => messages.push(m),
            Err(e) => {
                failed += 1;
                report_error(args.json, Some(&e.location()), "malformed", &e.to_string());
            }
        }
    }
    // The run is a job row: a killed run is visible, and its finished records are kept.
    let dedupe = serde_json::to_string(&source)?;
    let job = ctx.store.enqueue_job("triage", Some(&dedupe), &source).await?;
    ctx.store.start_job(job.id).await?;
    let failed = failed + triage_and_print(&service, messages, &args).await?;
    ctx.store.complete_job(job.id, &json!({"failed": failed})).await?;
    Ok(if failed > 0 { exit::ERROR } else { 0 })
}

/// Triages and prints each record as it finishes; the number that failed. Ctrl-C stops
/// (finished records are kept).
async fn triage_and_print(service: &TriageService, messages: Vec<MailMessage>, args: &TriageArgs) -> Result<usize> {
    let total = messages.len();
    let started = std::time::Instant::now();
    let mut done = 0usize;
    let mut failed = 0usize;
    let json_out = args.json;
    let work = service.triage(messages, args.sequential, |outcome: Outcome| {
        done += 1;
        if print_outcome(json_out, outcome) {
            failed += 1;
        }
    });
    tokio::select! {
        r = work => r?,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ninterrupted; {done} of {total} triaged and kept — run again to finish");
            std::process::exit(exit::INTERRUPTED.into());
        }
    }
    eprintln!(
        "{total} messages triaged in {:.1} s{}",
        started.elapsed().as_secs_f64(),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    Ok(failed)
}

/// `--imap NAME`: what is new since the last sync, fetched read-only and triaged.
async fn imap(ctx: &Context, service: &TriageService, name: &str, args: &TriageArgs) -> Result<u8> {
    let mut failed = 0usize;
    let json_out = args.json;
    let report = sync_and_triage(&ctx.store, service, name, args.sequential, |e| {
        if let SyncEvent::Outcome(o) = e {
            if print_outcome(json_out, *o) {
                failed += 1;
            }
        }
    })
    .await;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            report_error(json_out, Some(name), e.kind(), &e.to_string());
            return Ok(exit::ERROR);
        }
    };
    for m in &report.malformed {
        failed += 1;
        report_error(json_out, None, "malformed", m);
    }
    if report.reset {
        eprintln!("{name}: the server renumbered the folder (UIDVALIDITY changed); it was read again");
    }
    if report.fetched == 0 {
        eprintln!("{name}: nothing new");
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

/// `domain:example.com=work:high`.
fn parse_rule(spec: &str, categories: &[String]) -> Result<Rule> {
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
    if !categories.iter().any(|c| c == category) {
        bail!("unknown category {category:?}; one of {}", categories.join(", "));
    }
    Ok(Rule {
        field,
        pattern: pattern.trim().to_string(),
        category: category.to_string(),
        priority,
    })
}
