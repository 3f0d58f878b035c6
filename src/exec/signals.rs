//! Ctrl-C and SIGTERM cancel a run: the first gracefully, the second at once.
//!
//! No thread waits for them: each signal writes a byte to a socket the token holds, then sets
//! a flag. The executor polls that socket with everything else, and whoever asks the token
//! ([`CancelToken::times`]) after the flag is set counts the bytes, each as one
//! [`CancelToken::cancel`].

use std::io;
use std::os::unix::net::UnixStream;

use signal_hook::SigId;
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::exec::CancelToken;

/// While alive, SIGINT and SIGTERM cancel `token` instead of killing the process.
#[derive(Debug)]
pub struct SignalGuard {
    token: CancelToken,
    ids: Vec<SigId>,
}

/// Routes SIGINT and SIGTERM to `token` (each signal is one [`CancelToken::cancel`], seen by
/// the next look at the token and by the run that polls it).
///
/// The phases run in process groups of their own, so a Ctrl-C at the terminal reaches only
/// cargo-milo; the executor then signals each phase's group itself.
pub fn cancel_on_signals(token: CancelToken) -> io::Result<SignalGuard> {
    let (rx, tx) = UnixStream::pair()?;
    rx.set_nonblocking(true)?;
    tx.set_nonblocking(true)?;
    let mut guard = SignalGuard { token, ids: Vec::new() };
    for signal in [SIGINT, SIGTERM] {
        // In this order: once the flag is seen, the byte is there to count.
        guard.ids.push(signal_hook::low_level::pipe::register(signal, tx.try_clone()?)?);
        guard.ids.push(signal_hook::flag::register(signal, guard.token.signalled())?);
    }
    guard.token.set_signals(Some(rx));
    Ok(guard)
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        self.token.set_signals(None);
    }
}
