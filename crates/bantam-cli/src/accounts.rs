//! `bantam accounts add|list|remove|test`: IMAP accounts (`bantam_fetch::accounts`: the
//! account in the database, its password only in the OS keyring).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use bantam_fetch::accounts::{self, PASSWORD_ENV};
use bantam_fetch::imap::{test_connection, ImapAccount, Security};
use clap::Subcommand;

use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Add (or update) an IMAP account; the password goes to the OS keyring
    Add {
        name: String,
        #[arg(long)]
        host: String,
        /// Default: 993 with TLS, 143 with --starttls
        #[arg(long)]
        port: Option<u16>,
        #[arg(long)]
        user: String,
        /// Connect in plain text and upgrade with STARTTLS (otherwise TLS from the start)
        #[arg(long)]
        starttls: bool,
        #[arg(long, default_value = "INBOX")]
        folder: String,
        /// A CA certificate (PEM) to trust, for a server with its own certificate authority
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Move triaged mail into Triage/<Category> folders on the server (off by default)
        #[arg(long = "move")]
        move_to_route: bool,
    },
    /// The accounts (never their passwords)
    List,
    /// Remove an account and its password
    Remove { name: String },
    /// Log in and open the folder
    Test { name: String },
}

pub async fn load(ctx: &Context, name: &str) -> Result<ImapAccount> {
    ctx.store
        .mail_account(name)
        .await
        .with_context(|| format!("no account {name:?}: `bantam accounts add {name} --host … --user …`"))
}

pub async fn run(global: &Global, cmd: AccountsCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    match cmd {
        AccountsCommand::Add {
            name,
            host,
            port,
            user,
            starttls,
            folder,
            ca_file,
            password_stdin,
            move_to_route,
        } => {
            let security = if starttls { Security::StartTls } else { Security::Tls };
            let account = ImapAccount {
                port: port.unwrap_or(if starttls { 143 } else { 993 }),
                name: name.clone(),
                host,
                security,
                user,
                folder,
                ca_file: ca_file.map(|p| std::fs::canonicalize(&p).unwrap_or(p)),
                move_to_route,
            };
            let secret = read_password(password_stdin)?;
            let count = accounts::add(&ctx.store, &account, &secret)
                .await
                .with_context(|| format!("adding {name}"))?;
            eprintln!(
                "{name}: connected, {count} messages in {}; password in the OS keyring",
                account.folder
            );
        }
        AccountsCommand::List => {
            let accounts: Vec<ImapAccount> = ctx.store.mail_accounts().await?;
            if accounts.is_empty() {
                eprintln!("no accounts: `bantam accounts add NAME --host HOST --user USER`");
            }
            for a in accounts {
                println!(
                    "{:<16} {}@{}:{} ({:?}) {}",
                    a.name, a.user, a.host, a.port, a.security, a.folder
                );
            }
        }
        AccountsCommand::Remove { name } => {
            if !accounts::remove(&ctx.store, &name).await? {
                bail!("no account {name:?}");
            }
            eprintln!("removed {name}");
        }
        AccountsCommand::Test { name } => {
            let account = load(&ctx, &name).await?;
            let count = test_connection(&account, &accounts::password(&account)?).await?;
            println!("{name}: connected, {count} messages in {}", account.folder);
        }
    }
    Ok(0)
}

fn read_password(from_stdin: bool) -> Result<String> {
    if !from_stdin {
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            return Ok(p);
        }
        if !std::io::stdin().is_terminal() {
            bail!("no password: pass --password-stdin and write it to standard input");
        }
        return Ok(rpassword::prompt_password("password: ")?);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("the password is empty");
    }
    Ok(p)
}
