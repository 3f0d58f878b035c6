//! Validation of a raw Milo.toml: defaults, every key read, order kept, cycles shortened,
//! problems in file order.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::validate;
use crate::config::raw;
use crate::phase::{Backoff, Handler, OnFail};

fn load(text: &str) -> Result<(crate::Pipeline, Option<std::path::PathBuf>), Vec<String>> {
    let (raw, problems) = raw::parse(text).map_err(|e| vec![e[0].message.clone()])?;
    validate(&raw, problems, Path::new("/proj"), || "proj".to_owned(), None)
        .map_err(|ds| ds.into_iter().map(|d| d.message).collect())
}

#[test]
fn defaults_follow_the_spec() {
    let (p, timeline) = load("[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\n").expect("valid");
    assert_eq!(p.name(), "proj");
    assert!(timeline.is_none());
    let s = p.settings();
    assert!(!s.fail_fast && s.capture_output && s.jobs == 0 && s.env.is_empty());
    assert_eq!(s.output, None, "chosen by where the output goes");
    assert_eq!(s.dir.as_deref(), Some(Path::new("/proj")));
    let a = &p.phases()[0];
    assert!(!a.parallel && !a.keep_daemons);
    assert_eq!((a.weight, a.max_logs, a.timeout, a.cwd.as_ref()), (1, 200, None, None));
    assert_eq!(a.policy.on_fail, OnFail::Stop);
}

#[test]
fn every_key_is_read() {
    let (p, timeline) = load(
        r#"[pipeline]
name = "ci"
fail_fast = true
capture_output = false
output = "grouped"
jobs = 3
timeline = "out/t.json"
env = { A = "1" }

[[pipeline.phase]]
name = "b"
description = "Build"
args = ["cargo", "build"]
parallel = true
weight = 0
max_logs = 0
timeout = "1m 30s"
cwd = "crates/b"
env = { B = "2" }
keep_daemons = true
policy = { on_fail = "retry", max_retries = 2, retry_delay = 0.25, retry_backoff = "exponential" }
"#,
    )
    .expect("valid");
    assert_eq!(p.name(), "ci");
    assert_eq!(timeline.as_deref(), Some(Path::new("/proj/out/t.json")));
    let s = p.settings();
    assert!(s.fail_fast && !s.capture_output);
    assert_eq!(s.output, Some(crate::ci::OutputMode::Grouped));
    assert_eq!((s.jobs, s.env["A"].as_str()), (3, "1"));
    let b = &p.phases()[0];
    assert!(matches!(&b.handler, Handler::Args(a) if a == &["cargo", "build"]));
    assert_eq!((b.description.as_str(), b.parallel, b.weight, b.max_logs), ("Build", true, 0, 0));
    assert_eq!(b.timeout, Some(Duration::from_secs(90)));
    assert_eq!(b.cwd.as_deref(), Some(Path::new("/proj/crates/b")));
    assert_eq!(b.env["B"], "2");
    assert!(b.keep_daemons);
    assert_eq!(b.policy.on_fail, OnFail::Retry);
    assert_eq!(b.policy.max_retries, 2);
    assert_eq!(b.policy.retry_delay, Duration::from_millis(250));
    assert_eq!(b.policy.retry_backoff, Backoff::Exponential);
}

#[test]
fn declaration_order_is_kept() {
    let text = ["zeta", "alpha", "mid"]
        .map(|n| format!("[[pipeline.phase]]\nname = \"{n}\"\ncmd = \"true\"\n"))
        .concat();
    let (p, _) = load(&text).expect("valid");
    let names: Vec<&str> = p.phases().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
}

#[test]
fn long_cycles_are_shortened() {
    let n = 40;
    let mut text = String::new();
    for i in 0..n {
        let next = (i + 1) % n;
        let _ = write!(
            text,
            "[[pipeline.phase]]\nname = \"p{i}\"\ncmd = \"x\"\ndepends_on = [\"p{next}\"]\n"
        );
    }
    let (raw, problems) = raw::parse(&text).expect("valid TOML");
    let errors = validate(&raw, problems, Path::new("/p"), String::new, None).expect_err("cyclic");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].message,
        "circular dependency: p0 → p1 → p2 → p3 → p4 → p5 → p6 → p7 → … 31 more … → p39 → p0"
    );
    assert_eq!(errors[0].related.len(), 7);
    assert_eq!(errors[0].notes, ["32 more dependencies close the cycle"]);
}

#[test]
fn problems_come_back_in_file_order() {
    let errors = load(
        "[[pipeline.phase]]\nname = \"a\"\ncmd = \"\"\nweight = -3\n[[pipeline.phase]]\nname = \"a\"\ncmd = \"x\"\ndepends_on = [\"nope\"]\n",
    )
    .expect_err("invalid");
    assert_eq!(
        errors,
        [
            "phase `a` has an empty `cmd`",
            "`weight` must be >= 0, found -3",
            "duplicate phase name `a`",
            "phase `a` depends on unknown phase `nope`",
        ]
    );
}
