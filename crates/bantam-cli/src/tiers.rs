//! `bantam tiers`: the models a request can be routed to. `small` is the model in use;
//! a `workhorse` (a bigger local GGUF) and a `remote` endpoint are optional.

use std::io::Read;

use anyhow::{bail, Result};
use bantam_core::tiers::{RemoteEndpoint, Task, TierChoice, TierSettings};
use bantam_fetch::remote::{self, Checked, OpenAiRemote, KEY_ENV};
use clap::Subcommand;
use serde::Serialize;

use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum TiersCommand {
    /// The tiers set up: small (the model in use), workhorse, remote
    Show {
        #[arg(long)]
        json: bool,
    },
    /// A bigger local model (catalogue id or GGUF path) for the requests the router
    /// escalates; loaded when needed, unloaded when idle
    Workhorse {
        /// Catalogue id or path; omit with --off
        #[arg(value_name = "MODEL")]
        target: Option<String>,
        /// No workhorse
        #[arg(long, conflicts_with = "target")]
        off: bool,
        /// Unload it after this many idle minutes
        #[arg(long, value_name = "MIN")]
        idle_minutes: Option<u32>,
    },
    /// An OpenAI-compatible endpoint (base URL up to /v1) for the hardest requests. The
    /// key goes to the OS keyring; the endpoint is checked first (GET /models)
    Remote {
        #[arg(long, required_unless_present = "off")]
        url: Option<String>,
        /// The model's name at the endpoint
        #[arg(long, value_name = "NAME", required_unless_present = "off")]
        remote_model: Option<String>,
        /// Read the API key from stdin (one line) into the OS keyring
        #[arg(long)]
        key_stdin: bool,
        /// Save without checking that the endpoint answers
        #[arg(long)]
        no_check: bool,
        /// No remote tier (its key is deleted from the keyring)
        #[arg(long, conflicts_with_all = ["url", "remote_model"])]
        off: bool,
    },
    /// Where a kind of work runs: chat auto|small|workhorse|remote (auto: the router
    /// decides per question; new conversations start with it), documents, triage and
    /// redaction small|workhorse (they never leave this machine)
    Task {
        #[arg(value_name = "TASK", value_parser = ["chat", "documents", "triage", "redaction"])]
        task: String,
        #[arg(value_name = "TIER", value_parser = ["auto", "small", "workhorse", "remote"])]
        tier: String,
    },
}

#[derive(Serialize)]
struct Overview {
    small: Option<String>,
    #[serde(flatten)]
    settings: TierSettings,
    remote_key: &'static str,
}

pub async fn run(global: &Global, cmd: TiersCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let mut settings = ctx.store.tier_settings().await?;
    match cmd {
        TiersCommand::Show { json } => {
            let small = ctx.model_path().await.ok().map(|p| p.display().to_string());
            let remote_key = match &settings.remote {
                Some(e) if remote::key(e).is_some() => "set",
                Some(_) => "none",
                None => "-",
            };
            if json {
                let out = Overview {
                    small,
                    settings,
                    remote_key,
                };
                println!("{}", serde_json::to_string(&out)?);
                return Ok(0);
            }
            println!("small      {}", small.as_deref().unwrap_or("(no model set)"));
            match &settings.workhorse {
                Some(p) => println!(
                    "workhorse  {} (unloaded after {} idle minutes)",
                    p.display(),
                    settings.workhorse_idle_minutes
                ),
                None => println!("workhorse  (not set: `bantam tiers workhorse MODEL`)"),
            }
            match &settings.remote {
                Some(e) => println!("remote     {} at {} (key: {remote_key})", e.model, e.base_url),
                None => println!("remote     (not set: `bantam tiers remote --url URL --remote-model NAME`)"),
            }
            for task in Task::ALL {
                println!("{:<10} {}", task.as_str(), settings.tasks.get(task).as_str());
            }
        }
        TiersCommand::Task { task, tier } => {
            let (Some(task), Some(choice)) = (Task::parse(&task), TierChoice::parse(&tier)) else {
                bail!("unknown task or tier: {task} {tier}");
            };
            settings.tasks.set(task, choice)?;
            ctx.store.set_tier_settings(&settings).await?;
            let unset = match choice {
                TierChoice::Workhorse if settings.workhorse.is_none() => {
                    " (no workhorse yet: `bantam tiers workhorse MODEL`; until then the small model)"
                }
                TierChoice::Remote if settings.remote.is_none() => {
                    " (no remote yet: `bantam tiers remote`; until then the next tier down)"
                }
                _ => "",
            };
            eprintln!("{}: {}{unset}", task.as_str(), choice.as_str());
        }
        TiersCommand::Workhorse {
            target: model,
            off,
            idle_minutes,
        } => {
            if let Some(m) = idle_minutes {
                settings.workhorse_idle_minutes = m.max(1);
            }
            if off {
                settings.workhorse = None;
                eprintln!("no workhorse: escalated requests go to the remote tier if set, else stay small");
            } else if let Some(model) = model {
                let library = ctx.library();
                let (imported, info) = library.import(&library.resolve(&model)?).await?;
                eprintln!(
                    "workhorse: {} ({})",
                    imported.path().display(),
                    info.name.as_deref().unwrap_or("unnamed")
                );
                settings.workhorse = Some(imported.path());
            } else if idle_minutes.is_none() {
                bail!("name a model, or --off");
            }
            ctx.store.set_tier_settings(&settings).await?;
        }
        TiersCommand::Remote {
            url,
            remote_model: model,
            key_stdin,
            no_check,
            off,
        } => {
            if off {
                if let Some(e) = settings.remote.take() {
                    remote::set_key(&e, None)?;
                }
                ctx.store.set_tier_settings(&settings).await?;
                eprintln!("no remote tier");
                return Ok(0);
            }
            let (Some(url), Some(model)) = (url, model) else {
                bail!("--url and --remote-model are needed");
            };
            let endpoint = RemoteEndpoint::new(&url, &model)?;
            let key = if key_stdin {
                let mut line = String::new();
                std::io::stdin().read_to_string(&mut line)?;
                Some(line.trim().to_string()).filter(|k| !k.is_empty())
            } else {
                remote::key(&endpoint)
            };
            if !no_check {
                match OpenAiRemote::new(endpoint.clone(), key.clone())?.check().await {
                    Ok(Checked::Listed) => {}
                    Ok(Checked::AnsweredUnlisted { listed }) => eprintln!(
                        "note: {} does not list {:?} (it lists {}), but answered a request to it",
                        endpoint.base_url,
                        endpoint.model,
                        listed.join(", ")
                    ),
                    Err(e) => bail!("{e} (or pass --no-check)"),
                }
            }
            if key_stdin {
                if let Err(e) = remote::set_key(&endpoint, key.as_deref()) {
                    bail!("{e}; or set {KEY_ENV} where Bantam runs");
                }
            }
            eprintln!("remote: {} at {}", endpoint.model, endpoint.base_url);
            settings.remote = Some(endpoint);
            ctx.store.set_tier_settings(&settings).await?;
        }
    }
    Ok(0)
}
