//! Ctrl-C and SIGTERM cancel a run: the first gracefully, the second at once.

use std::io;
use std::thread::JoinHandle;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::exec::CancelToken;

/// While alive, SIGINT and SIGTERM cancel `token` instead of killing the process.
#[derive(Debug)]
pub struct SignalGuard {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

/// Routes SIGINT and SIGTERM to `token` (each signal is one [`CancelToken::cancel`]).
///
/// The phases run in process groups of their own, so a Ctrl-C at the terminal reaches only
/// cargo-milo; the executor then signals each phase's group itself.
pub fn cancel_on_signals(token: CancelToken) -> io::Result<SignalGuard> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let handle = signals.handle();
    let thread = std::thread::Builder::new().name("milo-signals".into()).spawn(move || {
        for _ in signals.forever() {
            token.cancel();
        }
    })?;
    Ok(SignalGuard { handle, thread: Some(thread) })
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
