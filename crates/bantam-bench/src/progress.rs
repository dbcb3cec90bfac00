//! "N of M" progress on stderr: redrawn in place on a terminal; on anything else (CI,
//! logs, pipes) a whole line at the start, every tenth of the way and at the end, so the
//! updates never run together on one line.

use std::io::{IsTerminal, Write};

pub struct Counter {
    what: String,
    total: usize,
    tty: bool,
    /// Tenths of the way already printed (not on a terminal).
    tenths: Option<usize>,
    drawn: bool,
}

impl Counter {
    /// `what` follows the numbers: "3 of 40 triaged".
    pub fn new(what: impl Into<String>, total: usize) -> Self {
        Self::with_terminal(what, total, std::io::stderr().is_terminal())
    }

    fn with_terminal(what: impl Into<String>, total: usize, tty: bool) -> Self {
        Self {
            what: what.into(),
            total,
            tty,
            tenths: None,
            drawn: false,
        }
    }

    pub fn set(&mut self, done: usize) {
        if let Some(line) = self.line(done) {
            let mut err = std::io::stderr().lock();
            let _ = if self.tty {
                write!(err, "\r\x1b[2K{line}")
            } else {
                writeln!(err, "{line}")
            };
            let _ = err.flush();
        }
    }

    /// What to print for `done`, if anything.
    fn line(&mut self, done: usize) -> Option<String> {
        let text = format!("{done} of {} {}", self.total, self.what);
        if self.tty {
            self.drawn = true;
            return Some(text);
        }
        let tenths = (done * 10).checked_div(self.total).unwrap_or(10).min(10);
        if self.tenths.is_some_and(|t| t >= tenths) && done != self.total {
            return None;
        }
        self.tenths = Some(tenths);
        Some(text)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if self.tty && self.drawn {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Counter;

    #[test]
    fn off_a_terminal_whole_lines_come_every_tenth_and_at_the_end() {
        let mut c = Counter::with_terminal("triaged", 40, false);
        let printed: Vec<String> = (1..=40).filter_map(|d| c.line(d)).collect();
        assert_eq!(printed.first().map(String::as_str), Some("1 of 40 triaged"));
        assert_eq!(printed.last().map(String::as_str), Some("40 of 40 triaged"));
        assert_eq!(printed.len(), 11, "{printed:?}");
        let mut small = Counter::with_terminal("documents", 3, false);
        assert_eq!((1..=3).filter_map(|d| small.line(d)).count(), 3);
        let mut tty = Counter::with_terminal("decided", 5, true);
        assert_eq!((1..=5).filter_map(|d| tty.line(d)).count(), 5);
    }
}
