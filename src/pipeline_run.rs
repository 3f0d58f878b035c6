//! The library's entry points on [`Pipeline`]: load one from Milo.toml, and run it.

use std::path::Path;

use crate::error::Error;
use crate::exec::{self, Finished, RunOptions};
use crate::metadata::{Cargo, CargoEnv};
use crate::pipeline::Pipeline;

/// The usage error for targets that name no phase, with the closest name.
fn unknown_targets(unknown: &[(String, Option<String>)]) -> Error {
    let names: Vec<String> = unknown.iter().map(|(n, _)| format!("`{n}`")).collect();
    let help = unknown
        .iter()
        .find_map(|(n, s)| s.as_ref().map(|s| format!("did you mean `{s}` instead of `{n}`?")))
        .unwrap_or_else(|| "see the phases with `cargo milo list`".to_owned());
    Error::usage(format!("no phase named {} in Milo.toml", names.join(", ")), help)
}

impl Pipeline {
    /// Parses and validates Milo.toml text. Relative paths (`cwd`) resolve against the
    /// current directory; use [`from_path`](Self::from_path) to resolve them against a file's
    /// folder. Errors are the same located diagnostics `cargo milo check` prints.
    ///
    /// ```
    /// use milo::Pipeline;
    /// let pipeline = Pipeline::from_toml_str(r#"
    ///     [pipeline]
    ///     name = "codegen"
    ///     [[pipeline.phase]]
    ///     name = "schema"
    ///     cmd = "echo schema"
    ///     [[pipeline.phase]]
    ///     name = "bindings"
    ///     args = ["echo", "bindings"]
    ///     depends_on = ["schema"]
    /// "#)?;
    /// assert_eq!(pipeline.execution_order(), ["schema", "bindings"]);
    ///
    /// let err = Pipeline::from_toml_str("[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\ndepends_on = [\"b\"]\n")
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("Milo.toml:4:"), "{err}");
    /// # Ok::<(), milo::Error>(())
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self, Error> {
        // Named after the current folder, as a Milo.toml found there would be.
        let path = std::path::absolute("Milo.toml").unwrap_or_else(|_| "Milo.toml".into());
        let dir = path.parent().unwrap_or(Path::new("."));
        let cargo = Cargo::new(dir, None, CargoEnv::from_process());
        crate::config::parse_in(text, Path::new("Milo.toml"), dir, || cargo.workspace())
            .map(|(pipeline, _)| pipeline)
    }

    /// Reads, parses and validates the Milo.toml at `path`; relative paths in it resolve
    /// against its folder.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = crate::load::read(path, path)?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = absolute.parent().unwrap_or(Path::new("."));
        let cargo = Cargo::new(dir, None, CargoEnv::from_process());
        crate::config::parse_in(&text, path, dir, || cargo.workspace())
            .map(|(pipeline, _)| pipeline)
    }

    /// A pipeline of `targets` and everything they depend on (all phases when `targets` is
    /// empty), like [`select`](Self::select); unknown names make a usage error that names
    /// them and suggests the closest phase.
    ///
    /// ```
    /// use milo::{Phase, Pipeline};
    /// let pipeline = Pipeline::new("ci")
    ///     .phase(Phase::cmd("build", "true"))
    ///     .phase(Phase::cmd("test", "true").depends_on(["build"]))
    ///     .build()?;
    /// assert_eq!(pipeline.select_targets(&["test".into()])?.phases().len(), 2);
    /// let err = pipeline.select_targets(&["tset".into()]).unwrap_err().to_string();
    /// assert!(err.contains("no phase named `tset`") && err.contains("did you mean `test`"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn select_targets(&self, targets: &[String]) -> Result<Self, Error> {
        self.select(targets).map_err(|unknown| unknown_targets(&unknown))
    }

    /// The positions of exactly `targets` (a per-package phase's name: all its instances),
    /// for `run --only`; unknown names make a usage error like
    /// [`select_targets`](Self::select_targets)'s.
    ///
    /// ```
    /// use milo::{Phase, Pipeline};
    /// let pipeline = Pipeline::new("ci")
    ///     .phase(Phase::cmd("build", "true"))
    ///     .phase(Phase::cmd("test", "true").depends_on(["build"]))
    ///     .build()?;
    /// assert_eq!(pipeline.only_targets(&["test".into()])?, [1]);
    /// let err = pipeline.only_targets(&["tset".into()]).unwrap_err().to_string();
    /// assert!(err.contains("did you mean `test`"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn only_targets(&self, targets: &[String]) -> Result<Vec<usize>, Error> {
        self.find_targets(targets).map_err(|unknown| unknown_targets(&unknown))
    }

    /// Runs the pipeline to its end and returns the final state, with what of its record
    /// could not be written (see [`exec::run`]).
    ///
    /// A pipeline that fails or is cancelled is still `Ok`: look at the state's `status`.
    ///
    /// ```
    /// use std::io::Write;
    /// use milo::{Phase, Pipeline, PipelineStatus, exec::RunOptions};
    /// let pipeline = Pipeline::new("codegen")
    ///     .phase(Phase::cmd("version", "echo version=1.2.3 >> \"$MILO_OUTPUT\""))
    ///     .phase(
    ///         Phase::func("banner", |ctx| {
    ///             let version = ctx.dependency("version").and_then(|r| r["outputs"]["version"].as_str());
    ///             let version = version.unwrap_or("unknown").to_owned();
    ///             writeln!(ctx.stdout(), "generating for {version}")?;
    ///             Ok::<_, std::io::Error>(serde_json::json!({ "banner": format!("v{version}") }))
    ///         })
    ///         .depends_on(["version"]),
    ///     )
    ///     .build()?;
    /// let state = pipeline.run(RunOptions::default())?.state;
    /// assert_eq!(state.status, PipelineStatus::Completed);
    /// let banner = state.phase("banner").unwrap();
    /// assert_eq!(&*banner.logs.lines()[0].line, "generating for 1.2.3");
    /// assert_eq!(banner.result.as_ref().unwrap()["banner"], "v1.2.3");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self, options: RunOptions) -> Result<Finished, Error> {
        exec::run(self, options)
    }
}
