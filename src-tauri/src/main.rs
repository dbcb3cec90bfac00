// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANTAM_LOG")
                .unwrap_or_else(|_| "warn,llama.cpp=off,html5ever=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    bantam_app::run();
}
