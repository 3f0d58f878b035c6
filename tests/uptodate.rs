//! Up to date: phases with `inputs` skip while nothing they depend on changed; `--force`,
//! `explain`, `--dry-run`, `check`, and the fingerprints file.

use std::path::Path;

use serde_json::Value;

use crate::support::{Output, Test};

/// `gen` turns proto files into out/a.rs and says how many bytes it read; `build` reads
/// out/a.rs; `report` has no inputs and keeps the context it got. Each run appends its name
/// to runs.log.
const MILO: &str = r#"
[[pipeline.phase]]
name = "gen"
cmd = "echo gen >> runs.log; mkdir -p out; cat proto/*.proto > out/a.rs; echo \"bytes=$(wc -c < out/a.rs)\" >> \"$MILO_OUTPUT\""
inputs = ["proto/*.proto"]
outputs = ["out/*.rs"]
env_inputs = ["MILO_TEST_PROTOC"]

[[pipeline.phase]]
name = "build"
cmd = "echo build >> runs.log"
inputs = ["out/*.rs"]
depends_on = ["gen"]

[[pipeline.phase]]
name = "report"
cmd = "echo report >> runs.log; cp \"$MILO_CONTEXT\" context.json"
depends_on = ["gen"]
"#;

fn project() -> Test {
    Test::new()
        .milo_toml(MILO)
        .file("proto/a.proto", "message A {}\n")
        .file("proto/b.proto", "message B {}\n")
        .env_remove("MILO_TEST_PROTOC")
}

/// The phases that ran since the last look (runs.log, emptied), sorted: phases that may
/// run in either order (build and report) are compared as sets.
fn ran(out: &Output) -> Vec<String> {
    let path = out.root.join("runs.log");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let mut names: Vec<String> = text.lines().map(str::to_owned).collect();
    names.sort();
    names
}

/// The timeline of the last run.
fn timeline(out: &Output) -> Value {
    serde_json::from_str(&out.read("target/milo/timeline.json")).expect("the timeline is JSON")
}

fn status(tl: &Value, name: &str) -> String {
    let phases = tl["phases"].as_array().expect("phases");
    let phase = phases.iter().find(|p| p["name"] == name).expect("the phase");
    phase["status"].as_str().expect("status").to_owned()
}

/// `run` in the folder of `out`.
fn run_again(out: Output) -> Output {
    out.then().arg("run").run()
}

/// A first run that recorded every phase.
fn recorded() -> Output {
    let out = project().arg("run").run();
    out.success();
    assert_eq!(ran(&out), ["build", "gen", "report"]);
    out
}

fn edit(root: &Path, path: &str, text: &str) {
    std::fs::write(root.join(path), text).expect("edit a file");
}

#[test]
fn a_second_run_skips_and_dependents_get_the_recorded_result() {
    let out = run_again(recorded());
    out.success();
    assert_eq!(ran(&out), ["report"], "only the phase without inputs runs");
    // Off a terminal, event lines and the summary go to stdout.
    assert!(out.stdout.contains("≡ gen up to date\n"), "{}", out.stdout);
    assert!(out.stdout.contains("≡ build up to date\n"), "{}", out.stdout);
    let tl = timeline(&out);
    assert_eq!(tl["schema_version"], 2);
    assert_eq!(
        (status(&tl, "gen"), status(&tl, "build")),
        ("up_to_date".into(), "up_to_date".into())
    );
    assert_eq!(tl["progress"], 1.0);
    let context: Value = serde_json::from_str(&out.read("context.json")).expect("context");
    assert_eq!(context["gen"]["outputs"]["bytes"], "26", "{context}");
    let summary = out.stdout.lines().find(|l| l.starts_with("gen ")).unwrap_or_default();
    assert!(summary.contains("up_to_date"), "the summary names the status: {}", out.stdout);
}

#[test]
fn touching_a_file_is_not_a_change_but_editing_it_is() {
    let out = recorded();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    let file = std::fs::File::options().append(true).open(out.root.join("proto/a.proto"));
    file.and_then(|f| f.set_modified(later)).expect("touch");
    let out = run_again(out);
    assert_eq!(ran(&out), ["report"], "a new modification time alone changes nothing");

    edit(&out.root, "proto/a.proto", "message A { int32 x = 1; }\n");
    let explained = out.then().arg("explain").run();
    explained.success();
    assert_eq!(
        explained.stdout,
        "gen     would run: proto/a.proto changed\n\
         build   up to date unless gen's result changes (it will run)\n\
         report  would run: no `inputs`, so it always runs\n"
    );
    let out = run_again(explained);
    assert_eq!(ran(&out), ["build", "gen", "report"], "out/a.rs changed with it");
}

#[test]
fn editing_an_upstream_output_reruns_the_downstream_only() {
    let out = recorded();
    edit(&out.root, "out/a.rs", "hand edit\n");
    let explained = out.then().args(["explain", "gen", "build"]).run();
    assert_eq!(explained.stdout, "gen    up to date\nbuild  would run: out/a.rs changed\n");
    let out = run_again(explained);
    assert_eq!(ran(&out), ["build", "report"]);
    assert_eq!(out.read("out/a.rs"), "hand edit\n", "gen did not run over the edit");
}

#[test]
fn an_env_input_change_reruns() {
    let out = project().arg("run").env("MILO_TEST_PROTOC", "1").run();
    out.success();
    ran(&out);
    let same = out.then().arg("run").env("MILO_TEST_PROTOC", "1").run();
    assert_eq!(ran(&same), ["report"]);
    let explained = same.then().args(["explain", "gen"]).env("MILO_TEST_PROTOC", "2").run();
    assert_eq!(explained.stdout, "gen  would run: MILO_TEST_PROTOC changed\n");
    let changed = explained.then().arg("run").env("MILO_TEST_PROTOC", "2").run();
    // gen wrote the same out/a.rs and the same result: build stays up to date.
    assert_eq!(ran(&changed), ["gen", "report"]);
    let fingerprints = changed.read("target/milo/fingerprints.json");
    assert!(fingerprints.contains("MILO_TEST_PROTOC"), "the name is recorded");
    assert!(!fingerprints.contains("\"2\""), "the value is not: {fingerprints}");
}

#[test]
fn a_deleted_output_reruns_its_phase() {
    let out = recorded();
    std::fs::remove_file(out.root.join("out/a.rs")).expect("delete the output");
    let explained = out.then().args(["explain", "gen"]).run();
    assert_eq!(explained.stdout, "gen  would run: output out/a.rs missing\n");
    let out = run_again(explained);
    assert_eq!(ran(&out), ["gen", "report"], "build sees the same out/a.rs again");
}

#[test]
fn force_runs_everything_and_records_it() {
    let out = recorded();
    let forced = out.then().args(["run", "--force"]).run();
    forced.success();
    assert_eq!(ran(&forced), ["build", "gen", "report"]);
    let out = run_again(forced);
    assert_eq!(ran(&out), ["report"]);
}

#[test]
fn explain_names_each_cause() {
    let fresh = project().arg("explain").run();
    fresh.success();
    assert_eq!(
        fresh.stdout,
        "gen     would run: no success recorded\n\
         build   would run: no file matches inputs glob `out/*.rs` (+1 more)\n\
         report  would run: no `inputs`, so it always runs\n"
    );
    let out = fresh.then().arg("run").run();
    ran(&out);
    let explain = |out: Output, milo: &str, phase: &str| -> (Output, String) {
        let out = out.then().milo_toml(milo).args(["explain", "-v", phase]).run();
        out.success();
        let text = out.stdout.clone();
        (out, text)
    };

    let (out, text) = explain(out, MILO, "gen");
    assert_eq!(text, "gen  up to date\n");
    let (out, text) = explain(out, &MILO.replace("cat proto", "cat  proto"), "gen");
    assert_eq!(text, "gen  would run: command changed\n");
    let cwd = MILO.replace("env_inputs = [", "cwd = \"proto\"\nenv_inputs = [");
    let (out, text) = explain(out, &cwd, "gen");
    assert_eq!(text, "gen  would run: cwd changed\n");
    let nothing =
        MILO.replace("inputs = [\"proto/*.proto\"]", "inputs = [\"proto/*.proto\", \"none/*.x\"]");
    let (out, text) = explain(out, &nothing, "gen");
    assert_eq!(text, "gen  would run: no file matches inputs glob `none/*.x`\n");

    std::fs::remove_file(out.root.join("proto/b.proto")).expect("remove");
    edit(&out.root, "proto/c.proto", "message C { int32 c = 1; }\n");
    let (out, text) = explain(out, MILO, "gen");
    assert_eq!(
        text,
        "gen  would run: proto/b.proto removed (+1 more)\n       proto/b.proto removed\n       proto/c.proto added\n"
    );

    // gen runs alone with its new inputs: build last ran with its old result.
    let alone = out.then().args(["run", "gen"]).run();
    alone.success();
    let (out, text) = explain(alone, MILO, "build");
    assert_eq!(
        text,
        "build  would run: gen's result changed (+1 more)\n         gen's result changed\n         out/a.rs changed\n"
    );

    // A run that fails leaves the last success standing for nothing.
    let failing = MILO.replace("echo gen >> runs.log;", "echo gen >> runs.log; exit 3;");
    edit(&out.root, "proto/c.proto", "message C2 {}\n");
    let failed = out.then().milo_toml(&failing).arg("run").run();
    failed.code(1);
    edit(&failed.root, "proto/c.proto", "message C { int32 c = 1; }\n");
    let (_, text) = explain(failed, MILO, "gen");
    assert_eq!(text, "gen  would run: its last run was not recorded as a success\n");
}

#[test]
fn dry_run_shows_the_verdicts_and_an_empty_glob_always_runs_with_a_warning_at_check() {
    let out = recorded();
    edit(&out.root, "proto/a.proto", "message A2 {}\n");
    let plan = out.then().args(["run", "--dry-run"]).run();
    plan.success();
    assert!(plan.stdout.contains("[would run: proto/a.proto changed]"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("[up to date unless gen's result changes (it will run)]"),
        "{}",
        plan.stdout
    );
    assert!(ran(&plan).is_empty(), "a dry run runs nothing");

    let nothing = MILO.replace("proto/*.proto", "protos/*.proto");
    let checked = plan.then().milo_toml(&nothing).args(["check", "--color", "always"]).run();
    checked.success();
    let drawn = milo::error::render_message(
        milo::error::Level::Warning,
        "phase `gen`: no file matches inputs glob `protos/*.proto`; while none does, the phase always runs",
        &[],
        None,
        true,
    );
    assert!(checked.stderr_exact().contains(&drawn), "{:?}", checked.stderr_exact());
    // While the glob matches nothing, gen is never recorded: it runs every time.
    let first = checked.then().milo_toml(&nothing).arg("run").run();
    first.success();
    assert_eq!(ran(&first), ["build", "gen", "report"]);
    let second = first.then().arg("run").run();
    second.success();
    assert_eq!(ran(&second), ["gen", "report"], "build's out/a.rs came out the same");
}

#[test]
fn a_corrupt_fingerprints_file_is_a_warning_and_everything_runs() {
    let out = recorded();
    edit(&out.root, "target/milo/fingerprints.json", "{ not json");
    let out = run_again(out);
    out.success();
    assert!(
        out.stderr.contains("warning: ignoring `")
            && out.stderr.contains("fingerprints.json`: it is not valid"),
        "{}",
        out.stderr
    );
    assert_eq!(ran(&out), ["build", "gen", "report"]);
    let out = run_again(out);
    assert_eq!(ran(&out), ["report"], "the file was written anew");

    // `explain` warns too, drawn like every warning (in colour when asked).
    edit(&out.root, "target/milo/fingerprints.json", "{ not json");
    let explained = out.then().args(["explain", "gen", "--color", "always"]).run();
    explained.success();
    assert_eq!(explained.stdout, "gen  would run: no success recorded\n");
    let drawn = milo::error::render_message(
        milo::error::Level::Warning,
        "ignoring `[ROOT]/target/milo/fingerprints.json`: it is not valid: key must be a string at line 1 column 3; every phase with `inputs` runs and is recorded again",
        &[],
        None,
        true,
    );
    assert!(explained.stderr_exact().contains(&drawn), "{:?}", explained.stderr_exact());
}

#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_input_runs_the_phase_with_a_note() {
    // Reading /proc/self/mem at offset 0 fails (EIO) for anyone, root included.
    let out = project().folder("special").run();
    std::os::unix::fs::symlink("/proc/self/mem", out.root.join("special/mem")).expect("symlink");
    let milo =
        MILO.replace("inputs = [\"proto/*.proto\"]", "inputs = [\"proto/*.proto\", \"special/*\"]");
    let first = out.then().milo_toml(&milo).arg("run").run();
    first.success();
    ran(&first);
    let second = first.then().arg("run").run();
    second.success();
    assert_eq!(ran(&second), ["gen", "report"], "never recorded: it runs every time");
    assert!(
        second.stdout.contains("special/mem could not be read (input/output error)"),
        "the note is in the phase's output: {}",
        second.stdout
    );
}

#[test]
fn a_bad_glob_is_a_located_error() {
    let out = Test::new()
        .milo_toml("[[pipeline.phase]]\nname = \"gen\"\ncmd = \"true\"\ninputs = [\"src/[a.rs\"]\noutputs = [\"x\"]\n")
        .arg("check")
        .run();
    out.code(2);
    let err = out.stderr_exact();
    assert!(
        err.contains("error: invalid glob `src/[a.rs` in `inputs`\n --> Milo.toml:4:11"),
        "{err}"
    );
    assert!(err.contains("unclosed character class; missing ']'"), "{err}");
    let without = Test::new()
        .milo_toml("[[pipeline.phase]]\nname = \"gen\"\ncmd = \"true\"\noutputs = [\"x\"]\n")
        .arg("check")
        .run();
    without.code(2);
    assert!(
        without
            .stderr
            .contains("error: `outputs` without `inputs` is never checked\n --> Milo.toml:4:11"),
        "{}",
        without.stderr
    );
}

#[test]
fn the_library_skips_up_to_date_closures_and_hands_on_their_result() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use milo::exec::RunOptions;
    use milo::{Phase, PhaseStatus, Pipeline};

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("schema.sql"), "create table t (x int);\n").expect("write");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let pipeline = Pipeline::new("codegen")
        .phase(
            Phase::func("schema", move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(serde_json::json!({"tables": 1}))
            })
            .inputs(["schema.sql"]),
        )
        .phase(
            Phase::func("bindings", |ctx| {
                let tables = ctx.dependency("schema").map(|r| r["tables"].clone());
                Ok::<_, std::io::Error>(serde_json::json!({ "from": tables }))
            })
            .depends_on(["schema"]),
        )
        .dir(dir.path())
        .build()
        .expect("valid");
    let options = || RunOptions {
        timeline: Some(dir.path().join("out/timeline.json")),
        ..RunOptions::default()
    };
    let first = pipeline.run(options()).expect("run").state;
    assert_eq!(first.phase("schema").map(|p| p.status), Some(PhaseStatus::Completed));
    let second = pipeline.run(options()).expect("run").state;
    assert_eq!(second.phase("schema").map(|p| p.status), Some(PhaseStatus::UpToDate));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the closure ran once");
    let bindings = second.phase("bindings").and_then(|p| p.result.clone());
    assert_eq!(bindings, Some(serde_json::json!({"from": 1})), "the recorded result was handed on");
    let forced = pipeline.run(RunOptions { force: true, ..options() }).expect("run").state;
    assert_eq!(forced.phase("schema").map(|p| p.status), Some(PhaseStatus::Completed));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn fingerprints_that_cannot_be_written_are_a_warning_not_a_failure() {
    let out = recorded();
    let path = out.root.join("target/milo/fingerprints.json");
    std::fs::remove_file(&path).expect("remove");
    std::fs::create_dir(&path).expect("a folder in the way");
    let out = run_again(out);
    out.success();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("warning: could not write the fingerprints `"), "{all}");
    assert!(all.contains("they run again next time"), "{all}");
    assert_eq!(ran(&out), ["build", "gen", "report"]);
    let tl = timeline(&out);
    let warnings = tl["warnings"].as_array().expect("warnings");
    assert!(warnings.iter().any(|w| w["path"] == "fingerprints.json"), "{tl:#}");
}

#[test]
fn per_package_inputs_are_checked_per_instance_and_named_from_the_root() {
    let milo = "[[pipeline.phase]]\nname = \"lint\"\npackages = \"workspace\"\n\
                cmd = \"echo lint {package}\"\ninputs = [\"{package_dir}/src/**/*.rs\"]\n";
    let out = crate::workspace::workspace(milo).arg("run").run();
    out.success();
    edit(&out.root, "core/src/lib.rs", "pub fn x() {}\n");
    let explained = out.then().arg("explain").run();
    explained.success();
    let verdict = |instance: &str| {
        let line = explained.stdout.lines().find(|l| l.split_whitespace().next() == Some(instance));
        line.map(|l| l[instance.len()..].trim().to_owned()).unwrap_or_default()
    };
    assert_eq!(verdict("lint:core"), "would run: core/src/lib.rs changed", "{}", explained.stdout);
    for other in ["lint:mid", "lint:app", "lint:tool"] {
        assert_eq!(verdict(other), "up to date", "{}", explained.stdout);
    }
}

#[test]
fn check_does_not_warn_about_inputs_a_dependency_will_create() {
    // A fresh checkout: out/ does not exist yet; gen (build's dependency) writes out/*.rs.
    let milo = format!(
        "{MILO}\n[[pipeline.phase]]\nname = \"docs\"\ncmd = \"true\"\ninputs = [\"docs/*.md\"]\ndepends_on = [\"build\"]\n\n[[pipeline.phase]]\nname = \"lone\"\ncmd = \"true\"\ninputs = [\"out/*.rs\"]\n"
    );
    let checked = project().milo_toml(&milo).arg("check").run();
    checked.success();
    let warned: Vec<&str> = checked.stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warned,
        [
            "warning: phase `docs`: no file matches inputs glob `docs/*.md`; while none does, the phase always runs",
            "warning: phase `lone`: no file matches inputs glob `out/*.rs`; while none does, the phase always runs",
        ],
        "build's glob is gen's outputs; docs' is nobody's; lone does not depend on gen: {}",
        checked.stderr
    );
    let explained = checked.then().args(["explain", "build"]).run();
    explained.success();
    assert_eq!(
        explained.stdout, "build  would run: no file matches inputs glob `out/*.rs` (+1 more)\n",
        "explain still says why"
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_counts_by_its_target_and_a_fifo_runs_the_phase_with_a_note() {
    let milo = "[[pipeline.phase]]\nname = \"gen\"\ncmd = \"echo gen >> runs.log\"\ninputs = [\"links/*\"]\n";
    let out = Test::new().milo_toml(milo).file("links/a.txt", "a\n").arg("run").run();
    out.success();
    ran(&out);
    let gone = out.root.join("links/gone");
    let link = |target: &str| {
        let path = gone.clone();
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, path).expect("symlink");
    };
    link("nowhere.txt");
    let explained = out.then().arg("explain").run();
    assert_eq!(explained.stdout, "gen  would run: links/gone added\n");
    let first = run_again(explained);
    first.success();
    assert_eq!(ran(&first), ["gen"]);
    let second = run_again(first);
    assert_eq!(ran(&second), Vec::<String>::new(), "recorded with the link: up to date");
    link("elsewhere.txt");
    let explained = second.then().arg("explain").run();
    assert_eq!(explained.stdout, "gen  would run: links/gone changed\n");

    let fifo = explained.root.join("links/pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo (coreutils) makes a FIFO");
    let with_fifo = run_again(explained);
    with_fifo.success();
    assert_eq!(ran(&with_fifo), ["gen"]);
    assert!(
        with_fifo.stdout.contains("links/pipe could not be read (not a regular file"),
        "the note is in the phase's output: {}",
        with_fifo.stdout
    );
    let again = run_again(with_fifo);
    assert_eq!(ran(&again), ["gen"], "never recorded while the FIFO is there");
}

#[test]
fn a_checkout_in_another_folder_is_still_up_to_date() {
    use milo::exec::RunOptions;
    use milo::{Phase, PhaseStatus, Pipeline};

    // The command, the environment and gen's result name files by their absolute path, as
    // `{package_dir}` and MILO_PACKAGE_DIR do: another CI runner's folder, a moved clone.
    let parent = tempfile::tempdir().expect("temp dir");
    let (one, two) = (parent.path().join("one/app"), parent.path().join("two/app"));
    std::fs::create_dir_all(&one).expect("mkdir");
    std::fs::write(one.join("in.txt"), "x\n").expect("write");
    let run = |dir: &Path| {
        let gen_line =
            format!("cat '{}/in.txt' && echo \"file=$IN\" >> \"$MILO_OUTPUT\"", dir.display());
        let pipeline = Pipeline::new("moved")
            .phase(
                Phase::cmd("gen", gen_line)
                    .env("IN", dir.join("in.txt").display().to_string())
                    .inputs(["in.txt"]),
            )
            .phase(Phase::cmd("use", "true").inputs(["in.txt"]).depends_on(["gen"]))
            .phase(Phase::cmd("show", "cp \"$MILO_CONTEXT\" context.json").depends_on(["gen"]))
            .dir(dir)
            .build()
            .expect("valid");
        let options = RunOptions {
            timeline: Some(dir.join("target/milo/timeline.json")),
            ..RunOptions::default()
        };
        let state = pipeline.run(options).expect("run").state;
        let status = |name: &str| state.phase(name).map(|p| p.status);
        [status("gen"), status("use")]
    };
    let (done, fresh) = (Some(PhaseStatus::Completed), Some(PhaseStatus::UpToDate));
    assert_eq!(run(&one), [done, done]);
    assert_eq!(run(&one), [fresh, fresh]);
    std::fs::rename(parent.path().join("one"), parent.path().join("two")).expect("move");
    assert_eq!(run(&two), [fresh, fresh], "the checkout's folder is not part of it");
    // show got gen's recorded result naming in.txt in this checkout, not the old one.
    let context = std::fs::read_to_string(two.join("context.json")).expect("show ran");
    let context: Value = serde_json::from_str(&context).expect("the context is JSON");
    let file = two.join("in.txt").display().to_string();
    assert_eq!(context["gen"]["outputs"]["file"], file.as_str(), "{context}");
    std::fs::write(two.join("in.txt"), "y\n").expect("edit");
    assert_eq!(run(&two), [done, done]);
}

#[test]
fn a_run_killed_while_a_phase_runs_leaves_its_record_standing_for_nothing() {
    let milo = "[[pipeline.phase]]\nname = \"gen\"\n\
                cmd = \"touch started; while [ ! -f go ]; do sleep 0.05; done; touch ended\"\n\
                inputs = [\"in.txt\"]\n";
    let out = Test::new().milo_toml(milo).file("in.txt", "a\n").file("go", "").arg("run").run();
    out.success();
    std::fs::remove_file(out.root.join("go")).expect("remove go");
    std::fs::remove_file(out.root.join("started")).expect("remove started");
    std::fs::remove_file(out.root.join("ended")).expect("remove ended");
    edit(&out.root, "in.txt", "b\n");
    let root = out.root.clone();
    let running = out.then().arg("run").spawn();
    crate::support::wait_for_file(&root.join("started"));
    // Nothing saves the whole file as gen starts now: the journal is what marks it.
    running.signal("-KILL");
    let killed = running.finish();
    // SIGKILL leaves gen behind (nothing can end it then): let it end before the folder goes.
    std::fs::write(root.join("go"), "").expect("let the orphaned gen end");
    crate::support::wait_for_file(&root.join("ended"));
    assert_eq!(killed.code, None, "killed by a signal");
    edit(&root, "in.txt", "a\n");
    let explained = killed.then().arg("explain").run();
    explained.success();
    assert_eq!(explained.stdout, "gen  would run: its last run was not recorded as a success\n");
}

#[test]
fn a_phase_that_failed_while_it_had_no_inputs_is_not_up_to_date_when_they_come_back() {
    let with = "[[pipeline.phase]]\nname = \"gen\"\ncmd = \"echo gen >> runs.log\"\ninputs = [\"in.txt\"]\n";
    let out = Test::new().milo_toml(with).file("in.txt", "a\n").arg("run").run();
    out.success();
    let without = "[[pipeline.phase]]\nname = \"gen\"\ncmd = \"echo gen >> runs.log; exit 3\"\n";
    let failed = out.then().milo_toml(without).arg("run").run();
    failed.code(1);
    let explained = failed.then().milo_toml(with).arg("explain").run();
    explained.success();
    assert_eq!(explained.stdout, "gen  would run: its last run was not recorded as a success\n");
}
