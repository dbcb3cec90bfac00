//! The rules of the crate graph (ARCHITECTURE.md), checked on what `cargo metadata`
//! resolves and on the sources: bantam-core depends on no GUI, HTTP or network crate;
//! nothing depends on the app; only the bench crate ships the test kit; llama.cpp is
//! reached only from core's engine/, SQL only from core's store/.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// Crates core must never pull in, directly or through another crate.
const NOT_IN_CORE: &[&str] = &[
    // GUI
    "tauri",
    "wry",
    "tao",
    "gtk",
    "gdk",
    "webkit2gtk",
    "javascriptcore-rs",
    "soup3",
    // HTTP and the network
    "hyper",
    "http",
    "h2",
    "reqwest",
    "axum",
    "tower",
    "ureq",
    "rustls",
    "tokio-rustls",
    "native-tls",
    "async-imap",
    "keyring",
];

/// A package's dependencies in the resolve: (dependency id, its kinds).
type Deps = Vec<(String, Vec<String>)>;

struct Graph {
    metadata: Value,
    /// Package id → (name, dependencies) from the resolve.
    nodes: HashMap<String, (String, Deps)>,
}

/// The resolve for this machine's platform (the one whose crates are downloaded), read
/// once for all the tests here.
fn metadata() -> &'static Graph {
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    GRAPH.get_or_init(read_metadata)
}

fn read_metadata() -> Graph {
    let rustc = Command::new("rustc").arg("-vV").output().expect("rustc -vV runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc names its host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
        ])
        .arg(&host)
        .current_dir(bantam_tests::repo())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON");
    let names: HashMap<String, String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut nodes = HashMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap().to_string();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let kinds = d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k["kind"].as_str().unwrap_or("normal").to_string())
                    .collect();
                (d["pkg"].as_str().unwrap().to_string(), kinds)
            })
            .collect();
        nodes.insert(id.clone(), (names[&id].clone(), deps));
    }
    Graph { metadata, nodes }
}

impl Graph {
    fn id_of(&self, name: &str) -> String {
        self.nodes
            .iter()
            .find(|(_, (n, _))| n == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("{name} is not in the workspace"))
    }

    /// Every crate `name` links: its normal dependencies, theirs, and so on (build
    /// scripts' and dev-dependencies left out).
    fn linked(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![self.id_of(name)];
        let mut out = BTreeSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            for (dep, kinds) in &self.nodes[&id].1 {
                if kinds.iter().any(|k| k == "normal") {
                    out.insert(self.nodes[dep].0.clone());
                    stack.push(dep.clone());
                }
            }
        }
        out
    }

    fn workspace(&self) -> Vec<&Value> {
        let members: BTreeSet<&str> = self.metadata["workspace_members"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        self.metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| members.contains(p["id"].as_str().unwrap()))
            .collect()
    }
}

#[test]
fn core_links_no_gui_http_or_network_crate() {
    let graph = metadata();
    let linked = graph.linked("bantam-core");
    assert!(linked.contains("llama-cpp-2") && linked.contains("sqlx"), "{linked:?}");
    let forbidden: Vec<&String> = linked.iter().filter(|c| NOT_IN_CORE.contains(&c.as_str())).collect();
    assert!(
        forbidden.is_empty(),
        "bantam-core links {forbidden:?}: GUI code belongs in src-tauri, HTTP and network code in bantam-fetch and bantam-server"
    );
}

#[test]
fn the_flow_goes_one_way_and_the_test_kit_ships_only_with_the_bench() {
    let graph = metadata();
    // What each workspace crate may depend on among the others (normal dependencies).
    let allowed: HashMap<&str, &[&str]> = HashMap::from([
        ("bantam-core", &[][..]),
        ("bantam-testkit", &[][..]),
        ("bantam-fetch", &["bantam-core"][..]),
        ("bantam-server", &["bantam-core"][..]),
        (
            "bantam-bench",
            &["bantam-core", "bantam-fetch", "bantam-server", "bantam-testkit"][..],
        ),
        (
            "bantam-cli",
            &["bantam-core", "bantam-fetch", "bantam-server", "bantam-bench"][..],
        ),
        ("bantam-app", &["bantam-core", "bantam-fetch", "bantam-server"][..]),
        ("bantam-tests", &["bantam-core", "bantam-testkit"][..]),
    ]);
    let members = graph.workspace();
    assert_eq!(members.len(), allowed.len(), "a new crate needs its place in this test");
    for package in members {
        let name = package["name"].as_str().unwrap();
        let may = allowed
            .get(name)
            .unwrap_or_else(|| panic!("{name} needs its place in this test"));
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            if !dep_name.starts_with("bantam") {
                continue;
            }
            let kind = dep["kind"].as_str().unwrap_or("normal");
            assert_ne!(dep_name, "bantam-app", "{name} depends on the app: nothing may");
            if kind == "dev" {
                continue;
            }
            assert!(
                may.contains(&dep_name),
                "{name} depends on {dep_name} ({kind}): the flow is ui → src-tauri → core ← cli, \
                 and only bantam-bench (and tests) may use bantam-testkit"
            );
        }
    }
    // Transitively too: the shipped binaries link the test kit only through the bench.
    assert!(!graph.linked("bantam-app").contains("bantam-testkit"));
    assert!(!graph.linked("bantam-fetch").contains("bantam-testkit"));
    assert!(!graph.linked("bantam-server").contains("bantam-testkit"));
}

/// Files under `dir` whose text (outside `// ` comments) contains `needle`.
fn sources_with(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text
                    .lines()
                    .any(|l| !l.trim_start().starts_with("//") && l.contains(needle))
                {
                    hits.push(
                        path.strip_prefix(bantam_tests::repo())
                            .unwrap_or(&path)
                            .display()
                            .to_string(),
                    );
                }
            }
        }
    }
    hits.sort();
    hits
}

#[test]
fn llama_cpp_is_reached_only_from_the_engine_and_sql_only_from_the_store() {
    let repo = bantam_tests::repo();
    for dir in ["crates", "src-tauri/src"] {
        for needle in ["llama_cpp_2::", "llama_cpp_sys_2::"] {
            let outside: Vec<String> = sources_with(&repo.join(dir), needle)
                .into_iter()
                .filter(|f| !f.starts_with("crates/bantam-core/src/engine/"))
                .collect();
            assert!(outside.is_empty(), "{needle} outside core's engine/: {outside:?}");
        }
    }
    for dir in [
        "crates/bantam-core/src",
        "crates/bantam-fetch/src",
        "crates/bantam-cli/src",
        "src-tauri/src",
    ] {
        let outside: Vec<String> = sources_with(&repo.join(dir), "sqlx::query")
            .into_iter()
            .filter(|f| !f.starts_with("crates/bantam-core/src/store/"))
            .collect();
        assert!(outside.is_empty(), "SQL outside core's store/: {outside:?}");
    }
}
