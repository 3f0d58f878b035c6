//! Finding Milo.toml and the Cargo target directory, cheaply: a walk up the folders, no
//! `cargo metadata`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

/// The file name searched for.
pub const FILE_NAME: &str = "Milo.toml";

/// The Cargo workspace root above `start` (inclusive): the nearest folder whose Cargo.toml
/// has a `[workspace]` table, else the nearest folder with a Cargo.toml, else `None`.
pub fn workspace_root(start: &Path) -> Option<PathBuf> {
    let mut nearest = None;
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        if nearest.is_none() {
            nearest = Some(dir.to_path_buf());
        }
        if fs::read_to_string(&manifest).is_ok_and(|text| declares_workspace(&text)) {
            return Some(dir.to_path_buf());
        }
    }
    nearest
}

/// Whether a Cargo.toml declares `[workspace]` (a cheap look at table headers, no parsing).
fn declares_workspace(manifest: &str) -> bool {
    manifest.lines().any(|line| {
        let line = line.trim();
        line == "[workspace]"
            || line.starts_with("[workspace.")
            || (line.starts_with("workspace")
                && line["workspace".len()..].trim_start().starts_with(['.', '=']))
    })
}

/// Milo.toml in `start` or the nearest ancestor, stopping at the Cargo workspace root (or at
/// the filesystem root outside a Cargo project). Returns the file and the folders searched.
pub fn find(start: &Path) -> Result<PathBuf, Vec<PathBuf>> {
    let stop = workspace_root(start);
    let mut searched = Vec::new();
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(dir.to_path_buf());
        if stop.as_deref() == Some(dir) {
            break;
        }
    }
    Err(searched)
}

/// The Cargo target directory for a project whose Milo.toml lives in `milo_dir`:
/// `cargo_target_dir` (the `CARGO_TARGET_DIR` variable, relative to `cwd`), else
/// `<workspace root>/target`, else `<milo_dir>/target` outside a Cargo project.
pub fn target_dir(milo_dir: &Path, cwd: &Path, cargo_target_dir: Option<&OsStr>) -> PathBuf {
    if let Some(dir) = cargo_target_dir.filter(|d| !d.is_empty()) {
        return cwd.join(dir);
    }
    workspace_root(milo_dir).unwrap_or_else(|| milo_dir.to_path_buf()).join("target")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_tables_are_recognised() {
        assert!(declares_workspace("[package]\n[workspace]\nmembers = []\n"));
        assert!(declares_workspace("[workspace.dependencies]\n"));
        assert!(declares_workspace("workspace = { members = [] }\n"));
        assert!(!declares_workspace("[package]\nname = \"workspace-tools\"\n"));
    }

    #[test]
    fn finds_the_nearest_file_up_to_the_workspace_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        fs::write(root.join("Cargo.toml"), "[workspace]\n").expect("write");
        fs::create_dir_all(root.join("crates/app/src")).expect("mkdir");
        fs::write(root.join("crates/app/Cargo.toml"), "[package]\n").expect("write");
        fs::write(root.join(FILE_NAME), "").expect("write");
        let deep = root.join("crates/app/src");
        assert_eq!(find(&deep), Ok(root.join(FILE_NAME)));
        assert_eq!(workspace_root(&deep).as_deref(), Some(root));
        fs::write(root.join("crates/app").join(FILE_NAME), "").expect("write");
        assert_eq!(find(&deep), Ok(root.join("crates/app").join(FILE_NAME)));
    }

    #[test]
    fn target_dir_prefers_the_variable_then_the_workspace() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let app = root.join("app");
        fs::create_dir_all(&app).expect("mkdir");
        assert_eq!(target_dir(&app, root, None), app.join("target"));
        fs::write(root.join("Cargo.toml"), "[workspace]\n").expect("write");
        assert_eq!(target_dir(&app, root, None), root.join("target"));
        assert_eq!(target_dir(&app, &app, Some(OsStr::new("out"))), app.join("out"));
        assert_eq!(target_dir(&app, &app, Some(OsStr::new(""))), root.join("target"));
        assert_eq!(target_dir(&app, &app, Some(OsStr::new("/t"))), Path::new("/t"));
    }

    #[test]
    fn stops_at_the_workspace_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outer = tmp.path();
        fs::write(outer.join(FILE_NAME), "").expect("write");
        let project = outer.join("project");
        fs::create_dir_all(&project).expect("mkdir");
        fs::write(project.join("Cargo.toml"), "[package]\n").expect("write");
        let searched = find(&project).expect_err("the file above the project is not used");
        assert_eq!(searched, [project]);
    }
}
