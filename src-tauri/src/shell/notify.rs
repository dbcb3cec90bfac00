//! Desktop notifications through the OS's own service (freedesktop notifications on
//! Linux) with notify-rust. Failing to notify (no notification daemon) is only logged.

/// "Urgent: <subject>" with the sender and the one-line summary.
pub fn urgent_mail(from: Option<&str>, subject: &str, summary: &str) {
    let title = format!("Urgent: {}", if subject.is_empty() { "(no subject)" } else { subject });
    // Notification servers may read the body as markup; mail text is not markup.
    let body = escape(&format!("{} — {summary}", from.unwrap_or("unknown sender")));
    // Showing waits on D-Bus; keep it off the async threads.
    std::thread::spawn(move || {
        let mut n = notify_rust::Notification::new();
        n.appname("Bantam").summary(&title).body(&body);
        if let Err(e) = n.show() {
            tracing::warn!("no desktop notification: {e}");
        }
    });
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn mail_text_is_not_read_as_markup() {
        assert_eq!(
            super::escape("<b>Tom & Jerry</b>"),
            "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
        );
    }
}
