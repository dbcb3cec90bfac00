//! One module per OS concern (after pot-desktop): windows, tray, hotkey, autostart.

pub mod autostart;
pub mod hotkey;
pub mod tray;
pub mod windows;
