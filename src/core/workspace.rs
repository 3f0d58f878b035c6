//! The Cargo workspace as the pipeline sees it: its members, their folders and the
//! dependencies between them. Filled from `cargo metadata` by [`crate::metadata`]; the
//! expansion of per-package phases and `--affected` read it.

use std::path::{Path, PathBuf};

/// How one member depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepKind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`: ignored by `^` (their cycles are legal in Cargo), followed by
    /// `--affected`.
    Dev,
}

/// A dependency on another member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberDep {
    /// The member depended on, an index into [`Workspace::members`].
    pub member: usize,
    /// The kind of dependency.
    pub kind: DepKind,
}

/// A workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// The folder holding its `Cargo.toml` (absolute).
    pub dir: PathBuf,
    /// Its `Cargo.toml` (absolute).
    pub manifest_path: PathBuf,
    /// The members it depends on (through `path` dependencies, whatever they are renamed to).
    pub deps: Vec<MemberDep>,
}

/// A Cargo workspace: its root and members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workspace {
    /// The workspace root folder (absolute).
    pub root: PathBuf,
    /// The members, in the order cargo lists them.
    pub members: Vec<Member>,
    /// The default members (`default-members`, else every member), indexes into `members`.
    pub default_members: Vec<usize>,
}

impl Workspace {
    /// A workspace from members given as `(name, dir, [(dependency dir, kind)])`: each
    /// dependency is a folder, matched to the member living there (others are dropped, as a
    /// `path` dependency outside the workspace is no member). Every member is a default
    /// member.
    pub fn from_dirs<'a>(
        root: impl Into<PathBuf>,
        members: impl IntoIterator<Item = (&'a str, PathBuf, Vec<(PathBuf, DepKind)>)>,
    ) -> Self {
        let listed: Vec<_> = members.into_iter().collect();
        let index_of = |dir: &Path| listed.iter().position(|(_, d, _)| d == dir);
        let members: Vec<Member> = listed
            .iter()
            .map(|(name, dir, deps)| {
                let mut resolved: Vec<MemberDep> = Vec::with_capacity(deps.len());
                for (dep_dir, kind) in deps {
                    if let Some(member) = index_of(dep_dir) {
                        let dep = MemberDep { member, kind: *kind };
                        if !resolved.contains(&dep) {
                            resolved.push(dep);
                        }
                    }
                }
                Member {
                    name: (*name).to_owned(),
                    manifest_path: dir.join("Cargo.toml"),
                    dir: dir.clone(),
                    deps: resolved,
                }
            })
            .collect();
        let default_members = (0..members.len()).collect();
        Self { root: root.into(), members, default_members }
    }

    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|m| m.name == name)
    }

    /// The members `member` depends on through normal or build dependencies, each once.
    pub fn build_deps(&self, member: usize) -> Vec<usize> {
        let mut deps = Vec::new();
        for dep in &self.members[member].deps {
            if dep.kind != DepKind::Dev && !deps.contains(&dep.member) {
                deps.push(dep.member);
            }
        }
        deps
    }

    /// The member whose folder holds `path` (the deepest, as members may nest).
    pub fn owner(&self, path: &Path) -> Option<usize> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| path.starts_with(&m.dir))
            .max_by_key(|(_, m)| m.dir.components().count())
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Workspace {
        let dir = |n: &str| PathBuf::from("/ws").join(n);
        Workspace::from_dirs(
            "/ws",
            [
                ("core", dir("core"), vec![]),
                ("mid", dir("mid"), vec![(dir("core"), DepKind::Normal)]),
                (
                    "app",
                    dir("app"),
                    vec![(dir("mid"), DepKind::Normal), (dir("x"), DepKind::Build)],
                ),
                ("tool", dir("tool"), vec![(dir("core"), DepKind::Dev)]),
            ],
        )
    }

    #[test]
    fn dependencies_are_matched_by_folder() {
        let ws = sample();
        assert_eq!(ws.build_deps(2), [1]);
        assert_eq!(ws.build_deps(3), Vec::<usize>::new());
        assert_eq!(ws.members[3].deps, [MemberDep { member: 0, kind: DepKind::Dev }]);
        assert_eq!(ws.member("mid"), Some(1));
        assert_eq!(ws.default_members, [0, 1, 2, 3]);
    }

    #[test]
    fn the_deepest_member_owns_a_file() {
        let mut ws = sample();
        ws.members.push(Member {
            name: "nested".into(),
            dir: "/ws/core/nested".into(),
            manifest_path: "/ws/core/nested/Cargo.toml".into(),
            deps: vec![],
        });
        assert_eq!(ws.owner(Path::new("/ws/core/src/lib.rs")), Some(0));
        assert_eq!(ws.owner(Path::new("/ws/core/nested/src/lib.rs")), Some(4));
        assert_eq!(ws.owner(Path::new("/ws/README.md")), None);
        assert_eq!(ws.owner(Path::new("/ws/core2/x")), None);
    }
}
