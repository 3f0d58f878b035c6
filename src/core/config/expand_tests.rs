//! Expansion of per-package phases over a workspace model: instances, dependencies,
//! placeholders, and every located error.

use std::path::{Path, PathBuf};

use crate::config::{parse_str, parse_with};
use crate::phase::Handler;
use crate::pipeline::Pipeline;
use crate::workspace::{DepKind, Workspace};

/// `core` ← `mid` ← `app` (app's dependency on mid renamed in Cargo.toml: only folders
/// count here), `app` build-depends on `gen`, and `tool` dev-depends on `core`.
fn workspace() -> Workspace {
    let dir = |n: &str| PathBuf::from("/ws").join(n);
    Workspace::from_dirs(
        "/ws",
        [
            ("core", dir("core"), vec![]),
            ("mid", dir("mid"), vec![(dir("core"), DepKind::Normal)]),
            ("gen", dir("gen"), vec![]),
            ("app", dir("app"), vec![(dir("mid"), DepKind::Normal), (dir("gen"), DepKind::Build)]),
            ("tool", dir("tool"), vec![(dir("core"), DepKind::Dev)]),
        ],
    )
}

fn load(text: &str) -> Result<Pipeline, String> {
    parse_with(text, Path::new("/ws/Milo.toml"), &workspace())
        .map(|(p, _)| p)
        .map_err(|e| e.to_string())
}

fn deps<'a>(p: &'a Pipeline, name: &str) -> Vec<&'a str> {
    let phase = p.get(name).unwrap_or_else(|| panic!("no phase {name}"));
    phase.depends_on.iter().map(String::as_str).collect()
}

const BUILD_TEST: &str = r#"
[[pipeline.phase]]
name = "fmt"
cmd = "cargo fmt --check"

[[pipeline.phase]]
name = "build"
packages = "workspace"
cmd = "cargo build -p {package}"
depends_on = ["^build"]

[[pipeline.phase]]
name = "test"
packages = "workspace"
description = "Test {package} in {package_dir}"
args = ["cargo", "test", "--manifest-path", "{manifest_path}"]
cwd = "{package_dir}"
env = { WHERE = "{package_dir}/x", LITERAL = "{{package}}" }
depends_on = ["build", "fmt"]

[[pipeline.phase]]
name = "report"
cmd = "echo done"
depends_on = ["test"]
"#;

#[test]
fn one_instance_per_member_in_dependency_order() {
    let p = load(BUILD_TEST).expect("valid");
    let names: Vec<&str> = p.phases().iter().map(|ph| ph.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "fmt",
            "build:core",
            "build:mid",
            "build:gen",
            "build:app",
            "build:tool",
            "test:core",
            "test:mid",
            "test:gen",
            "test:app",
            "test:tool",
            "report"
        ]
    );
    assert_eq!(
        p.execution_order(),
        [
            "build:core",
            "build:gen",
            "build:tool",
            "fmt",
            "build:mid",
            "test:core",
            "test:gen",
            "test:tool",
            "build:app",
            "test:mid",
            "test:app",
            "report"
        ]
    );
}

#[test]
fn caret_follows_normal_and_build_dependencies_only() {
    let p = load(BUILD_TEST).expect("valid");
    assert_eq!(deps(&p, "build:app"), ["build:mid", "build:gen"]);
    assert_eq!(deps(&p, "build:mid"), ["build:core"]);
    // tool only dev-depends on core: no edge.
    assert!(deps(&p, "build:tool").is_empty());
    // Plain names: the same package's instance, or the single phase.
    assert_eq!(deps(&p, "test:app"), ["build:app", "fmt"]);
    // From a single phase, a per-package name means every instance.
    assert_eq!(deps(&p, "report"), ["test:core", "test:mid", "test:gen", "test:app", "test:tool"]);
}

#[test]
fn placeholders_and_package_variables_are_filled() {
    let p = load(BUILD_TEST).expect("valid");
    let test = p.get("test:mid").expect("test:mid");
    assert!(matches!(&test.handler, Handler::Args(a) if a[3] == "/ws/mid/Cargo.toml"));
    assert_eq!(test.description, "Test mid in /ws/mid");
    assert_eq!(test.cwd.as_deref(), Some(Path::new("/ws/mid")));
    assert_eq!(test.env["WHERE"], "/ws/mid/x");
    assert_eq!(test.env["LITERAL"], "{package}");
    assert_eq!(test.env["MILO_PACKAGE"], "mid");
    assert_eq!(test.env["MILO_PACKAGE_DIR"], "/ws/mid");
    let instance = test.instance.as_ref().expect("an instance");
    assert_eq!((instance.phase.as_str(), instance.package.as_str()), ("test", "mid"));
    let build = p.get("build:core").expect("build:core");
    assert!(matches!(&build.handler, Handler::Shell(c) if c == "cargo build -p core"));
    assert!(p.get("fmt").expect("fmt").instance.is_none());
}

#[test]
fn selections_default_members_lists_and_single_instances() {
    let mut ws = workspace();
    ws.default_members = vec![3, 1];
    let text = r#"
[[pipeline.phase]]
name = "lint"
packages = "default"
cmd = "x"

[[pipeline.phase]]
name = "doc"
packages = ["core", "app", "core"]
cmd = "x"
depends_on = ["lint:mid"]

[[pipeline.phase]]
name = "ship"
cmd = "x"
depends_on = ["doc:app"]
"#;
    let (p, _) = parse_with(text, Path::new("/ws/Milo.toml"), &ws).expect("valid");
    let names: Vec<&str> = p.phases().iter().map(|ph| ph.name.as_str()).collect();
    assert_eq!(names, ["lint:app", "lint:mid", "doc:core", "doc:app", "ship"]);
    assert_eq!(deps(&p, "doc:core"), ["lint:mid"]);
    assert_eq!(deps(&p, "ship"), ["doc:app"]);
}

/// The messages of every problem, in file order.
fn problems(text: &str) -> Vec<String> {
    let err = load(text).expect_err("invalid");
    let messages = err.lines().filter_map(|l| l.strip_prefix("error: "));
    messages.filter(|m| !m.starts_with("could not load")).map(str::to_owned).collect()
}

fn phase(name: &str, extra: &str) -> String {
    format!("[[pipeline.phase]]\nname = \"{name}\"\ncmd = \"x\"\n{extra}\n")
}

#[test]
fn wrong_selections_are_located() {
    let text = [
        phase("a", "packages = [\"cor\", \"app\"]"),
        phase("b", "packages = \"everything\""),
        phase("c", "packages = \"core\""),
        phase("d", "packages = []"),
    ]
    .concat();
    let err = load(&text).expect_err("invalid");
    assert!(err.contains("error: no package named `cor` in the workspace"), "{err}");
    assert!(err.contains("--> /ws/Milo.toml:4:13"), "{err}");
    assert!(err.contains("help: did you mean `core`?"), "{err}");
    assert!(err.contains("error: invalid `packages` value \"everything\""), "{err}");
    assert!(err.contains("write a list: `packages = [\"core\"]`"), "{err}");
    assert!(err.contains("error: phase `d` selects no package"), "{err}");
}

#[test]
fn packages_outside_a_workspace_are_located() {
    let text = phase("a", "packages = \"workspace\"");
    let err = parse_str(&text, Path::new("Milo.toml")).expect_err("no workspace").to_string();
    assert!(err.contains("error: phase `a` has `packages`, outside a Cargo workspace"), "{err}");
    assert!(err.contains("--> Milo.toml:4:12"), "{err}");
}

#[test]
fn placeholders_are_checked() {
    let text = [
        phase("a", "packages = \"workspace\"\ndescription = \"{pakage}\""),
        phase("b", "description = \"for {package}\""),
        // Not placeholders: the shell's ${...}, escaped braces, other braces.
        phase("c", "description = \"${HOME} {{package}} { x } {}\""),
    ]
    .concat();
    assert_eq!(
        problems(&text),
        ["unknown placeholder `{pakage}`", "placeholder `{package}` in a phase without `packages`"]
    );
    let err = load(&text).expect_err("invalid");
    assert!(err.contains("help: did you mean `{package}`?"), "{err}");
}

#[test]
fn wrong_references_are_located() {
    let text = [
        phase("single", "depends_on = [\"^each\", \"^biuld\"]"),
        phase(
            "each",
            "packages = [\"core\", \"mid\"]\ndepends_on = [\"^single\", \"single:core\"]",
        ),
        phase(
            "other",
            "packages = [\"core\", \"app\"]\ndepends_on = [\"each\", \"each:app\", \"each:nope\"]",
        ),
    ]
    .concat();
    assert_eq!(
        problems(&text),
        [
            "`^each` in phase `single`, which has no `packages`",
            "phase `single` depends on unknown phase `biuld`",
            "`^single` needs a per-package `single`",
            "`single` has no per-package instances",
            "`each` has no instance for package `app`",
            "`each` has no instance for package `app`",
            "no package named `nope` in the workspace",
        ]
    );
}

#[test]
fn a_cycle_through_instances_shows_the_instance_path() {
    let text = [
        phase("build", "packages = \"workspace\"\ndepends_on = [\"^build\", \"check:core\"]"),
        phase("check", "packages = [\"core\"]\ndepends_on = [\"build:app\"]"),
    ]
    .concat();
    let err = load(&text).expect_err("cyclic");
    assert!(
        err.contains("error: circular dependency: build:core → check:core → build:app → build:mid → build:core"),
        "{err}"
    );
    assert!(err.contains("`check:core` depends on `build:app`"), "{err}");
    // An instance depending on itself through `name:pkg`.
    let text = phase("t", "packages = [\"core\", \"mid\"]\ndepends_on = [\"t:core\"]");
    let err = load(&text).expect_err("self loop");
    assert!(err.contains("error: circular dependency: t:core → t:core"), "{err}");
}

#[test]
fn caret_reaches_through_members_the_phase_does_not_select() {
    // app → mid → core, and `build` skips mid: build:app still waits for build:core.
    let text = phase("build", "packages = [\"core\", \"app\", \"gen\"]\ndepends_on = [\"^build\"]");
    let p = load(&text).expect("valid");
    assert_eq!(deps(&p, "build:app"), ["build:core", "build:gen"]);
    assert_eq!(p.execution_order(), ["build:core", "build:gen", "build:app"]);
}

#[test]
fn dev_dependency_cycles_are_legal() {
    let dir = |n: &str| PathBuf::from("/ws").join(n);
    let ws = Workspace::from_dirs(
        "/ws",
        [
            ("a", dir("a"), vec![(dir("b"), DepKind::Dev)]),
            ("b", dir("b"), vec![(dir("a"), DepKind::Normal)]),
        ],
    );
    let text = phase("test", "packages = \"workspace\"\ndepends_on = [\"^test\"]");
    let (p, _) = parse_with(&text, Path::new("/ws/Milo.toml"), &ws).expect("acyclic");
    assert_eq!(p.execution_order(), ["test:a", "test:b"]);
}

/// A member as listed for [`Workspace::from_dirs`], owned.
type Listed = (String, PathBuf, Vec<(PathBuf, DepKind)>);

proptest::proptest! {
    /// Over any member graph: the instance graph of `build` with `^build` is acyclic
    /// exactly when the members' normal and build dependencies are, and every instance
    /// edge follows a member edge.
    #[test]
    fn caret_edges_follow_member_edges(
        edges in proptest::collection::vec((0usize..6, 0usize..6, 0u8..3), 0..14),
    ) {
        let dir = |i: usize| PathBuf::from(format!("/ws/m{i}"));
        let kind = |k: u8| match k { 0 => DepKind::Normal, 1 => DepKind::Build, _ => DepKind::Dev };
        let members: Vec<Listed> = (0..6)
            .map(|i| {
                let deps = edges.iter().filter(|(a, ..)| *a == i).map(|&(_, b, k)| (dir(b), kind(k)));
                (format!("m{i}"), dir(i), deps.collect())
            })
            .collect();
        let ws = Workspace::from_dirs("/ws", members.iter().map(|(n, d, e)| (n.as_str(), d.clone(), e.clone())));
        let text = phase("build", "packages = \"workspace\"\ndepends_on = [\"^build\"]");
        let names: Vec<&str> = ws.members.iter().map(|m| m.name.as_str()).collect();
        let member_deps: Vec<Vec<&str>> =
            (0..6).map(|i| ws.build_deps(i).into_iter().map(|d| names[d]).collect()).collect();
        let members_acyclic = crate::graph::Graph::from_names(&names, &member_deps).is_ok();
        let parsed = parse_with(&text, Path::new("/ws/Milo.toml"), &ws);
        proptest::prop_assert_eq!(parsed.is_ok(), members_acyclic);
        if let Ok((p, _)) = parsed {
            for (i, phase) in p.phases().iter().enumerate() {
                for dep in &phase.depends_on {
                    let to = dep.strip_prefix("build:").and_then(|n| ws.member(n));
                    proptest::prop_assert!(to.is_some_and(|to| ws.build_deps(i).contains(&to)));
                }
                proptest::prop_assert_eq!(phase.depends_on.len(), ws.build_deps(i).len());
            }
        }
    }
}
