//! One module per OS concern (after pot-desktop): windows, tray, hotkey, autostart,
//! notifications.

pub mod autostart;
pub mod hotkey;
pub mod notify;
pub mod tray;
pub mod windows;
