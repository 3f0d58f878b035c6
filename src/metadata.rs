//! Asking Cargo about the workspace: the target directory and the members, through
//! `cargo metadata --no-deps --format-version 1` (the `cargo_metadata` crate), run at most
//! once and only when the answer is not certain without it.
//!
//! A pipeline without per-package phases needs only the target directory, and that is
//! certain without cargo when `CARGO_TARGET_DIR` / `CARGO_BUILD_TARGET_DIR` is set, when
//! there is no Cargo project, or when no Cargo config file could move it (see
//! [`discover::config_moves_target_dir`]): then no process is spawned.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, Package, PackageId};

use crate::discover::{self, Project};
use crate::error::Error;
use crate::workspace::{DepKind, Member, MemberDep, Workspace};

/// Where the target directory came from (`-v` says it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSource {
    /// `CARGO_TARGET_DIR` or `CARGO_BUILD_TARGET_DIR`.
    Variable(&'static str),
    /// `<workspace root>/target`: no Cargo config file could move it.
    WorkspaceDefault,
    /// `cargo metadata` said so.
    Metadata,
    /// No `Cargo.toml` above Milo.toml: `target/` beside it.
    NoCargo,
    /// Cargo config files could move it but cargo could not run: `target/` beside Milo.toml.
    CargoUnavailable(String),
}

impl fmt::Display for TargetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Variable(name) => write!(f, "target dir from {name}"),
            Self::WorkspaceDefault => {
                f.write_str("the workspace's target dir: no Cargo config file moves it")
            }
            Self::Metadata => f.write_str("target dir from `cargo metadata`"),
            Self::NoCargo => f.write_str("no Cargo.toml above Milo.toml: target/ beside it"),
            Self::CargoUnavailable(why) => {
                write!(f, "cargo could not run ({why}): target/ beside Milo.toml")
            }
        }
    }
}

/// The answer of one `cargo metadata` run.
#[derive(Debug)]
struct Answer {
    workspace: Workspace,
    target_dir: PathBuf,
}

/// The environment variables discovery reads, captured once.
#[derive(Debug, Clone, Default)]
pub struct CargoEnv {
    /// `CARGO`: the cargo binary (set by cargo for subcommands).
    pub cargo: Option<OsString>,
    /// `CARGO_TARGET_DIR`.
    pub target_dir: Option<OsString>,
    /// `CARGO_BUILD_TARGET_DIR`.
    pub build_target_dir: Option<OsString>,
    /// `CARGO_HOME`, else `$HOME/.cargo`.
    pub cargo_home: Option<PathBuf>,
}

impl CargoEnv {
    /// Reads the variables through `env` (empty values count as unset).
    pub fn read(env: impl Fn(&str) -> Option<OsString>) -> Self {
        let set = |key: &str| env(key).filter(|v| !v.is_empty());
        Self {
            cargo: set("CARGO"),
            target_dir: set("CARGO_TARGET_DIR"),
            build_target_dir: set("CARGO_BUILD_TARGET_DIR"),
            cargo_home: set("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| set("HOME").map(|home| Path::new(&home).join(".cargo"))),
        }
    }

    /// From the process environment.
    pub fn from_process() -> Self {
        Self::read(|key| std::env::var_os(key))
    }
}

/// The Cargo side of a loaded Milo.toml: asked lazily, at most one `cargo metadata` run.
#[derive(Debug)]
pub struct Cargo {
    /// The folder cargo is asked from: Milo.toml's, where the phases run.
    dir: PathBuf,
    /// `--manifest-path`, when given.
    manifest_path: Option<PathBuf>,
    env: CargoEnv,
    project: OnceCell<Option<Project>>,
    answer: OnceCell<Result<Answer, MetadataError>>,
}

/// Why `cargo metadata` gave no answer.
#[derive(Debug, Clone)]
enum MetadataError {
    /// Cargo could not be started.
    Unavailable(String),
    /// Cargo ran and failed (a broken `Cargo.toml`): its own message.
    Failed(String),
}

impl Cargo {
    /// The Cargo context of a Milo.toml in `dir`; `manifest_path` is `--manifest-path`.
    /// Nothing is read or run yet.
    pub fn new(dir: impl Into<PathBuf>, manifest_path: Option<PathBuf>, env: CargoEnv) -> Self {
        Self {
            dir: dir.into(),
            manifest_path,
            env,
            project: OnceCell::new(),
            answer: OnceCell::new(),
        }
    }

    /// The Cargo project as its `Cargo.toml` files say (read once, no cargo run).
    pub fn project(&self) -> Option<&Project> {
        self.project
            .get_or_init(|| {
                let start = self
                    .manifest_path
                    .as_deref()
                    .and_then(Path::parent)
                    .unwrap_or(self.dir.as_path());
                discover::project(start)
            })
            .as_ref()
    }

    /// Whether `cargo metadata` has been run.
    pub fn asked(&self) -> bool {
        self.answer.get().is_some()
    }

    /// The workspace, when `cargo metadata` has already described it (asks nothing).
    pub fn known_workspace(&self) -> Option<&Workspace> {
        self.answer.get()?.as_ref().ok().map(|a| &a.workspace)
    }

    /// For `-v`: the workspace root and how it was learnt (`/ws: 4 members, from cargo
    /// metadata`); `None` outside a Cargo project.
    pub fn describe(&self) -> Option<String> {
        let project = self.project()?;
        let root = project.root.display();
        Some(match self.answer.get() {
            Some(Ok(Answer { workspace: ws, .. })) => {
                let plural = if ws.members.len() == 1 { "member" } else { "members" };
                format!(
                    "{}: {} {plural}, from `cargo metadata`",
                    ws.root.display(),
                    ws.members.len()
                )
            }
            Some(Err(_)) => format!("{root}: from its Cargo.toml files (`cargo metadata` failed)"),
            None => format!("{root}: from its Cargo.toml files (cargo not run)"),
        })
    }

    /// The target directory and where it came from; runs `cargo metadata` only when a Cargo
    /// config file could move it and no variable settles it.
    pub fn target_dir(&self) -> Result<(PathBuf, TargetSource), Error> {
        let variable = [
            ("CARGO_TARGET_DIR", &self.env.target_dir),
            ("CARGO_BUILD_TARGET_DIR", &self.env.build_target_dir),
        ]
        .into_iter()
        .find_map(|(name, value)| value.as_ref().map(|v| (name, v)));
        if let Some((name, value)) = variable {
            return Ok((self.dir.join(value), TargetSource::Variable(name)));
        }
        let beside = self.dir.join("target");
        let Some(project) = self.project() else { return Ok((beside, TargetSource::NoCargo)) };
        if let Some(Ok(answer)) = self.answer.get() {
            return Ok((answer.target_dir.clone(), TargetSource::Metadata));
        }
        let settled = !discover::config_files(&self.dir, self.env.cargo_home.as_deref())
            .iter()
            .any(|file| discover::config_moves_target_dir(file));
        if settled {
            return Ok((project.root.join("target"), TargetSource::WorkspaceDefault));
        }
        match self.answer() {
            Ok(answer) => Ok((answer.target_dir.clone(), TargetSource::Metadata)),
            Err(MetadataError::Unavailable(why)) => {
                Ok((beside, TargetSource::CargoUnavailable(why.clone())))
            }
            Err(MetadataError::Failed(message)) => Err(cargo_failed(message)),
        }
    }

    /// The workspace's members, from `cargo metadata`; `None` outside a Cargo project.
    pub fn workspace(&self) -> Result<Option<&Workspace>, Error> {
        if self.project().is_none() {
            return Ok(None);
        }
        match self.answer() {
            Ok(answer) => Ok(Some(&answer.workspace)),
            Err(MetadataError::Unavailable(why)) => Err(Error::usage(
                format!("per-package phases need `cargo metadata`, and cargo could not run: {why}"),
                "install Rust with rustup, or set CARGO to the path of cargo",
            )),
            Err(MetadataError::Failed(message)) => Err(cargo_failed(message)),
        }
    }

    fn answer(&self) -> Result<&Answer, &MetadataError> {
        self.answer
            .get_or_init(|| {
                let mut command = cargo_metadata::MetadataCommand::new();
                command.no_deps().current_dir(&self.dir);
                if let Some(cargo) = &self.env.cargo {
                    command.cargo_path(cargo);
                }
                if let Some(manifest) =
                    self.manifest_path.as_ref().or(self.project().map(|p| &p.manifest))
                {
                    command.manifest_path(manifest);
                }
                match command.exec() {
                    Ok(metadata) => Ok(Answer {
                        target_dir: metadata.target_directory.clone().into_std_path_buf(),
                        workspace: workspace_of(&metadata),
                    }),
                    Err(cargo_metadata::Error::CargoMetadata { stderr }) => {
                        Err(MetadataError::Failed(stderr.trim_end().to_owned()))
                    }
                    Err(cargo_metadata::Error::Io(e)) => {
                        Err(MetadataError::Unavailable(e.to_string()))
                    }
                    Err(other) => Err(MetadataError::Failed(format!(
                        "error: `cargo metadata` answered something unexpected: {other}"
                    ))),
                }
            })
            .as_ref()
    }
}

/// `cargo metadata` failed and said why on stderr.
fn cargo_failed(stderr: &str) -> Error {
    Error::Cargo { command: "cargo metadata".to_owned(), stderr: stderr.to_owned() }
}

/// The workspace model of a `cargo metadata --no-deps` answer: dependencies matched to
/// members by the folder their `path` points at, so renamed dependencies count.
fn workspace_of(metadata: &cargo_metadata::Metadata) -> Workspace {
    fn dir_of(p: &Package) -> &str {
        p.manifest_path.parent().map_or("", |d| d.as_str())
    }
    // Looked up by id and by folder text: hundreds of members make linear scans (and
    // `Path`'s component-wise comparison) the slowest part of loading.
    let by_id: HashMap<&PackageId, &Package> =
        metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let packages: Vec<&Package> =
        metadata.workspace_members.iter().filter_map(|id| by_id.get(id).copied()).collect();
    let index: HashMap<&str, usize> =
        packages.iter().enumerate().map(|(i, p)| (dir_of(p), i)).collect();
    let members: Vec<Member> = packages
        .iter()
        .map(|package| {
            let mut deps: Vec<MemberDep> = Vec::new();
            for dep in &package.dependencies {
                let Some(&member) = dep.path.as_ref().and_then(|p| index.get(p.as_str())) else {
                    continue;
                };
                let kind = match dep.kind {
                    DependencyKind::Development => DepKind::Dev,
                    DependencyKind::Build => DepKind::Build,
                    _ => DepKind::Normal,
                };
                let dep = MemberDep { member, kind };
                if !deps.contains(&dep) {
                    deps.push(dep);
                }
            }
            Member {
                name: package.name.to_string(),
                dir: PathBuf::from(dir_of(package)),
                manifest_path: package.manifest_path.clone().into_std_path_buf(),
                deps,
            }
        })
        .collect();
    // Cargo before 1.71 does not list default members: then every member is one.
    let defaults = &metadata.workspace_default_members;
    let default_members = if defaults.is_available() {
        let packages = defaults.iter().filter_map(|id| by_id.get(id));
        packages.filter_map(|p| index.get(dir_of(p)).copied()).collect()
    } else {
        (0..members.len()).collect()
    };
    Workspace {
        root: metadata.workspace_root.clone().into_std_path_buf(),
        members,
        default_members,
    }
}
