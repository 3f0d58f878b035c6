//! The one module that owns the terminal: raw mode, the alternate screen and the cursor.
//!
//! [`enter`] switches them on and returns a guard; the terminal is restored when the guard
//! drops (normal exit, `q`, an error), from a panic hook installed once (a panic on any
//! thread), and the event loop leaves on SIGTERM, SIGINT or SIGHUP (see [`Signals`]) so the
//! guard drops then too. Restoring twice is harmless.

use std::io::{self, IsTerminal, Stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is currently taken over.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// The ratatui terminal the view draws on.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the view can run here: stdin and stdout are terminals and `TERM` is not `dumb`.
pub fn is_interactive() -> bool {
    io::stdin().is_terminal()
        && io::stdout().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Owns the terminal while it lives; restores it when dropped.
pub struct TerminalGuard {
    terminal: Term,
}

impl TerminalGuard {
    /// The terminal to draw on.
    pub fn terminal(&mut self) -> &mut Term {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

impl std::fmt::Debug for TerminalGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalGuard").finish_non_exhaustive()
    }
}

/// Enters raw mode and the alternate screen and hides the cursor.
pub fn enter() -> io::Result<TerminalGuard> {
    install_panic_hook();
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let setup = execute!(io::stdout(), EnterAlternateScreen, Hide)
        .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
    match setup {
        Ok(terminal) => Ok(TerminalGuard { terminal }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Whether the terminal is still taken over (a panic hook may have restored it meanwhile).
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// Shows the cursor, leaves the alternate screen and raw mode. Safe to call at any time.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        // Nothing useful to do if the terminal is gone: the process is ending anyway.
        let _ = execute!(io::stdout(), Show, LeaveAlternateScreen);
        let _ = disable_raw_mode();
    }
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first, so the panic message lands on the normal screen, readable.
            restore();
            previous(info);
        }));
    });
}

/// Termination signals caught while the view is open, so that the event loop can leave and
/// the terminal be restored instead of the process dying in raw mode.
#[derive(Debug)]
pub struct Signals {
    flag: std::sync::Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    /// Starts catching SIGTERM, SIGINT and SIGHUP.
    pub fn catch() -> io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let flag = std::sync::Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            ids.push(signal_hook::flag::register(signal, std::sync::Arc::clone(&flag))?);
        }
        Ok(Self { flag, ids })
    }

    /// Whether a signal arrived.
    pub fn caught(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_on_any_thread_restores_the_terminal() {
        install_panic_hook();
        // As if `enter` had succeeded; restoring a terminal that is not raw is harmless.
        ACTIVE.store(true, Ordering::SeqCst);
        let panicked = std::thread::spawn(|| panic!("boom in the executor")).join();
        assert!(panicked.is_err());
        assert!(!is_active(), "the panic hook restored the terminal");
    }
}
