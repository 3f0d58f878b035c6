//! Loading Milo.toml: finding the file, reading it, and the timeline's default place.
//! Parsing and validation are pure and live in [`crate::config`].

use std::path::{Path, PathBuf};

use crate::affected::{self, Affected, GlobalFiles};
use crate::config::parse_in;
use crate::diagnostic::Diagnostic;
use crate::discover;
use crate::error::Error;
use crate::git;
use crate::metadata::{Cargo, CargoEnv};
use crate::pipeline::Pipeline;

/// Where to look for Milo.toml.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f/--config`: this file, no search.
    pub config: Option<PathBuf>,
    /// `--manifest-path`: search from this Cargo.toml's folder.
    pub manifest_path: Option<PathBuf>,
    /// The folder to search from (normally the current directory).
    pub cwd: PathBuf,
    /// The Cargo variables to honour; `None` reads the process environment.
    pub cargo_env: Option<CargoEnv>,
}

/// A loaded, validated Milo.toml.
#[derive(Debug)]
pub struct Loaded {
    /// The file that was read.
    pub path: PathBuf,
    /// The pipeline it describes (relative paths already resolved against its folder).
    pub pipeline: Pipeline,
    /// `timeline` from the file (resolved against its folder), when it sets one.
    pub timeline_in_file: Option<PathBuf>,
    /// The Cargo workspace around the file, asked lazily.
    pub cargo: Cargo,
}

impl Loaded {
    /// Where the timeline goes: `timeline` from the file, else
    /// `<target dir>/milo/timeline.json` (which may run `cargo metadata`, see [`Cargo`]).
    pub fn timeline(&self) -> Result<PathBuf, Error> {
        self.explained_timeline().map(|(path, _)| path)
    }

    /// [`timeline`](Self::timeline) and where it came from, for `-v`: `` `timeline` in
    /// Milo.toml`` or the target directory's source.
    pub fn explained_timeline(&self) -> Result<(PathBuf, String), Error> {
        if let Some(path) = &self.timeline_in_file {
            return Ok((path.clone(), "`timeline` in Milo.toml".to_owned()));
        }
        let (dir, source) = self.cargo.target_dir()?;
        Ok((dir.join("milo").join("timeline.json"), source.to_string()))
    }
}

impl Loaded {
    /// The workspace's packages affected by the changes since `rev` (git: the merge base
    /// with `HEAD`, uncommitted and untracked files included), and why.
    pub fn affected(&self, rev: &str) -> Result<Affected, Error> {
        let Some(workspace) = self.cargo.workspace()? else {
            return Err(Error::usage(
                "`--affected` needs a Cargo workspace, and there is no Cargo.toml above Milo.toml",
                "run it in a Cargo project, or drop --affected to run everything",
            ));
        };
        let changes = git::changes_since(&workspace.root, rev)?;
        // git answers with real paths: compare them with real paths.
        let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let mut workspace = workspace.clone();
        workspace.root = real(&workspace.root);
        for member in &mut workspace.members {
            member.dir = real(&member.dir);
        }
        let globs =
            affected::global_globs(&self.pipeline.settings().affected_global).map_err(|bad| {
                Error::usage(
                    format!("invalid `affected_global` glob: {}", bad.error),
                    "fix it in Milo.toml",
                )
            })?;
        let global = GlobalFiles::new(&workspace.root, real(&self.path), globs);
        Ok(affected::affected(&workspace, &changes.files, &global, rev, &changes.merge_base))
    }
}

/// Finds, reads and validates Milo.toml. Runs nothing: the Cargo side is asked later, and
/// only when needed.
pub fn load(options: &LoadOptions) -> Result<Loaded, Error> {
    let path = locate(options)?;
    let shown = path.strip_prefix(&options.cwd).unwrap_or(&path);
    let text = read(&path, shown)?;
    let dir = path.parent().map_or_else(|| options.cwd.clone(), Path::to_path_buf);
    let env = options.cargo_env.clone().unwrap_or_else(CargoEnv::from_process);
    let manifest_path = options.manifest_path.as_ref().map(|m| options.cwd.join(m));
    let cargo = Cargo::new(dir.clone(), manifest_path, env);
    let (pipeline, timeline_in_file) = parse_in(&text, shown, &dir, || cargo.workspace())?;
    Ok(Loaded { path, pipeline, timeline_in_file, cargo })
}

/// The file to read: `-f`, or a search from `--manifest-path`'s folder or the cwd.
fn locate(options: &LoadOptions) -> Result<PathBuf, Error> {
    if let Some(config) = &options.config {
        let path = options.cwd.join(config);
        if !path.is_file() {
            return Err(Error::usage(
                format!("config file `{}` does not exist or is not a file", config.display()),
                "check the path given to -f/--config",
            ));
        }
        return Ok(path);
    }
    let start = match &options.manifest_path {
        Some(manifest) => {
            let manifest = options.cwd.join(manifest);
            if !manifest.is_file() {
                let problem = if manifest.is_dir() { "is a folder" } else { "does not exist" };
                return Err(Error::usage(
                    format!("manifest path `{}` {problem}", manifest.display()),
                    "pass the path of a Cargo.toml to --manifest-path",
                ));
            }
            manifest.parent().map_or_else(|| options.cwd.clone(), Path::to_path_buf)
        }
        None => options.cwd.clone(),
    };
    discover::find(&start).map_err(|searched| {
        let last = searched.last().map_or_else(|| start.clone(), Clone::clone);
        Error::usage(
            format!(
                "could not find `{}` in `{}` or any parent folder up to `{}`",
                discover::FILE_NAME,
                start.display(),
                last.display()
            ),
            "run `cargo milo init` to create one, or pass its path with -f/--config",
        )
    })
}

/// Reads the Milo.toml at `path` (shown in messages as `shown`). Bytes that are not UTF-8
/// are a located [`Error::Config`], like every other problem in the file.
pub fn read(path: &Path, shown: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("could not read", path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let d = Diagnostic::new("the file is not valid UTF-8", at..at)
            .label("invalid byte here")
            .help("save Milo.toml as UTF-8");
        Error::config(shown, text, vec![d])
    })
}
