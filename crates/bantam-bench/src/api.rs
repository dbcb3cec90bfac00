//! `bantam bench api`: the OpenAI-compatible API under concurrent streaming clients —
//! aggregate tokens/s and time to first token (p50/p95) for 1, 4, 8, 16 clients — next to
//! llama.cpp's `llama-server` on the same model, slots and threads, measured by the same
//! client in the same run; and the same load submitted to the engine in process, which
//! gives the API's own overhead.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use bantam_core::engine::{Request, Sampling};
use bantam_core::Engine;
use serde::Serialize;

use crate::measure::percentile;
use crate::{Output, Setup};

#[derive(clap::Args, Debug)]
pub struct ApiArgs {
    /// Concurrent streaming clients, one round each
    #[arg(long, value_delimiter = ',', default_value = "1,4,8,16", value_name = "N,…")]
    pub clients: Vec<usize>,
    /// Tokens each answer generates (end-of-text ignored, so every server does the same work)
    #[arg(short = 'n', long, default_value_t = 64)]
    pub gen_tokens: usize,
    /// Slots (sequences decoded together) for both servers
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// llama.cpp's llama-server to compare with (default: from ~/.cache/bantam-anchor)
    #[arg(long, value_name = "PATH")]
    pub anchor: Option<PathBuf>,
    /// Rounds per client count; the median round is reported
    #[arg(short = 'r', long, default_value_t = 3)]
    pub repetitions: usize,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Serialize, Debug, Clone, Default)]
pub struct Round {
    pub clients: usize,
    pub tokens_per_s: f64,
    pub ttft_p50_ms: f64,
    pub ttft_p95_ms: f64,
    /// With more clients than slots the p50 is the first queued request, which depends on
    /// how the server staggered the first ones; the mean weighs every request alike.
    pub ttft_mean_ms: f64,
    pub tokens: usize,
}

impl Round {
    fn new(clients: usize, mut ttfts: Vec<f64>, tokens: usize, wall_s: f64) -> Self {
        ttfts.sort_by(f64::total_cmp);
        Round {
            clients,
            tokens_per_s: tokens as f64 / wall_s,
            ttft_p50_ms: percentile(&ttfts, 0.50),
            ttft_p95_ms: percentile(&ttfts, 0.95),
            ttft_mean_ms: ttfts.iter().sum::<f64>() / ttfts.len().max(1) as f64,
            tokens,
        }
    }
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub model: String,
    pub threads: usize,
    pub parallel: usize,
    pub gen_tokens: usize,
    pub bantam: Vec<Round>,
    pub in_process: Vec<Round>,
    pub llama_server: Vec<Round>,
    pub anchor: Option<String>,
}

const TOKEN: &str = "bnt-bench-api-token-0000";

pub async fn run(setup: &Setup, args: &ApiArgs) -> Result<u8> {
    if args.clients.is_empty() || args.gen_tokens == 0 || args.parallel == 0 {
        bail!("--clients, --gen-tokens and --parallel must be positive");
    }
    let threads = setup
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let anchor = args
        .anchor
        .clone()
        .or_else(|| crate::anchor::default_anchor("llama-server"))
        .or_else(sdist_server);
    bantam_fetch::install_tls_provider();
    // A fresh connection per request: llama-server closes one after a stream, and a
    // pooled one would then fail; both servers pay the same connect.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .no_proxy()
        .build()
        .context("the HTTP client")?;

    // The anchor first, alone on the cores; then Bantam.
    let mut llama_server = Vec::new();
    if let Some(bin) = &anchor {
        eprintln!("llama-server: {}", bin.display());
        let mut server = LlamaServer::start(bin, &setup.model, threads, setup.ctx_size, args.parallel).await?;
        let url = format!("http://127.0.0.1:{}/v1/chat/completions", server.port);
        llama_server = rounds(&client, &url, args).await?;
        server.stop();
    } else {
        eprintln!("no llama-server found: scripts/anchor/llama-server.sh builds it (or pass --anchor)");
    }

    let engine = Engine::start(setup.config(args.parallel)).await?;
    let in_process = in_process_rounds(&engine, args).await?;
    let config = bantam_server::ApiConfig {
        addr: "127.0.0.1:0".parse().context("address")?,
        ..Default::default()
    };
    let listener = bantam_server::bind(&config).await?;
    let port = listener.local_addr()?.port();
    let state = bantam_server::ApiState::new(engine.clone(), TOKEN.to_string(), None);
    let served =
        tokio::spawn(async move { bantam_server::serve(listener, state, &config, std::future::pending()).await });
    let bantam = rounds(&client, &format!("http://127.0.0.1:{port}/v1/chat/completions"), args).await?;
    served.abort();

    let report = Report {
        model: engine.info().name.clone(),
        threads,
        parallel: args.parallel,
        gen_tokens: args.gen_tokens,
        bantam,
        in_process,
        llama_server,
        anchor: anchor.map(|a| a.display().to_string()),
    };
    print_table(&report);
    args.output.write(&report)?;
    Ok(0)
}

/// Where `scripts/anchor/llama-server.sh` (and the build script with `EXTRA=1`) puts
/// llama-server when it is built from the sdist's own tree.
fn sdist_server() -> Option<PathBuf> {
    let cache = PathBuf::from(std::env::var_os("HOME")?).join(".cache/bantam-anchor");
    std::fs::read_dir(cache)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("sdist-"))
        .map(|e| e.path().join("build/bin/llama-server"))
        .find(|p| p.is_file())
}

fn prompt(i: usize) -> String {
    format!("Client {i}: write a short paragraph about the sea, the wind and a lighthouse.")
}

fn body(i: usize, gen_tokens: usize) -> serde_json::Value {
    serde_json::json!({
        "messages": [{"role": "user", "content": prompt(i)}],
        "max_tokens": gen_tokens,
        "temperature": 0,
        "stream": true,
        // Both servers take llama-server's extension: exactly max_tokens per answer.
        "ignore_eos": true,
    })
}

async fn rounds(client: &reqwest::Client, url: &str, args: &ApiArgs) -> Result<Vec<Round>> {
    // One warm-up request: the first decode pays for allocations neither server repeats.
    one_round(client, url, 1, args.gen_tokens.min(8)).await?;
    let mut out = Vec::new();
    for &clients in &args.clients {
        let mut runs = Vec::new();
        for _ in 0..args.repetitions.max(1) {
            runs.push(one_round(client, url, clients, args.gen_tokens).await?);
        }
        runs.sort_by(|a, b| a.tokens_per_s.total_cmp(&b.tokens_per_s));
        out.push(runs[runs.len() / 2].clone());
    }
    Ok(out)
}

async fn one_round(client: &reqwest::Client, url: &str, clients: usize, gen_tokens: usize) -> Result<Round> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let client = client.clone();
            let url = url.to_string();
            tokio::spawn(async move { stream_one(&client, &url, i, gen_tokens).await })
        })
        .collect();
    let mut ttfts = Vec::new();
    let mut tokens = 0;
    for t in tasks {
        let (ttft, n) = t.await.context("a client task")??;
        ttfts.push(ttft);
        tokens += n;
    }
    Ok(Round::new(clients, ttfts, tokens, started.elapsed().as_secs_f64()))
}

/// One streamed answer: the time to its first content and the content chunks (one per
/// token in both servers).
async fn stream_one(client: &reqwest::Client, url: &str, i: usize, gen_tokens: usize) -> Result<(f64, usize)> {
    let sent = Instant::now();
    let response = client
        .post(url)
        .bearer_auth(TOKEN)
        .json(&body(i, gen_tokens))
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        bail!("{url}: {status} {}", response.text().await.unwrap_or_default());
    }
    let mut first = None;
    let mut chunks = 0;
    let mut events = std::pin::pin!(bantam_fetch::sse::events(response));
    while let Some(event) = futures_util::StreamExt::next(&mut events).await {
        let event = event.with_context(|| format!("{url}: the event stream"))?;
        if event.data == "[DONE]" {
            continue;
        }
        let chunk: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
        let content = chunk["choices"][0]["delta"]["content"].as_str().unwrap_or_default();
        if !content.is_empty() {
            chunks += 1;
            first.get_or_insert_with(|| sent.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok((first.unwrap_or(f64::NAN), chunks))
}

/// The same rounds submitted to the engine directly: what the HTTP layer costs.
async fn in_process_rounds(engine: &Engine, args: &ApiArgs) -> Result<Vec<Round>> {
    // The same warm-up as the HTTP rounds get.
    let warm = Request::chat(vec![bantam_core::engine::ChatMessage::user(prompt(0))])
        .with_sampling(Sampling::greedy(args.gen_tokens.min(8)));
    engine.complete(warm).await?;
    let mut out = Vec::new();
    for &clients in &args.clients {
        let mut runs = Vec::new();
        for _ in 0..args.repetitions.max(1) {
            let started = Instant::now();
            let mut tasks = Vec::new();
            for i in 0..clients {
                let sampling = Sampling {
                    ignore_eos: true,
                    ..Sampling::greedy(args.gen_tokens)
                };
                let request =
                    Request::chat(vec![bantam_core::engine::ChatMessage::user(prompt(i))]).with_sampling(sampling);
                let generation = engine.submit(request)?;
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let mut generation = generation;
                    let mut first = None;
                    let mut n = 0;
                    while let Some(event) = generation.next().await {
                        match event {
                            bantam_core::engine::Event::Token(_) => {
                                n += 1;
                                first.get_or_insert_with(|| sent.elapsed().as_secs_f64() * 1000.0);
                            }
                            bantam_core::engine::Event::Failed(e) => return Err(anyhow::Error::from(e)),
                            _ => {}
                        }
                    }
                    Ok((first.unwrap_or(f64::NAN), n))
                }));
            }
            let mut ttfts = Vec::new();
            let mut tokens = 0;
            for t in tasks {
                let (ttft, n) = t.await.context("a request task")??;
                ttfts.push(ttft);
                tokens += n;
            }
            runs.push(Round::new(clients, ttfts, tokens, started.elapsed().as_secs_f64()));
        }
        runs.sort_by(|a, b| a.tokens_per_s.total_cmp(&b.tokens_per_s));
        out.push(runs[runs.len() / 2].clone());
    }
    Ok(out)
}

/// llama-server on a free loopback port, stopped when dropped.
struct LlamaServer {
    child: std::process::Child,
    port: u16,
}

impl LlamaServer {
    async fn start(bin: &Path, model: &Path, threads: usize, ctx: u32, parallel: usize) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = crate::anchor::anchor_command(bin)
            .arg("-m")
            .arg(model)
            .args(["-t", &threads.to_string(), "-np", &parallel.to_string()])
            // Its -c is the whole cache, shared by the slots: the same per slot as Bantam's.
            .args(["-c", &(ctx as usize * parallel).to_string(), "-b", "512", "-ub", "512"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--api-key", TOKEN])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(
                std::env::temp_dir().join("bantam-bench-llama-server.log"),
            )?)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = Self { child, port };
        let health = format!("http://127.0.0.1:{port}/health");
        let client = reqwest::Client::builder().no_proxy().build()?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = client.get(&health).bearer_auth(TOKEN).send().await {
                if r.status().is_success() {
                    return Ok(server);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("llama-server exited ({status}) before it was ready");
            }
            if Instant::now() > deadline {
                server.stop();
                bail!("llama-server was not ready within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn print_table(r: &Report) {
    println!(
        "API, {} slots, {} threads, {} tokens per answer ({})",
        r.parallel, r.threads, r.gen_tokens, r.model
    );
    println!(
        "{:>7}  {:>22}  {:>22}  {:>8}  {:>22}  {:>10}  {:>13}  {:>8}",
        "clients",
        "bantam tok/s  TTFT p50/p95",
        "llama-server",
        "ratio",
        "TTFT ratio p50/p95",
        "TTFT mean",
        "in-process",
        "overhead"
    );
    for (i, b) in r.bantam.iter().enumerate() {
        let anchor = r.llama_server.get(i);
        let inproc = r.in_process.get(i);
        let fmt = |x: &Round| format!("{:7.1}  {:5.0}/{:5.0} ms", x.tokens_per_s, x.ttft_p50_ms, x.ttft_p95_ms);
        println!(
            "{:>7}  {:>22}  {:>22}  {:>8}  {:>22}  {:>10}  {:>13}  {:>8}",
            b.clients,
            fmt(b),
            anchor.map_or_else(|| "-".into(), fmt),
            anchor.map_or_else(|| "-".into(), |a| format!("{:.2}x", b.tokens_per_s / a.tokens_per_s)),
            anchor.map_or_else(
                || "-".into(),
                |a| format!(
                    "{:.2}x / {:.2}x",
                    b.ttft_p50_ms / a.ttft_p50_ms,
                    b.ttft_p95_ms / a.ttft_p95_ms
                )
            ),
            anchor.map_or_else(|| "-".into(), |a| format!("{:.2}x", b.ttft_mean_ms / a.ttft_mean_ms)),
            inproc.map_or_else(|| "-".into(), |p| format!("{:.1} tok/s", p.tokens_per_s)),
            inproc.map_or_else(
                || "-".into(),
                |p| format!("{:+.1}%", (1.0 - b.tokens_per_s / p.tokens_per_s) * 100.0)
            ),
        );
    }
}
