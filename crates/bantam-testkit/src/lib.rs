//! What the tests (and `bantam bench`) run against: the real test model and document
//! corpus, and real servers on loopback — an HTTP file server, a PyPI index, Dovecot for IMAP, a relay
//! that drops connections, a private D-Bus session with GNOME Keyring. Nothing here is
//! shipped in the app; only the bench crate depends on it outside dev-dependencies
//! (a test of the crate graph holds that).

pub mod dovecot;
pub mod files;
pub mod http;
pub mod keyring;
pub mod pypi;
pub mod relay;

pub use dovecot::Dovecot;
pub use files::{
    corpus_complete, corpus_dir, embed_model, embed_model_source, gguf_python, openai_python, real_model,
    real_model_wheels, test_corpus, test_model, test_threads,
};
pub use http::{FileServer, Seen, ServeOptions};
pub use keyring::PrivateKeyring;
pub use pypi::PypiIndex;
pub use relay::DroppingRelay;
