//! `run --affected REV`: which packages the changed files affect, and why. A file belongs to
//! the deepest member folder holding it; a workspace-wide file affects every package; the
//! set closes over reverse dependencies of every kind (a dev-dependency's change re-runs your
//! tests). Pure: the changed files come in from git.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::workspace::Workspace;

/// Why a package is affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A workspace-wide file changed (shown relative to the workspace root).
    Global(String),
    /// Files in its folder changed.
    Changed(usize),
    /// It depends (in any way) on an affected package.
    DependsOn(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global(file) => write!(f, "{file} changed (workspace-wide)"),
            Self::Changed(1) => f.write_str("1 file changed"),
            Self::Changed(n) => write!(f, "{n} files changed"),
            Self::DependsOn(package) => write!(f, "depends on {package}"),
        }
    }
}

/// An affected package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedPackage {
    /// Its name.
    pub name: String,
    /// Why.
    pub reason: Reason,
}

/// The packages affected by the changes since a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    /// The revision as given (`main`).
    pub base: String,
    /// The merge base of the revision and `HEAD` the changes are counted from.
    pub merge_base: String,
    /// The affected packages, in workspace order.
    pub packages: Vec<AffectedPackage>,
    /// How many packages the workspace has.
    pub members: usize,
    /// How many files changed.
    pub changed: usize,
    /// How many of them are in no member folder and workspace-wide for none.
    pub outside: usize,
}

impl Affected {
    /// Whether `package` is affected.
    pub fn contains(&self, package: &str) -> bool {
        self.packages.iter().any(|p| p.name == package)
    }

    /// The plan's account: a header line, then one line per affected package and why.
    pub fn describe(&self) -> String {
        let short = &self.merge_base[..self.merge_base.len().min(10)];
        let mut out = format!(
            "affected since `{}` (merge base {short}): {} of {} packages",
            self.base,
            self.packages.len(),
            self.members
        );
        if self.outside > 0 {
            let files = if self.outside == 1 { "file" } else { "files" };
            let _ = write!(out, "; {} changed {files} in no package", self.outside);
        }
        out.push('\n');
        let width = self.packages.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &self.packages {
            let _ = writeln!(out, "  {:<width$}  {}", p.name, p.reason);
        }
        out
    }
}

/// Why a workspace-wide glob is wrong: its position in `affected_global` and the error.
#[derive(Debug)]
pub struct BadGlob {
    /// The index in the list.
    pub index: usize,
    /// What the glob parser said.
    pub error: globset::Error,
}

/// Compiles `affected_global` globs (`*` does not cross `/`; `**` does).
pub fn global_globs(patterns: &[String]) -> Result<GlobSet, BadGlob> {
    let mut builder = GlobSetBuilder::new();
    for (index, pattern) in patterns.iter().enumerate() {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|error| BadGlob { index, error })?;
        builder.add(glob);
    }
    builder.build().map_err(|error| BadGlob { index: 0, error })
}

/// The files whose change affects every package.
#[derive(Debug, Clone)]
pub struct GlobalFiles {
    root: PathBuf,
    milo_file: PathBuf,
    milo_dir: PathBuf,
    user: GlobSet,
}

impl GlobalFiles {
    /// `Cargo.lock` and `Cargo.toml` at `root`, `rust-toolchain*` and `.cargo/config*` at
    /// `root` or above, `milo_file`, and the files `user` globs match relative to
    /// `milo_file`'s folder.
    pub fn new(root: impl Into<PathBuf>, milo_file: impl Into<PathBuf>, user: GlobSet) -> Self {
        let milo_file = milo_file.into();
        let milo_dir = milo_file.parent().map(Path::to_path_buf).unwrap_or_default();
        Self { root: root.into(), milo_file, milo_dir, user }
    }

    /// Whether `file` (absolute) is workspace-wide.
    pub fn contains(&self, file: &Path) -> bool {
        if file == self.milo_file {
            return true;
        }
        if file.strip_prefix(&self.milo_dir).is_ok_and(|rel| self.user.is_match(rel)) {
            return true;
        }
        let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else { return false };
        let name = name.to_string_lossy();
        let at_or_above = |dir: &Path| self.root.starts_with(dir);
        (dir == self.root && (name == "Cargo.lock" || name == "Cargo.toml"))
            || (at_or_above(dir) && name.starts_with("rust-toolchain"))
            || (dir.file_name().is_some_and(|d| d == ".cargo")
                && dir.parent().is_some_and(at_or_above)
                && name.starts_with("config"))
    }
}

/// The packages of `workspace` affected by the changed `files` (absolute paths).
pub fn affected(
    workspace: &Workspace,
    files: &[PathBuf],
    global: &GlobalFiles,
    base: &str,
    merge_base: &str,
) -> Affected {
    let n = workspace.members.len();
    let mut reasons: Vec<Option<Reason>> = vec![None; n];
    let mut outside = 0;
    let global_file = files.iter().find(|f| global.contains(f));
    if let Some(file) = global_file {
        let shown = file.strip_prefix(&workspace.root).unwrap_or(file).display().to_string();
        reasons.fill(Some(Reason::Global(shown)));
    } else {
        let mut counts = vec![0usize; n];
        for file in files {
            match workspace.owner(file) {
                Some(m) => counts[m] += 1,
                None => outside += 1,
            }
        }
        for (reason, count) in reasons.iter_mut().zip(counts) {
            if count > 0 {
                *reason = Some(Reason::Changed(count));
            }
        }
        // Reverse dependencies of every kind, breadth first from the changed packages.
        let mut dependents = vec![Vec::new(); n];
        for (i, member) in workspace.members.iter().enumerate() {
            for dep in &member.deps {
                dependents[dep.member].push(i);
            }
        }
        let mut queue: VecDeque<usize> = (0..n).filter(|&i| reasons[i].is_some()).collect();
        while let Some(m) = queue.pop_front() {
            for &d in &dependents[m] {
                if reasons[d].is_none() {
                    reasons[d] = Some(Reason::DependsOn(workspace.members[m].name.clone()));
                    queue.push_back(d);
                }
            }
        }
    }
    let packages = workspace
        .members
        .iter()
        .zip(reasons)
        .filter_map(|(m, r)| r.map(|reason| AffectedPackage { name: m.name.clone(), reason }))
        .collect();
    Affected {
        base: base.to_owned(),
        merge_base: merge_base.to_owned(),
        packages,
        members: n,
        changed: files.len(),
        outside,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::DepKind;

    fn workspace() -> Workspace {
        let dir = |n: &str| PathBuf::from("/repo/ws").join(n);
        Workspace::from_dirs(
            "/repo/ws",
            [
                ("core", dir("core"), vec![]),
                ("mid", dir("mid"), vec![(dir("core"), DepKind::Normal)]),
                ("app", dir("app"), vec![(dir("mid"), DepKind::Normal)]),
                ("tool", dir("tool"), vec![(dir("core"), DepKind::Dev)]),
            ],
        )
    }

    fn run(files: &[&str], user: &[&str]) -> Affected {
        let user: Vec<String> = user.iter().map(|s| (*s).to_owned()).collect();
        let global = GlobalFiles::new(
            "/repo/ws",
            "/repo/ws/Milo.toml",
            global_globs(&user).expect("valid globs"),
        );
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        affected(&workspace(), &files, &global, "main", "0123456789abcdef")
    }

    fn names(a: &Affected) -> Vec<(&str, String)> {
        a.packages.iter().map(|p| (p.name.as_str(), p.reason.to_string())).collect()
    }

    #[test]
    fn a_change_affects_its_package_and_every_dependent() {
        let a = run(&["/repo/ws/mid/src/lib.rs", "/repo/ws/mid/Cargo.toml"], &[]);
        assert_eq!(
            names(&a),
            [("mid", "2 files changed".into()), ("app", "depends on mid".into())]
        );
        // A dev-dependency counts: tool's tests use core.
        let a = run(&["/repo/ws/core/src/lib.rs"], &[]);
        assert_eq!(
            names(&a),
            [
                ("core", "1 file changed".into()),
                ("mid", "depends on core".into()),
                ("app", "depends on mid".into()),
                ("tool", "depends on core".into()),
            ]
        );
    }

    #[test]
    fn workspace_wide_files_affect_everything() {
        for file in [
            "/repo/ws/Cargo.lock",
            "/repo/ws/Cargo.toml",
            "/repo/ws/Milo.toml",
            "/repo/rust-toolchain.toml",
            "/repo/.cargo/config.toml",
            "/repo/ws/.cargo/config",
        ] {
            let a = run(&["/repo/ws/README.md", file], &[]);
            assert_eq!(a.packages.len(), 4, "{file}");
            assert!(matches!(&a.packages[0].reason, Reason::Global(_)), "{file}");
        }
        let a = run(&["/repo/ws/deny.toml"], &["deny.toml", "ci/*.yml"]);
        assert_eq!(names(&a)[0], ("core", "deny.toml changed (workspace-wide)".into()));
        assert_eq!(run(&["/repo/ws/ci/a.yml"], &["ci/*.yml"]).packages.len(), 4);
        assert_eq!(run(&["/repo/ws/ci/x/a.yml"], &["ci/*.yml"]).packages.len(), 0);
    }

    #[test]
    fn files_outside_every_member_affect_nothing() {
        let a =
            run(&["/repo/ws/README.md", "/repo/other/Cargo.lock", "/repo/ws/mid/Cargo.lock"], &[]);
        assert_eq!(names(&a), [("mid", "1 file changed".into()), ("app", "depends on mid".into())]);
        assert_eq!((a.changed, a.outside), (3, 2));
        assert!(a.describe().starts_with(
            "affected since `main` (merge base 0123456789): 2 of 4 packages; 2 changed files in no package\n"
        ));
        assert_eq!(run(&["/repo/ws/README.md"], &[]).packages, []);
    }

    #[test]
    fn bad_globs_say_which() {
        let err = global_globs(&["ok".into(), "a[".into()]).expect_err("unclosed class");
        assert_eq!(err.index, 1);
    }
}
