//! llama.cpp's own log lines go to `tracing` at debug level (target `llama.cpp`), never onto
//! the user's terminal. The most recent warnings and errors are also kept so a failed load
//! can tell the user llama.cpp's reason instead of "null result".

use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Mutex, Once};

static INSTALL: Once = Once::new();
static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
const KEEP: usize = 16;

pub(crate) fn install() {
    INSTALL.call_once(|| unsafe {
        llama_cpp_sys_2::llama_log_set(Some(on_log), std::ptr::null_mut());
    });
}

extern "C" fn on_log(level: llama_cpp_sys_2::ggml_log_level, text: *const c_char, _: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string valid for this call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let line = text.trim_end();
    if line.is_empty() {
        return;
    }
    tracing::debug!(target: "llama.cpp", "{line}");
    if level == llama_cpp_sys_2::GGML_LOG_LEVEL_ERROR || level == llama_cpp_sys_2::GGML_LOG_LEVEL_WARN {
        if let Ok(mut recent) = RECENT.lock() {
            if recent.len() == KEEP {
                recent.pop_front();
            }
            recent.push_back(line.to_string());
        }
    }
}

/// Forget earlier warnings (call before an operation whose failure you want to explain).
pub(crate) fn clear_recent() {
    if let Ok(mut recent) = RECENT.lock() {
        recent.clear();
    }
}

/// llama.cpp's warnings and errors since the last `clear_recent`, newest last.
pub(crate) fn recent_errors() -> Vec<String> {
    RECENT.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
}
