//! Finding Milo.toml and the Cargo target directory, cheaply: a walk up the folders, no
//! `cargo metadata`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

/// The file name searched for.
pub const FILE_NAME: &str = "Milo.toml";

/// The Cargo workspace root above `start` (inclusive), as cargo picks it for the target
/// folder: the nearest folder whose Cargo.toml has a `[workspace]` table, else the nearest
/// folder with a Cargo.toml, else `None`.
pub fn workspace_root(start: &Path) -> Option<PathBuf> {
    let (workspace, nearest, _) = manifests(start);
    workspace.or(nearest)
}

/// Where the search for Milo.toml stops: the nearest `[workspace]` root, else the outermost
/// folder with a Cargo.toml (so a crate nested in a project without `[workspace]` still finds
/// the project's Milo.toml), else `None`.
fn search_root(start: &Path) -> Option<PathBuf> {
    let (workspace, _, outermost) = manifests(start);
    workspace.or(outermost)
}

/// Folders above `start` with a Cargo.toml: the nearest declaring `[workspace]` (the walk
/// stops there), the nearest, and the outermost seen.
fn manifests(start: &Path) -> (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
    let (mut nearest, mut outermost) = (None, None);
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        if nearest.is_none() {
            nearest = Some(dir.to_path_buf());
        }
        outermost = Some(dir.to_path_buf());
        if fs::read_to_string(&manifest).is_ok_and(|text| declares_workspace(&text)) {
            return (Some(dir.to_path_buf()), nearest, outermost);
        }
    }
    (None, nearest, outermost)
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

/// Milo.toml in `start` or the nearest ancestor, stopping at the Cargo workspace root (the
/// nearest `[workspace]`, else the outermost Cargo.toml; the filesystem root outside a Cargo
/// project). Returns the file, or the folders searched.
pub fn find(start: &Path) -> Result<PathBuf, Vec<PathBuf>> {
    let stop = search_root(start);
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

/// The Cargo target directory for a project whose Milo.toml lives in `milo_dir`, found as
/// cargo finds it, without running cargo: `CARGO_TARGET_DIR` or `CARGO_BUILD_TARGET_DIR`
/// (relative to `cwd`), else `build.target-dir` from the nearest `.cargo/config.toml` above
/// `cwd` or in `CARGO_HOME` (relative to the folder holding `.cargo`), else
/// `<workspace root>/target`, else `<milo_dir>/target` outside a Cargo project. `env` reads
/// an environment variable.
pub fn target_dir(milo_dir: &Path, cwd: &Path, env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |key: &str| env(key).filter(|v| !v.is_empty());
    if let Some(dir) = set("CARGO_TARGET_DIR").or_else(|| set("CARGO_BUILD_TARGET_DIR")) {
        return cwd.join(dir);
    }
    let cargo_home = set("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| Path::new(&home).join(".cargo")));
    let configs = cwd.ancestors().map(|dir| (dir.join(".cargo"), dir.to_path_buf())).chain(
        cargo_home.map(|home| {
            let base = home.parent().map_or_else(|| home.clone(), Path::to_path_buf);
            (home, base)
        }),
    );
    for (cargo_dir, base) in configs {
        for name in ["config.toml", "config"] {
            if let Ok(text) = fs::read_to_string(cargo_dir.join(name))
                && let Some(dir) = config_target_dir(&text)
            {
                return base.join(dir);
            }
        }
    }
    workspace_root(milo_dir).unwrap_or_else(|| milo_dir.to_path_buf()).join("target")
}

/// `build.target-dir` from a cargo config file; an unreadable file counts as unset.
fn config_target_dir(text: &str) -> Option<String> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let build = doc.get_ref().get("build")?.get_ref().as_table()?;
    let dir = build.get("target-dir")?.get_ref().as_str()?;
    (!dir.is_empty()).then(|| dir.to_owned())
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

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn target_dir_prefers_the_variable_then_the_workspace() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let app = root.join("app");
        fs::create_dir_all(&app).expect("mkdir");
        assert_eq!(target_dir(&app, root, no_env), app.join("target"));
        fs::write(root.join("Cargo.toml"), "[workspace]\n").expect("write");
        assert_eq!(target_dir(&app, root, no_env), root.join("target"));
        let var = |value: &'static str| {
            move |key: &str| (key == "CARGO_TARGET_DIR").then(|| OsString::from(value))
        };
        assert_eq!(target_dir(&app, &app, var("out")), app.join("out"));
        assert_eq!(target_dir(&app, &app, var("")), root.join("target"));
        assert_eq!(target_dir(&app, &app, var("/t")), Path::new("/t"));
        let build_var = |key: &str| (key == "CARGO_BUILD_TARGET_DIR").then(|| OsString::from("b"));
        assert_eq!(target_dir(&app, &app, build_var), app.join("b"));
    }

    #[test]
    fn target_dir_from_cargo_config_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let app = root.join("ws/app");
        fs::create_dir_all(root.join("ws/.cargo")).expect("mkdir");
        fs::create_dir_all(root.join("home/.cargo")).expect("mkdir");
        fs::create_dir_all(&app).expect("mkdir");
        fs::write(root.join("ws/Cargo.toml"), "[workspace]\n").expect("write");
        let home = root.join("home");
        let env = move |key: &str| (key == "HOME").then(|| home.clone().into_os_string());
        assert_eq!(target_dir(&app, &app, &env), root.join("ws/target"));
        fs::write(root.join("home/.cargo/config.toml"), "[build]\ntarget-dir = \"shared\"\n")
            .expect("write");
        assert_eq!(target_dir(&app, &app, &env), root.join("home/shared"));
        fs::write(root.join("ws/.cargo/config.toml"), "build.target-dir = \"tgt\"\n")
            .expect("write");
        assert_eq!(target_dir(&app, &app, &env), root.join("ws/tgt"));
        fs::write(root.join("ws/.cargo/config.toml"), "not toml [").expect("write");
        assert_eq!(target_dir(&app, &app, &env), root.join("home/shared"));
    }

    #[test]
    fn a_nested_crate_without_workspace_finds_the_project_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        fs::write(root.join("Cargo.toml"), "[package]\nname = \"outer\"\n").expect("write");
        fs::write(root.join(FILE_NAME), "").expect("write");
        let inner = root.join("tools/gen");
        fs::create_dir_all(&inner).expect("mkdir");
        fs::write(inner.join("Cargo.toml"), "[package]\nname = \"gen\"\n").expect("write");
        assert_eq!(find(&inner), Ok(root.join(FILE_NAME)));
        // The target folder is still the inner package's own.
        assert_eq!(workspace_root(&inner), Some(inner));
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
