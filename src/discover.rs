//! Finding Milo.toml and the Cargo workspace around it by reading files, never by running
//! cargo: `Cargo.toml` files parsed with the toml crate (a `[workspace]` table, a
//! `package.workspace` pointer), and whether a Cargo config file could move the target
//! directory. Asking cargo itself is [`crate::metadata`]'s job.

use std::fs;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::paths::normalize;

/// The file name searched for.
pub const FILE_NAME: &str = "Milo.toml";

/// The Cargo project around a folder, as its `Cargo.toml` files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The nearest `Cargo.toml` at or above the folder.
    pub manifest: PathBuf,
    /// The workspace root folder: the manifest's own folder when it has `[workspace]`, the
    /// folder `package.workspace` names, the nearest ancestor with a `[workspace]` that does
    /// not exclude it, else the package's own folder (a package alone is its own workspace).
    pub root: PathBuf,
    /// Whether `root` holds a `[workspace]` table (false for a package alone).
    pub declared: bool,
    /// The outermost folder above the start holding a `Cargo.toml`.
    pub outermost: PathBuf,
}

/// What one `Cargo.toml` says about workspaces.
enum Manifest {
    /// It has a `[workspace]` table; `exclude` lists folders (relative to it) left out.
    Root { exclude: Vec<String> },
    /// `package.workspace = "…"` names the root folder.
    PointsTo(String),
    /// A package without a workspace declaration.
    Package,
    /// Not valid TOML: cargo will say what is wrong when asked.
    Broken,
}

fn read_manifest(path: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(path).ok()?;
    let Ok(doc) = DeTable::parse(&text) else { return Some(Manifest::Broken) };
    let doc = doc.get_ref();
    if let Some(workspace) = doc.get("workspace") {
        let exclude = match workspace.get_ref() {
            DeValue::Table(table) => table.get("exclude").map(|e| strings(e.get_ref())),
            _ => None,
        };
        return Some(Manifest::Root { exclude: exclude.unwrap_or_default() });
    }
    let pointer = doc
        .get("package")
        .and_then(|p| p.get_ref().as_table())
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.get_ref().as_str().map(str::to_owned));
    Some(pointer.map_or(Manifest::Package, Manifest::PointsTo))
}

fn strings(value: &DeValue<'_>) -> Vec<String> {
    match value {
        DeValue::Array(items) => {
            items.iter().filter_map(|i| i.get_ref().as_str().map(str::to_owned)).collect()
        }
        _ => Vec::new(),
    }
}

/// The Cargo project around `start`, or `None` when no folder at or above it has a
/// `Cargo.toml`. Follows cargo's own rules for the workspace root (without running cargo).
pub fn project(start: &Path) -> Option<Project> {
    let mut manifests = start
        .ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .filter(|m| m.is_file())
        .filter_map(|m| read_manifest(&m).map(|kind| (m, kind)));
    let (manifest, kind) = manifests.next()?;
    let package_dir = parent(&manifest);
    let mut outermost = package_dir.clone();
    let mut found = match kind {
        Manifest::Root { .. } => Some(package_dir.clone()),
        Manifest::PointsTo(path) => Some(normalize(&package_dir.join(path))),
        Manifest::Package | Manifest::Broken => None,
    };
    for (above, kind) in manifests {
        let dir = parent(&above);
        if let (None, Manifest::Root { exclude }) = (&found, &kind)
            && !exclude.iter().any(|e| package_dir.starts_with(normalize(&dir.join(e))))
        {
            found = Some(dir.clone());
        }
        outermost = dir;
    }
    let declared = found.is_some();
    let root = found.unwrap_or_else(|| package_dir.clone());
    Some(Project { manifest, root, declared, outermost })
}

fn parent(manifest: &Path) -> PathBuf {
    manifest.parent().map_or_else(PathBuf::new, Path::to_path_buf)
}

/// Milo.toml in `start` or the nearest ancestor, stopping at the Cargo workspace root (the
/// `[workspace]` root when there is one above `start`, else the outermost folder with a
/// Cargo.toml, so a crate nested in a project without `[workspace]` still finds the
/// project's Milo.toml; the filesystem root outside a Cargo project). Returns the file, or
/// the folders searched.
pub fn find(start: &Path) -> Result<PathBuf, Vec<PathBuf>> {
    let stop = project(start)
        .map(|p| if p.declared && start.starts_with(&p.root) { p.root } else { p.outermost });
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

/// The Cargo config files cargo reads from `dir`: `.cargo/config.toml` and `.cargo/config`
/// in `dir` and every ancestor, then in `cargo_home`.
pub fn config_files(dir: &Path, cargo_home: Option<&Path>) -> Vec<PathBuf> {
    let homes = dir.ancestors().map(|d| d.join(".cargo")).chain(cargo_home.map(Path::to_path_buf));
    homes
        .flat_map(|home| ["config.toml", "config"].map(|name| home.join(name)))
        .filter(|file| file.is_file())
        .collect()
}

/// Whether a Cargo config file could move the target directory: it sets `build.target-dir`,
/// includes other files, or cannot be read as TOML (then only cargo knows).
pub fn config_moves_target_dir(file: &Path) -> bool {
    let Ok(text) = fs::read_to_string(file) else { return true };
    let Ok(doc) = DeTable::parse(&text) else { return true };
    let doc = doc.get_ref();
    let sets_dir = doc
        .get("build")
        .and_then(|b| b.get_ref().as_table())
        .is_some_and(|build| build.contains_key("target-dir"));
    sets_dir || doc.contains_key("include")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    #[test]
    fn workspace_tables_are_parsed_not_grepped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(root, "Cargo.toml", "[workspace]  # the root\nmembers = [\"app\"]\n");
        write(root, "app/Cargo.toml", "[package]\nname = \"app\"\n");
        let p = project(&root.join("app")).expect("a project");
        assert_eq!((p.root.as_path(), p.declared), (root, true));
        write(root, "Cargo.toml", "workspace = { members = [\"app\"] }\n");
        assert_eq!(project(&root.join("app")).expect("a project").root, root);
        // A package whose name merely contains "workspace" is no root.
        write(root, "Cargo.toml", "[package]\nname = \"workspace-tools\"\n");
        let p = project(&root.join("app")).expect("a project");
        assert_eq!((p.root, p.declared), (root.join("app"), false));
    }

    #[test]
    fn a_member_pointing_up_is_not_the_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(root, "Cargo.toml", "[workspace]\nmembers = [\"crates/m\"]\n");
        write(root, "crates/m/Cargo.toml", "[package]\nname = \"m\"\nworkspace = \"../..\"\n");
        let p = project(&root.join("crates/m")).expect("a project");
        assert_eq!(p.manifest, root.join("crates/m/Cargo.toml"));
        assert_eq!(p.root, root);
        // The pointer wins over a nearer `[workspace]` above.
        write(root, "crates/Cargo.toml", "[workspace]\n");
        assert_eq!(project(&root.join("crates/m")).expect("a project").root, root);
    }

    #[test]
    fn an_excluded_package_is_its_own_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(root, "Cargo.toml", "[workspace]\nexclude = [\"tools/gen\"]\n");
        write(root, "tools/gen/Cargo.toml", "[package]\nname = \"gen\"\n");
        let p = project(&root.join("tools/gen/src")).expect("a project");
        assert_eq!((p.root, p.declared), (root.join("tools/gen"), false));
        assert_eq!(p.outermost, root);
    }

    #[test]
    fn finds_the_nearest_file_up_to_the_workspace_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(root, "Cargo.toml", "[workspace]\n");
        write(root, "crates/app/Cargo.toml", "[package]\n");
        write(root, FILE_NAME, "");
        fs::create_dir_all(root.join("crates/app/src")).expect("mkdir");
        let deep = root.join("crates/app/src");
        assert_eq!(find(&deep), Ok(root.join(FILE_NAME)));
        write(root, "crates/app/Milo.toml", "");
        assert_eq!(find(&deep), Ok(root.join("crates/app").join(FILE_NAME)));
    }

    #[test]
    fn a_nested_crate_without_workspace_finds_the_project_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(root, "Cargo.toml", "[package]\nname = \"outer\"\n");
        write(root, FILE_NAME, "");
        write(root, "tools/gen/Cargo.toml", "[package]\nname = \"gen\"\n");
        let inner = root.join("tools/gen");
        assert_eq!(find(&inner), Ok(root.join(FILE_NAME)));
        // The workspace (and target folder) is still the inner package's own.
        assert_eq!(project(&inner).map(|p| p.root), Some(inner));
    }

    #[test]
    fn stops_at_the_workspace_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outer = tmp.path();
        write(outer, FILE_NAME, "");
        write(outer, "project/Cargo.toml", "[package]\n");
        let project = outer.join("project");
        let searched = find(&project).expect_err("the file above the project is not used");
        assert_eq!(searched, [project]);
    }

    #[test]
    fn only_config_files_that_could_move_the_target_dir_count() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(root, "ws/.cargo/config.toml", "[net]\nretry = 3\n");
        write(root, "home/config", "[build]\ntarget-dir = \"shared\"\n");
        let files = config_files(&root.join("ws/app"), Some(&root.join("home")));
        assert_eq!(files, [root.join("ws/.cargo/config.toml"), root.join("home/config")]);
        assert!(!config_moves_target_dir(&files[0]));
        assert!(config_moves_target_dir(&files[1]));
        write(root, "ws/.cargo/config.toml", "build.target-dir = \"t\"\n");
        assert!(config_moves_target_dir(&files[0]));
        write(root, "ws/.cargo/config.toml", "include = \"other.toml\"\n");
        assert!(config_moves_target_dir(&files[0]));
        write(root, "ws/.cargo/config.toml", "not toml [");
        assert!(config_moves_target_dir(&files[0]));
    }
}
