//! What a server describes: a pipeline (built in code, or Milo.toml read again at every
//! request so that edits show at once) and where its timeline is recorded.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::Error;
use crate::load::{self, LoadOptions};
use crate::pipeline::Pipeline;

/// Where the pipeline comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// No pipeline: the server shows only the active pipeline and the timeline file.
    None,
    /// A pipeline built in code.
    Fixed(Arc<Pipeline>),
    /// Milo.toml, found and read as `cargo milo` does.
    File(LoadOptions),
}

/// A pipeline as loaded for one request.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    /// The Milo.toml it was read from.
    pub file: Option<PathBuf>,
    /// The pipeline.
    pub pipeline: Arc<Pipeline>,
    /// Where its timeline is recorded.
    pub timeline: Option<PathBuf>,
}

/// The pipeline source and the paths last seen, for the watcher (which must not read
/// Milo.toml five times a second).
#[derive(Debug)]
pub(crate) struct Project {
    source: Source,
    /// A timeline path given by the caller; it wins over Milo.toml's.
    timeline: Option<PathBuf>,
    /// The Milo.toml and timeline of the last successful load.
    seen: Mutex<(Option<PathBuf>, Option<PathBuf>)>,
    /// The timeline under the target directory, by Milo.toml: finding that directory may
    /// run `cargo metadata`, too slow for every request.
    in_target_dir: Mutex<Option<(PathBuf, PathBuf)>>,
}

impl Project {
    /// A project over `source`, recording timelines at `timeline` when given.
    pub fn new(source: Source, timeline: Option<PathBuf>) -> Self {
        let project = Self {
            source,
            timeline,
            seen: Mutex::new((None, None)),
            in_target_dir: Mutex::new(None),
        };
        // Learn the paths once; a broken Milo.toml is reported when someone asks.
        let _ = project.describe();
        project
    }

    /// Loads the pipeline as it is now. `Ok(None)` when the server has none.
    pub fn describe(&self) -> Result<Option<Described>, Error> {
        let described = match &self.source {
            Source::None => return Ok(None),
            Source::Fixed(pipeline) => Described {
                file: None,
                pipeline: Arc::clone(pipeline),
                timeline: self.timeline.clone(),
            },
            Source::File(options) => {
                let loaded = load::load(options)?;
                let timeline = match (&self.timeline, &loaded.timeline_in_file) {
                    (Some(path), _) | (None, Some(path)) => path.clone(),
                    // The target directory may take `cargo metadata`: ask once per Milo.toml.
                    (None, None) => {
                        let mut cached = lock(&self.in_target_dir);
                        match &*cached {
                            Some((file, path)) if *file == loaded.path => path.clone(),
                            _ => {
                                let path = loaded.timeline()?;
                                *cached = Some((loaded.path.clone(), path.clone()));
                                path
                            }
                        }
                    }
                };
                Described {
                    file: Some(loaded.path),
                    pipeline: Arc::new(loaded.pipeline),
                    timeline: Some(timeline),
                }
            }
        };
        *lock(&self.seen) = (described.file.clone(), described.timeline.clone());
        Ok(Some(described))
    }

    /// The timeline file: the caller's, else the one of the last successful load.
    pub fn timeline_path(&self) -> Option<PathBuf> {
        self.timeline.clone().or_else(|| self.seen().1)
    }

    /// The Milo.toml of the last successful load.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.seen().0
    }

    fn seen(&self) -> (Option<PathBuf>, Option<PathBuf>) {
        lock(&self.seen).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
