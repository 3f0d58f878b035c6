//! `cargo milo export github|gitlab [-o PATH]`: the pipeline as CI jobs (see
//! [`crate::export`]), written to stdout or a file.

use std::path::{Path, PathBuf};

use super::load::{current_dir, load, print, shown};
use super::{ExportArgs, GlobalArgs};
use crate::error::Error;
use crate::export::{ExportContext, ExportError, export};

/// Writes the CI file for the loaded pipeline.
pub fn execute(global: &GlobalArgs, args: &ExportArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    let cwd = current_dir()?;
    let file = cwd.join(&loaded.path);
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let root = repository_root(&dir);
    let config = file.strip_prefix(&root).ok().filter(|rel| *rel != Path::new("Milo.toml"));
    let config = match config {
        Some(rel) => Some(slashed(rel)),
        None if file.starts_with(&root) => None,
        None => Some(file.display().to_string()),
    };
    let output = args.output.as_ref().map(|o| cwd.join(o));
    let mut command = format!("cargo milo export {}", args.ci.name());
    if let Some(out) = &output {
        let rel = out.strip_prefix(&root).map_or_else(|_| out.display().to_string(), slashed);
        command = format!("{command} -o {rel}");
    }
    let context = ExportContext { root: root.clone(), config, command };
    let text =
        export(&loaded.pipeline, args.ci.into(), &context).map_err(|e| explain(&e, &root))?;
    match output {
        Some(out) => {
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io("creating the folder", parent, e))?;
            }
            std::fs::write(&out, text).map_err(|e| Error::io("writing", &out, e))?;
            if !global.quiet {
                eprintln!(
                    "     Written `{}`: {} job(s) and the merge job; jobs run at `{}`",
                    shown(&out),
                    loaded.pipeline.phases().len(),
                    shown(&root)
                );
            }
        }
        None => print(&text),
    }
    Ok(())
}

/// The nearest folder from `dir` up holding `.git` (where CI checks the repository out),
/// else `dir` itself.
fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors().find(|d| d.join(".git").exists()).unwrap_or(dir).to_path_buf()
}

/// A relative path with `/` between its parts, as a CI file names it.
fn slashed(path: &Path) -> String {
    let parts: Vec<String> = path.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    parts.join("/")
}

/// The usage error for a pipeline CI cannot run.
fn explain(e: &ExportError, root: &Path) -> Error {
    let help = match e {
        ExportError::Closure { .. } => {
            "export a pipeline whose phases are commands (`cmd` or `args`)".to_owned()
        }
        ExportError::CwdOutside { .. } => format!(
            "keep `cwd` inside the repository (`{}`): a CI job has nothing else",
            shown(root)
        ),
        ExportError::Collision { second: Some(_), .. } => {
            "rename one of the phases in Milo.toml".to_owned()
        }
        ExportError::Collision { second: None, .. } => "rename the phase in Milo.toml".to_owned(),
        ExportError::Yaml(_) => "report this: the YAML writer failed".to_owned(),
    };
    Error::usage(e.to_string(), help)
}
