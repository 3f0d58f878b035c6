//! Hashing input files: each file's contents through BLAKE3, on as many threads as the
//! machine has cores when there are enough files to share.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::fingerprint::{Digest, Unreadable};

/// Below this many files one thread hashes them all: starting threads would cost more.
const PARALLEL_FROM: usize = 32;

/// The digest of every file (keyed as given) and the files that could not be read.
pub(crate) fn hash_files(
    files: &BTreeMap<String, PathBuf>,
) -> (BTreeMap<String, Digest>, Vec<Unreadable>) {
    let list: Vec<(&String, &PathBuf)> = files.iter().collect();
    let threads = if list.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(8)
    };
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((_, path)) = list.get(i) else { break };
            done.push((i, hash_file(path, &mut buf)));
        }
        done
    };
    let mut results: Vec<(usize, std::io::Result<Digest>)> = if threads == 1 {
        work()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mut all = work();
            for h in handles {
                // A hashing thread does not panic; if one did, its files count as unread.
                all.extend(h.join().unwrap_or_default());
            }
            all
        })
    };
    results.sort_by_key(|(i, _)| *i);
    let mut digests = BTreeMap::new();
    let mut unreadable = Vec::new();
    let mut seen = vec![false; list.len()];
    for (i, result) in results {
        seen[i] = true;
        let name = list[i].0.clone();
        match result {
            Ok(d) => {
                digests.insert(name, d);
            }
            Err(e) => unreadable.push(Unreadable { path: name, reason: reason(&e) }),
        }
    }
    for (i, _) in seen.iter().enumerate().filter(|(_, s)| !**s) {
        unreadable.push(Unreadable { path: list[i].0.clone(), reason: "not hashed".into() });
    }
    (digests, unreadable)
}

/// Adds the digest of each link's target text (a link that does not lead to a regular
/// file), or the reason it could not be read.
pub(crate) fn hash_links(
    links: &BTreeMap<String, PathBuf>,
    digests: &mut BTreeMap<String, Digest>,
    unreadable: &mut Vec<Unreadable>,
) {
    for (name, path) in links {
        match std::fs::read_link(path) {
            Ok(target) => {
                digests.insert(name.clone(), link_digest(&target.to_string_lossy()));
            }
            Err(e) => unreadable.push(Unreadable { path: name.clone(), reason: reason(&e) }),
        }
    }
}

/// A link's digest: its target's text, tagged so that it differs from a file holding it.
fn link_digest(target: &str) -> Digest {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"symlink\0");
    hasher.update(target.as_bytes());
    Digest(*hasher.finalize().as_bytes())
}

/// One file's digest, read through `buf`.
fn hash_file(path: &std::path::Path, buf: &mut [u8]) -> std::io::Result<Digest> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    loop {
        match file.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Digest(*hasher.finalize().as_bytes()))
}

/// The system's words, without the `(os error 2)` tail.
fn reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_are_hashed_and_missing_files_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut files = BTreeMap::new();
        for i in 0..100 {
            let path = dir.path().join(format!("f{i}"));
            std::fs::write(&path, format!("file {i}")).expect("write");
            files.insert(format!("f{i:03}"), path);
        }
        files.insert("gone".into(), dir.path().join("gone"));
        let (digests, unreadable) = hash_files(&files);
        assert_eq!(digests.len(), 100);
        assert_eq!(digests["f007"], Digest::of(b"file 7"));
        assert_eq!(
            unreadable,
            [Unreadable { path: "gone".into(), reason: "no such file or directory".into() }]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_count_by_their_target_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink("missing", &a).expect("symlink");
        std::os::unix::fs::symlink("elsewhere", &b).expect("symlink");
        std::fs::write(dir.path().join("missing"), "missing").expect("write");
        let links = [("a".to_owned(), a), ("b".to_owned(), b), ("c".into(), dir.path().join("c"))];
        let (mut digests, mut unreadable) = (BTreeMap::new(), Vec::new());
        hash_links(&links.into_iter().collect(), &mut digests, &mut unreadable);
        assert_eq!(digests["a"], link_digest("missing"));
        assert_ne!(digests["a"], digests["b"]);
        assert_ne!(digests["a"], Digest::of(b"missing"), "a link is not a file holding its text");
        assert_eq!(unreadable.len(), 1);
        assert_eq!(unreadable[0].path, "c");
    }
}
