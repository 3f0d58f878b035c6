use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::*;
use crate::fingerprint::{Unreadable, command_digest, env_digests};
use crate::phase::{Handler, Phase};

fn observed() -> Observation {
    Observation {
        command: command_digest(&Handler::Shell("./gen.sh".into()), "/p"),
        cwd: ".".into(),
        env: env_digests([], [("PROTOC", Some("/usr/bin/protoc".as_ref()))], "/p"),
        inputs: [
            ("proto/a.proto".to_owned(), Digest::of(b"a")),
            ("proto/b.proto".to_owned(), Digest::of(b"b")),
        ]
        .into(),
        outputs: ["src/gen/a.rs".to_owned()].into(),
        ..Observation::default()
    }
}

fn deps(result: Option<serde_json::Value>) -> BTreeMap<String, Dependency> {
    [("build".to_owned(), Dependency::Result(result.map(|r| Digest::of_json(&r))))].into()
}

fn record(observation: &Observation) -> Record {
    let deps = [("build".to_owned(), Some(Digest::of_json(&json!({"exit_code": 0}))))].into();
    Record::new(observation.clone(), deps, observation.outputs.clone(), json!({"exit_code": 0}))
}

/// The verdict's text for `now`, against a record of [`observed`].
fn says(now: &Observation, deps_now: &BTreeMap<String, Dependency>) -> String {
    decide(Some(&record(&observed())), now, deps_now).to_string()
}

fn same_deps() -> BTreeMap<String, Dependency> {
    deps(Some(json!({"exit_code": 0})))
}

#[test]
fn nothing_changed_is_up_to_date() {
    assert_eq!(decide(Some(&record(&observed())), &observed(), &same_deps()), Verdict::UpToDate);
    assert_eq!(says(&observed(), &same_deps()), "up to date");
}

#[test]
fn each_cause_is_named() {
    let base = observed();
    let mut inputs = base.inputs.clone();
    inputs.insert("proto/a.proto".into(), Digest::of(b"edited"));
    let mut added = base.inputs.clone();
    added.insert("proto/c.proto".into(), Digest::of(b"c"));
    let mut removed = base.inputs.clone();
    removed.remove("proto/b.proto");
    let cases: Vec<(Observation, &str)> = vec![
        (Observation { inputs, ..base.clone() }, "would run: proto/a.proto changed"),
        (Observation { inputs: added, ..base.clone() }, "would run: proto/c.proto added"),
        (Observation { inputs: removed, ..base.clone() }, "would run: proto/b.proto removed"),
        (
            Observation {
                command: command_digest(&Handler::Shell("./gen.sh -v".into()), "/p"),
                ..base.clone()
            },
            "would run: command changed",
        ),
        (Observation { cwd: "sub".into(), ..base.clone() }, "would run: cwd changed"),
        (
            Observation { env: env_digests([], [("PROTOC", None)], "/p"), ..base.clone() },
            "would run: PROTOC changed",
        ),
        (
            Observation { outputs: BTreeSet::new(), ..base.clone() },
            "would run: output src/gen/a.rs missing",
        ),
        (
            Observation { unmatched_outputs: vec!["src/gen/*.rs".into()], ..base.clone() },
            "would run: no file matches outputs glob `src/gen/*.rs`",
        ),
        (
            Observation { unmatched: vec!["proto/**/*.proto".into()], ..base.clone() },
            "would run: no file matches inputs glob `proto/**/*.proto`",
        ),
        (
            Observation {
                unreadable: vec![Unreadable {
                    path: "proto/a.proto".into(),
                    reason: "permission denied".into(),
                }],
                ..base.clone()
            },
            "would run: proto/a.proto could not be read (permission denied)",
        ),
    ];
    for (now, expected) in cases {
        assert_eq!(says(&now, &same_deps()), expected);
    }
    assert_eq!(
        says(&base, &deps(Some(json!({"exit_code": 0, "outputs": {"v": "2"}})))),
        "would run: build's result changed"
    );
    assert_eq!(says(&base, &deps(None)), "would run: build's result changed", "skipped since");
    assert_eq!(decide(None, &base, &same_deps()).to_string(), "would run: no success recorded");
    let mut rerun = record(&base);
    rerun.rerun = true;
    assert_eq!(
        decide(Some(&rerun), &base, &same_deps()).to_string(),
        "would run: its last run was not recorded as a success"
    );
}

#[test]
fn dependencies_added_and_removed_are_named() {
    let base = observed();
    let none = BTreeMap::new();
    assert_eq!(says(&base, &none), "would run: no longer depends on build");
    let mut more = same_deps();
    more.insert("fmt".into(), Dependency::Result(None));
    assert_eq!(says(&base, &more), "would run: now depends on fmt");
}

#[test]
fn the_first_difference_is_told_and_the_rest_counted() {
    let now = Observation {
        command: Digest::of(b"other"),
        cwd: "elsewhere".into(),
        unmatched: vec!["x/*.c".into()],
        ..observed()
    };
    let Verdict::Run(reasons) = decide(Some(&record(&observed())), &now, &same_deps()) else {
        panic!("runs")
    };
    assert_eq!(
        reasons,
        [Reason::UnmatchedInput("x/*.c".into()), Reason::CommandChanged, Reason::CwdChanged]
    );
    assert_eq!(
        says(&now, &same_deps()),
        "would run: no file matches inputs glob `x/*.c` (+2 more)"
    );
}

#[test]
fn an_edited_record_is_not_trusted() {
    let mut tampered = record(&observed());
    tampered.fingerprint = Digest::of(b"not it");
    let verdict = decide(Some(&tampered), &observed(), &same_deps());
    assert_eq!(verdict, Verdict::Run(vec![Reason::FingerprintChanged]));
}

#[test]
fn a_dependency_that_runs_first_leaves_the_verdict_open() {
    let mut pending = same_deps();
    pending.insert("build".into(), Dependency::WouldRun);
    let verdict = decide(Some(&record(&observed())), &observed(), &pending);
    assert_eq!(verdict, Verdict::Unless(vec!["build".into()]));
    assert_eq!(verdict.to_string(), "up to date unless build's result changes (it will run)");
    assert_eq!(
        Verdict::Unless(vec!["a".into(), "b".into()]).to_string(),
        "up to date unless a's or b's result change (they will run)"
    );
}

/// gen (inputs) ← build (inputs) ← test (inputs); lint has none and feeds test.
fn chain() -> Pipeline {
    Pipeline::new("p")
        .phase(Phase::cmd("gen", "./gen.sh").inputs(["proto/*"]))
        .phase(Phase::cmd("build", "cargo build").inputs(["src/*"]).depends_on(["gen"]))
        .phase(Phase::cmd("lint", "cargo clippy"))
        .phase(Phase::cmd("test", "cargo test").inputs(["tests/*"]).depends_on(["build", "lint"]))
        .build()
        .expect("valid")
}

/// Records for `chain` as a run that succeeded with `observation` everywhere would leave.
fn chain_records(observation: &Observation) -> Fingerprints {
    let result = json!({"exit_code": 0, "outputs": {}});
    let digest = Some(Digest::of_json(&result));
    let rec = |deps: &[&str]| {
        let deps = deps.iter().map(|d| ((*d).to_owned(), digest)).collect();
        Record::new(observation.clone(), deps, observation.outputs.clone(), result.clone())
    };
    let mut records = Fingerprints::default();
    records.phases.insert("gen".into(), rec(&[]));
    records.phases.insert("build".into(), rec(&["gen"]));
    records.phases.insert("test".into(), rec(&["build", "lint"]));
    records
}

#[test]
fn verdicts_flow_down_the_graph() {
    let pipeline = chain();
    let now = observed();
    let observations = vec![Some(now.clone()), Some(now.clone()), None, Some(now.clone())];
    let records = chain_records(&now);
    let v = verdicts(&pipeline, &records, &observations, false, "/p");
    assert_eq!(v[0], Verdict::UpToDate);
    assert_eq!(v[1], Verdict::UpToDate, "gen is up to date: its recorded result counts");
    assert_eq!(v[2], Verdict::Run(vec![Reason::NoInputs]));
    assert_eq!(v[3], Verdict::Unless(vec!["lint".into()]), "lint always runs first");

    // gen must run: build waits on it, and test inherits the wait through build.
    let mut records = chain_records(&now);
    records.phases.remove("gen");
    let v = verdicts(&pipeline, &records, &observations, false, "/p");
    assert_eq!(v[0], Verdict::Run(vec![Reason::NeverSucceeded]));
    assert_eq!(v[1], Verdict::Unless(vec!["gen".into()]));
    assert_eq!(v[3], Verdict::Unless(vec!["gen".into(), "lint".into()]));

    let forced = verdicts(&pipeline, &chain_records(&now), &observations, true, "/p");
    assert!(forced.iter().all(|v| *v == Verdict::Run(vec![Reason::Forced])));
}

#[test]
fn explain_lines_name_each_phase_and_its_verdict() {
    let pipeline = chain();
    let verdicts = vec![
        Verdict::Run(vec![
            Reason::InputChanged("proto/a.proto".into()),
            Reason::EnvChanged("PROTOC".into()),
        ]),
        Verdict::Unless(vec!["gen".into()]),
        Verdict::Run(vec![Reason::NoInputs]),
        Verdict::UpToDate,
    ];
    let order: Vec<usize> = pipeline.graph().execution_order();
    assert_eq!(
        explain(&pipeline, &verdicts, &order, false),
        "gen    would run: proto/a.proto changed (+1 more)\n\
         lint   would run: no `inputs`, so it always runs\n\
         build  up to date unless gen's result changes (it will run)\n\
         test   up to date\n"
    );
    assert_eq!(
        explain(&pipeline, &verdicts, &[0], true),
        "gen  would run: proto/a.proto changed (+1 more)\n       proto/a.proto changed\n       PROTOC changed\n"
    );
}
