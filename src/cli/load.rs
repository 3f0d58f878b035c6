//! Loading Milo.toml from the global flags: the one place commands turn `-f` and
//! `--manifest-path` into [`load::load`](crate::load::load) options.

use std::io::Write as _;
use std::path::Path;

use super::GlobalArgs;
use crate::error::Error;
use crate::load::{self, LoadOptions, Loaded};

/// Finds, reads and validates Milo.toml as the global flags say.
pub fn load(global: &GlobalArgs) -> Result<Loaded, Error> {
    let cwd = current_dir()?;
    load::load(&LoadOptions {
        config: global.config.clone(),
        manifest_path: global.manifest_path.clone(),
        cwd,
        cargo_env: None,
    })
}

/// The current directory, or an error naming it (as the shell knows it) when it is gone.
pub fn current_dir() -> Result<std::path::PathBuf, Error> {
    std::env::current_dir().map_err(|e| {
        let path = std::env::var_os("PWD").map_or_else(|| ".".into(), std::path::PathBuf::from);
        Error::io("could not read the current folder", path, e)
    })
}

/// `path` as the user would type it: relative to the current folder when inside it.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    match path.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// Writes `text` to stdout. A closed pipe (`cargo milo order | head -1`) is not an error.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
