//! Preparing a command attempt: its working directory, environment, shell, `$MILO_OUTPUT`
//! and `$MILO_CONTEXT` files (in a private scratch folder), then starting it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::action::Stream;
use crate::error::Error;
use crate::exec::attempt::{Command, Pipe, Watch};
use crate::exec::event::EventSink;
use crate::exec::process::CommandRequest;
use crate::exec::run::Run;
use crate::outputs;
use crate::phase::{Handler, Phase};

/// The run's private folder for `$MILO_OUTPUT` and `$MILO_CONTEXT` files, and the context
/// files of finished attempts, ready to be rewritten for the next ones.
#[derive(Debug)]
pub(super) struct Scratch {
    dir: tempfile::TempDir,
    /// The context file every phase without dependencies shares, once written.
    empty_context: Option<PathBuf>,
    free_contexts: Vec<PathBuf>,
    /// How many context files were created (their names).
    contexts_made: usize,
}

impl Scratch {
    /// A private folder, on a memory file system when there is one (creating files there is
    /// far cheaper than on disk).
    pub(super) fn new() -> Result<Self, Error> {
        let candidates =
            [std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from), Some("/dev/shm".into())];
        let on_tmpfs = candidates
            .into_iter()
            .flatten()
            .find_map(|dir| tempfile::Builder::new().prefix("milo-run-").tempdir_in(&dir).ok());
        let dir = match on_tmpfs {
            Some(dir) => dir,
            None => tempfile::Builder::new()
                .prefix("milo-run-")
                .tempdir()
                .map_err(|e| Error::io("creating a scratch folder in", std::env::temp_dir(), e))?,
        };
        Ok(Self { dir, empty_context: None, free_contexts: Vec::new(), contexts_made: 0 })
    }

    /// The context file of an attempt that is over, for the next attempts to reuse (nothing
    /// of that attempt reads it any more: its group is gone).
    pub(super) fn release(&mut self, context: Option<PathBuf>) {
        self.free_contexts.extend(context);
    }

    /// The `$MILO_CONTEXT` file for a phase whose dependencies' results are `deps`, and
    /// whether the attempt owns it: phases without dependencies share one file; the others
    /// get a file of a finished attempt back (rewritten), so that a long pipeline creates and
    /// deletes a handful, not one each.
    fn context_file<'a>(
        &mut self,
        deps: impl ExactSizeIterator<Item = (&'a str, Option<&'a serde_json::Value>)>,
    ) -> Result<(PathBuf, bool), String> {
        let shared = deps.len() == 0;
        if let (true, Some(p)) = (shared, &self.empty_context) {
            return Ok((p.clone(), false));
        }
        let text = outputs::context_json(deps);
        let path = if shared {
            self.dir.path().join("empty.context.json")
        } else if let Some(free) = self.free_contexts.pop() {
            free
        } else {
            self.contexts_made += 1;
            self.dir.path().join(format!("{}.context.json", self.contexts_made))
        };
        if let Err(e) = std::fs::write(&path, text + "\n") {
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        if shared {
            self.empty_context = Some(path.clone());
            return Ok((path, false));
        }
        Ok((path, true))
    }
}

/// Starts attempt `attempt` of command phase `idx` (`results`: every phase's result so far).
pub(super) fn start(
    run: &mut Run,
    results: &[Option<serde_json::Value>],
    idx: usize,
    attempt: u32,
    sink: &EventSink,
) -> Result<Command, String> {
    let Run { pipeline, names, scratch, .. } = run;
    let deps = pipeline.graph().deps(idx);
    let deps = deps.iter().map(|&d| (&*names[d], results[d].as_ref()));
    let (context, owned) = scratch.context_file(deps)?;
    // A path no attempt has used: fresh without creating it (`>>` creates it), which keeps a
    // file creation off every phase's start.
    let output = scratch.dir.path().join(format!("{idx}.{attempt}.output"));
    let result = spawn(run, idx, attempt, sink, &context, &output);
    let context = owned.then_some(context);
    match result {
        Ok((pgid, watch)) => Ok(Command { pgid, output, context, watch }),
        Err(e) => {
            run.scratch.release(context);
            Err(e)
        }
    }
}

/// Builds the request and starts it: the group and how the executor hears of it.
fn spawn(
    run: &Run,
    idx: usize,
    attempt: u32,
    sink: &EventSink,
    context: &Path,
    output: &Path,
) -> Result<(Option<i32>, Watch), String> {
    let pipeline = &run.pipeline;
    let phase: &Phase = &pipeline.phases()[idx];
    let settings = pipeline.settings();
    let base = match &settings.dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let cwd = phase.cwd.as_ref().map_or_else(|| base.clone(), |c| base.join(c));
    let mut env: Vec<(String, String)> =
        settings.env.iter().chain(&phase.env).map(|(k, v)| (k.clone(), v.clone())).collect();
    env.push(("MILO_PIPELINE".into(), pipeline.name().to_owned()));
    env.push(("MILO_PHASE".into(), phase.name.clone()));
    env.push(("MILO_ATTEMPT".into(), attempt.to_string()));
    env.push(("MILO_OUTPUT".into(), output.display().to_string()));
    env.push(("MILO_CONTEXT".into(), context.display().to_string()));
    let (program, args) = match &phase.handler {
        Handler::Shell(line) => shell(line),
        Handler::Args(argv) => match argv.split_first() {
            Some((p, rest)) => (p.clone(), rest.to_vec()),
            None => return Err("empty command".into()),
        },
        Handler::Func(_) => return Err("not a command".into()),
    };
    let request = CommandRequest { program, args, cwd, env, capture: run.capture };
    let started = match run.spawner.spawn(&request, sink) {
        Ok(started) => started,
        // Checked only when the spawn fails: a stat per phase otherwise.
        Err(_) if !request.cwd.is_dir() => {
            return Err(format!("working directory not found: {}", request.cwd.display()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("command not found: {}", request.program));
        }
        Err(e) => return Err(format!("failed to start `{}`: {e}", request.program)),
    };
    let watch = match started.direct {
        Some(direct) => {
            let pipes = match direct.pipes {
                Some((out, err)) => {
                    [Some(Pipe::new(out, Stream::Stdout)), Some(Pipe::new(err, Stream::Stderr))]
                }
                None => [None, None],
            };
            Watch::Direct { child: direct.child, pipes, exit_fd: direct.exit_fd }
        }
        None => Watch::Reported { open: run.capture },
    };
    Ok((started.pgid, watch))
}

/// `/bin/sh -c line` (an absolute path spares a PATH search on every phase; looked up once
/// per process).
fn shell(line: &str) -> (String, Vec<String>) {
    static SH: OnceLock<&str> = OnceLock::new();
    let sh = SH.get_or_init(|| if Path::new("/bin/sh").exists() { "/bin/sh" } else { "sh" });
    ((*sh).into(), vec!["-c".into(), line.into()])
}

/// Every direct dependency's result (`None` for a skipped one), by name: a closure's context.
pub(super) fn dependency_results(
    run: &Run,
    results: &[Option<serde_json::Value>],
    idx: usize,
) -> std::collections::BTreeMap<String, Option<serde_json::Value>> {
    let deps = run.pipeline.graph().deps(idx);
    deps.iter().map(|&d| (run.names[d].to_string(), results[d].clone())).collect()
}
