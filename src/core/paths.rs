//! Lexical path arithmetic: no file system asked.

use std::path::{Component, Path, PathBuf};

/// `path` without `.` and `..` components (`a/./b/../c` → `a/c`), as cargo compares
/// manifest paths; a `..` at the root stays at the root.
///
/// ```
/// use std::path::Path;
/// assert_eq!(milo::paths::normalize(Path::new("/repo/sub/../x/./y")), Path::new("/repo/x/y"));
/// ```
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
