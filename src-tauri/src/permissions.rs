//! Every command a page can call is defined in a domain's `commands.rs`, declared in
//! `build.rs` (so Tauri demands a permission for it), registered in `lib.rs`, and granted
//! to the windows that use it in `capabilities/`. The test below checks all four agree.

#[cfg(test)]
mod tests {
    //! Every `#[tauri::command]` must be declared in build.rs (so Tauri demands a
    //! permission), registered in lib.rs, and granted to at least one window; and no
    //! capability may grant a command that does not exist.
    use std::collections::BTreeSet;
    use std::path::Path;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn defined_commands() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(root().join("src")).unwrap() {
            let commands = entry.unwrap().path().join("commands.rs");
            if !commands.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(commands).unwrap();
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                if line.trim() == "#[tauri::command]" {
                    let sig = lines.next().unwrap();
                    let name = sig.split("fn ").nth(1).unwrap().split('(').next().unwrap();
                    out.insert(name.trim().to_string());
                }
            }
        }
        out
    }

    #[test]
    fn every_command_is_declared_registered_and_granted() {
        let commands = defined_commands();
        assert!(commands.len() >= 10, "found only {commands:?}");
        let build = std::fs::read_to_string(root().join("build.rs")).unwrap();
        let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
        let mut granted = BTreeSet::new();
        for entry in std::fs::read_dir(root().join("capabilities")).unwrap() {
            let cap: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
            for p in cap["permissions"].as_array().unwrap() {
                if let Some(name) = p.as_str().and_then(|p| p.strip_prefix("allow-")) {
                    granted.insert(name.replace('-', "_"));
                }
            }
        }
        for c in &commands {
            assert!(build.contains(&format!("\"{c}\"")), "{c} is not declared in build.rs");
            assert!(lib.contains(&format!("::{c},")), "{c} is not registered in lib.rs");
            assert!(granted.contains(c), "no window is granted {c}");
        }
        for g in &granted {
            assert!(commands.contains(g), "a capability grants {g}, which is not a command");
        }
    }
}
