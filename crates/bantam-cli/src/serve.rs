//! `bantam serve`: the OpenAI-compatible API, headless, on the model `chat` would load.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use bantam_server::{ApiConfig, ApiState, DEFAULT_PORT};

use crate::context::Context;
use crate::Global;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; another than loopback needs --allow-remote
    #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one)
    #[arg(long, env = "BANTAM_API_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Listen on a non-loopback address: anyone who reaches it with the token can use the model
    #[arg(long)]
    pub allow_remote: bool,
    /// A web origin allowed to call the API from a browser (CORS); repeat for more
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Requests decoded together (slots); each holds --ctx-size tokens
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub parallel: usize,
    /// Print the API token (made at first use) and exit
    #[arg(long)]
    pub show_token: bool,
}

pub async fn run(global: &Global, args: ServeArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let token = bantam_server::load_or_create_token(ctx.data.root())?;
    let token_path = ctx.data.root().join(bantam_server::TOKEN_FILE);
    if args.show_token {
        println!("{token}");
        return Ok(0);
    }
    if !args.host.is_loopback() && !args.allow_remote {
        bail!(
            "{} is not a loopback address: the API would be reachable from other machines. \
             Pass --allow-remote if that is what you want.",
            args.host
        );
    }
    if args.parallel == 0 {
        bail!("--parallel must be at least 1");
    }
    let config = ApiConfig {
        addr: SocketAddr::new(args.host, args.port),
        cors_origins: args.cors_origins,
        ..ApiConfig::default()
    };
    // Bind before loading the model: a taken port fails at once.
    let listener = bantam_server::bind(&config).await?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let engine = ctx.engine_with(args.parallel).await?;
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {addr}, reachable from other machines; keep the token secret \
             (anyone with it can use the model)"
        );
    }
    // The first line on stdout is the address, for scripts and tests. A closed stdout
    // (the reader went away) must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "Bantam API on http://{addr}/v1 serving {}", engine.info().name);
    let _ = writeln!(
        out,
        "token: {} (send 'Authorization: Bearer <token>'; `bantam serve --show-token` prints it)",
        token_path.display()
    );
    let _ = out.flush();
    let state = ApiState::new(engine.clone(), token, Some(ctx.library()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn({
        let config = config.clone();
        async move {
            bantam_server::serve(listener, state, &config, async {
                let _ = stop_rx.await;
            })
            .await
        }
    });
    tokio::select! {
        _ = stop_signal() => {}
        result = &mut server => {
            result.context("the API server task")??;
            return Ok(0);
        }
    }
    eprintln!("stopping: answers in progress end now");
    let _ = stop_tx.send(());
    // Running answers end (as cancelled), and their streams with them.
    engine.shutdown(Duration::from_secs(2)).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    Ok(0)
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
