//! One run at a time per timeline folder: an advisory lock, as cargo takes on its build
//! directory, so that two runs never write the same timeline and logs at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::exec::CancelToken;

/// The lock file, in the timeline's folder.
pub const LOCK_FILE: &str = ".milo-lock";
/// How often a waiting run asks again, and looks for a cancellation meanwhile.
const RETRY: Duration = Duration::from_millis(50);

/// An exclusive lock on a folder, held until dropped (or the process ends: the system
/// releases it even after a crash or SIGKILL, so a stale lock cannot block the next run).
///
/// The lock is advisory: only runs take it. Readers of the timeline (`cargo milo view`, CI
/// uploads) never wait, and need not: the timeline is replaced atomically.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
    /// `None` on a file system without locks, where runs go unlocked (as cargo's do).
    _file: Option<File>,
}

impl FolderLock {
    /// Takes the lock on `folder`, waiting while another run holds it (another process, or
    /// another run in this one); `waiting` is called once, when the wait begins. A
    /// cancellation while waiting gives up with [`Error::Interrupted`].
    pub fn acquire(
        folder: &Path,
        cancel: &CancelToken,
        waiting: impl FnOnce(),
    ) -> Result<Self, Error> {
        let mut waiting = Some(waiting);
        let mut pending = Pending::open(folder)?;
        loop {
            pending = match pending.try_lock()? {
                Ok(lock) => return Ok(lock),
                Err(pending) => pending,
            };
            if let Some(waiting) = waiting.take() {
                waiting();
            }
            if cancel.is_cancelled() {
                return Err(Error::Interrupted);
            }
            // Polled, not blocking: a blocked `flock` would not see Ctrl-C, which the
            // run's signal handler turns into a cancellation.
            std::thread::sleep(RETRY);
        }
    }

    /// Takes the lock on `folder` if nobody holds it; a usage error naming the folder if
    /// another run does.
    pub fn try_acquire(folder: &Path) -> Result<Self, Error> {
        Pending::open(folder)?.try_lock()?.map_err(|_| {
            Error::usage(
                format!("another run is writing the timeline in `{}`", folder.display()),
                "wait for it to end, or give this run a timeline in another folder",
            )
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file, open, not locked yet.
struct Pending {
    path: PathBuf,
    file: File,
}

impl Pending {
    fn open(folder: &Path) -> Result<Self, Error> {
        let path = folder.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("opening the lock file", &path, e))?;
        Ok(Self { path, file })
    }

    /// `Ok(Ok(lock))`, or `Ok(Err(self))` when another run holds it.
    fn try_lock(self) -> Result<Result<FolderLock, Self>, Error> {
        match self.file.try_lock() {
            Ok(()) => Ok(Ok(FolderLock { path: self.path, _file: Some(self.file) })),
            Err(TryLockError::WouldBlock) => Ok(Err(self)),
            Err(TryLockError::Error(e)) if unsupported(&e) => {
                Ok(Ok(FolderLock { path: self.path, _file: None }))
            }
            Err(TryLockError::Error(e)) => Err(Error::io("locking", &self.path, e)),
        }
    }
}

/// Whether the file system cannot lock at all (NFS without a lock daemon, some FUSE).
fn unsupported(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(nix::errno::Errno::ENOLCK as i32) {
        return true;
    }
    e.kind() == io::ErrorKind::Unsupported
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_second_lock_waits_for_the_first_and_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first =
            FolderLock::acquire(dir.path(), &CancelToken::new(), || panic!("nobody holds it yet"))
                .expect("first lock");
        assert_eq!(first.path(), dir.path().join(LOCK_FILE));
        let (tx, rx) = mpsc::channel();
        let folder = dir.path().to_owned();
        let second = std::thread::spawn(move || {
            let waited = tx.clone();
            let lock = FolderLock::acquire(&folder, &CancelToken::new(), move || {
                waited.send("waiting").expect("send");
            });
            tx.send("locked").expect("send");
            lock
        });
        // The second run says it waits, and does not get the lock while the first holds it.
        assert_eq!(rx.recv().expect("a message"), "waiting");
        assert!(rx.try_recv().is_err(), "locked while the first run held the lock");
        drop(first);
        assert_eq!(rx.recv().expect("a message"), "locked");
        second.join().expect("thread").expect("second lock");
    }

    #[test]
    fn a_run_that_must_not_wait_is_refused_while_another_holds_the_lock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = FolderLock::try_acquire(dir.path()).expect("free");
        let err = FolderLock::try_acquire(dir.path()).expect_err("held");
        assert!(err.to_string().contains("another run is writing the timeline in"), "{err}");
        drop(first);
        FolderLock::try_acquire(dir.path()).expect("free again");
    }

    #[test]
    fn a_cancelled_wait_gives_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let _first = FolderLock::acquire(dir.path(), &CancelToken::new(), || {}).expect("lock");
        let cancel = CancelToken::new();
        let trigger = cancel.clone();
        let err = FolderLock::acquire(dir.path(), &cancel, move || trigger.cancel())
            .expect_err("cancelled");
        assert!(matches!(err, Error::Interrupted), "{err}");
    }
}
