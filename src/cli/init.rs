//! `cargo milo init`: write a Milo.toml from a template, never over an existing file.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use super::load::{current_dir, shown};
use super::{CiService, GlobalArgs, InitArgs};
use crate::discover::FILE_NAME;
use crate::error::Error;

/// The templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("minimal", include_str!("../../templates/minimal.toml")),
    ("rust-ci", include_str!("../../templates/rust-ci.toml")),
    ("workspace", include_str!("../../templates/workspace.toml")),
];

/// The CI workflow for `service`: where it goes and what it holds.
pub fn ci_template(service: CiService) -> (&'static str, &'static str) {
    match service {
        CiService::Github => {
            (".github/workflows/milo.yml", include_str!("../../templates/ci/github.yml"))
        }
        CiService::Gitlab => (".gitlab-ci.yml", include_str!("../../templates/ci/gitlab-ci.yml")),
    }
}

/// Writes the template to `-f PATH` or `./Milo.toml`, or with `--ci` the CI workflow.
pub fn execute(global: &GlobalArgs, args: &InitArgs) -> Result<(), Error> {
    if let Some(ci) = args.ci {
        return ci_workflow(global, ci);
    }
    let Some((name, text)) = TEMPLATES.iter().find(|(name, _)| *name == args.template) else {
        let names: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
        let help = match crate::suggest::closest(&args.template, names.iter().copied()) {
            Some(guess) => format!("did you mean `{guess}`? templates: {}", names.join(", ")),
            None => format!("templates: {}", names.join(", ")),
        };
        return Err(Error::usage(format!("unknown template `{}`", args.template), help));
    };
    let path = current_dir()?.join(global.config.as_deref().unwrap_or(FILE_NAME.as_ref()));
    create_new(&path, text, "remove it first, or write elsewhere with -f PATH")?;
    if !global.quiet {
        eprintln!(
            "     Created `{}` from the `{name}` template; check it with `cargo milo check`",
            shown(&path)
        );
    }
    Ok(())
}

/// Writes the CI workflow of `ci` under the current folder (the repository's root).
fn ci_workflow(global: &GlobalArgs, ci: CiService) -> Result<(), Error> {
    let (file, text) = ci_template(ci);
    let path = current_dir()?.join(file);
    create_new(
        &path,
        text,
        "remove it first, or add the `milo` job to it by hand (see the README, \"In CI\")",
    )?;
    if !global.quiet {
        eprintln!(
            "     Created `{}`: it runs `cargo milo run` at the repository root and keeps \
             `target/milo/` (timeline, logs, JUnit and HTML reports) even when the run fails",
            shown(&path)
        );
    }
    Ok(())
}

/// Creates `path` (and its folders) holding `text`; never overwrites.
fn create_new(path: &Path, text: &str, help: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("could not create", parent, e))?;
    }
    let file = OpenOptions::new().write(true).create_new(true).open(path);
    let mut file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::usage(format!("`{}` already exists", shown(path)), help));
        }
        Err(e) => return Err(Error::io("could not create", path, e)),
    };
    file.write_all(text.as_bytes()).map_err(|e| Error::io("could not write", path, e))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::TEMPLATES;
    use crate::workspace::{DepKind, Workspace};

    /// `app` depends on `core`, in `/project`.
    fn workspace() -> Workspace {
        let dir = |name: &str| PathBuf::from("/project").join(name);
        let app = vec![(dir("core"), DepKind::Normal)];
        Workspace::from_dirs("/project", [("core", dir("core"), vec![]), ("app", dir("app"), app)])
    }

    #[test]
    fn every_template_is_a_valid_pipeline() {
        let ws = workspace();
        for (name, text) in TEMPLATES {
            let parsed = crate::config::parse_with(text, "/project/Milo.toml".as_ref(), &ws);
            assert!(
                parsed.is_ok(),
                "template {name}: {}",
                parsed.err().map(|e| e.to_string()).unwrap_or_default()
            );
        }
    }

    #[test]
    fn the_workspace_template_lints_each_member_after_its_dependencies() {
        let (_, text) = TEMPLATES.iter().find(|(n, _)| *n == "workspace").expect("workspace");
        let (pipeline, _) =
            crate::config::parse_with(text, "/project/Milo.toml".as_ref(), &workspace())
                .expect("valid");
        assert_eq!(
            pipeline.get("clippy:app").map(|p| p.depends_on.clone()),
            Some(vec!["clippy:core".into()])
        );
        assert_eq!(
            pipeline.get("test:core").map(|p| p.depends_on.clone()),
            Some(vec!["clippy:core".into(), "fmt".into()])
        );
        assert_eq!(pipeline.settings().affected_global, [".github/workflows/*.yml"]);
    }

    #[test]
    fn the_readme_shows_the_ci_workflows_as_written() {
        let readme = include_str!("../../README.md");
        let strip = |text: &str| -> String {
            let lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
            lines.collect::<Vec<_>>().join("\n")
        };
        for service in <super::CiService as clap::ValueEnum>::value_variants() {
            let (file, text) = super::ci_template(*service);
            assert!(strip(readme).contains(&strip(text)), "README's {service:?} workflow ({file})");
        }
    }

    #[test]
    fn rust_ci_runs_fmt_clippy_test_doc() {
        let (_, text) = TEMPLATES.iter().find(|(n, _)| *n == "rust-ci").expect("rust-ci");
        let (pipeline, _) = crate::config::parse_str(text, "p/Milo.toml".as_ref()).expect("valid");
        for phase in ["fmt", "clippy", "test", "doc"] {
            assert!(pipeline.get(phase).is_some(), "{phase} missing");
        }
    }
}
