//! llama.cpp's own tools as the anchor: `llama-bench` for ppN/tgN and
//! `llama-batched-bench` for tgNxK, run on the same model and threads before Bantam's
//! rows, alone, so nothing competes for the cores.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::measure::BenchSpec;

/// One line of `llama-batched-bench --output-format jsonl`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BatchedAnchorResult {
    pub pp: usize,
    pub tg: usize,
    pub pl: usize,
    pub speed_tg: f64,
    pub speed_pp: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AnchorResult {
    pub n_prompt: usize,
    pub n_gen: usize,
    pub avg_ts: f64,
    pub stddev_ts: f64,
}

impl AnchorResult {
    pub fn test(&self) -> String {
        if self.n_prompt > 0 {
            format!("pp{}", self.n_prompt)
        } else {
            format!("tg{}", self.n_gen)
        }
    }
}

/// Where `scripts/anchor/build-llama-tools.sh` puts the tools by default.
pub fn default_anchor(tool: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home)
        .join(".cache/bantam-anchor/llama.cpp/build/bin")
        .join(tool);
    path.is_file().then_some(path)
}

fn run_tool(mut cmd: Command, bin: &Path) -> Result<std::process::Output> {
    let out = cmd.output().with_context(|| format!("starting {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
    }
    Ok(out)
}

/// The anchor tools sit beside their shared libraries.
pub(crate) fn anchor_command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    if let Some(dir) = bin.parent() {
        let mut path = std::ffi::OsString::from(dir);
        if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
            path.push(":");
            path.push(old);
        }
        cmd.env("LD_LIBRARY_PATH", path);
    }
    cmd
}

pub fn run_batched_anchor(
    bin: &Path,
    model: &Path,
    threads: usize,
    flash_attention: Option<bool>,
    spec: &BenchSpec,
) -> Result<Vec<BatchedAnchorResult>> {
    // Same shape as Bantam's tgNxK: a short prompt per sequence, then N tokens each.
    let npl: Vec<String> = spec.parallel.iter().map(|p| p.to_string()).collect();
    let max = spec.parallel.iter().copied().max().unwrap_or(1);
    let mut cmd = anchor_command(bin);
    cmd.arg("-m")
        .arg(model)
        .args(["-c", &(max * (spec.gen_tokens + 16)).to_string()])
        .args([
            "-npp",
            "8",
            "-ntg",
            &spec.gen_tokens.to_string(),
            "-npl",
            &npl.join(","),
        ])
        .args(["-t", &threads.to_string(), "-ub", "512", "--output-format", "jsonl"]);
    if let Some(fa) = flash_attention {
        cmd.args(["-fa", if fa { "on" } else { "off" }]);
    }
    let out = run_tool(cmd, bin)?;
    let text = [out.stdout, out.stderr].concat();
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

pub fn run_anchor(
    bin: &Path,
    model: &Path,
    threads: usize,
    flash_attention: Option<bool>,
    spec: &BenchSpec,
) -> Result<Vec<AnchorResult>> {
    let mut cmd = anchor_command(bin);
    cmd.arg("-m")
        .arg(model)
        .args(["-p", &spec.prompt_tokens.to_string()])
        .args(["-n", &spec.gen_tokens.to_string()])
        .args(["-r", &spec.repetitions.max(1).to_string()])
        .args(["-t", &threads.to_string()])
        .args(["-ub", "512", "-o", "json"]);
    if let Some(fa) = flash_attention {
        cmd.args(["-fa", if fa { "on" } else { "off" }]);
    }
    let out = run_tool(cmd, bin)?;
    serde_json::from_slice(&out.stdout).with_context(|| format!("reading {}'s JSON output", bin.display()))
}
