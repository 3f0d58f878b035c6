//! A timeline with every outcome, folded by the real reducer, for the reports' tests.

use serde_json::json;

use crate::action::{Action, Stream};
use crate::phase::{OnFail, Phase, PhasePolicy};
use crate::pipeline::Pipeline;
use crate::reducer::reduce;
use crate::state::PipelineState;
use crate::timeline::Timeline;

fn log(name: &str, line: &str, stream: Stream, t: f64) -> Action {
    Action::PhaseLog { name: name.into(), line: line.into(), stream, t }
}

/// `fmt` passes; `flaky` passes on its second attempt; `build` fails its two attempts with a
/// type error among warnings; `lint` fails under `on_fail = "skip"`; `slow` is cancelled;
/// `deploy` (after `build`) never starts; `evil` prints markup.
pub fn sample() -> Timeline {
    let retry =
        |n| PhasePolicy { on_fail: OnFail::Retry, max_retries: n, ..PhasePolicy::default() };
    let pipeline = Pipeline::new("ci")
        .phase(Phase::cmd("fmt", "true").parallel(true).description("Check formatting"))
        .phase(Phase::cmd("flaky", "true").parallel(true).policy(retry(2)))
        .phase(Phase::cmd("build", "true").parallel(true).policy(retry(1)))
        .phase(
            Phase::cmd("lint", "true")
                .parallel(true)
                .policy(PhasePolicy { on_fail: OnFail::Skip, ..PhasePolicy::default() }),
        )
        .phase(Phase::cmd("slow", "true").parallel(true))
        .phase(Phase::cmd("evil", "true").parallel(true))
        .phase(Phase::cmd("deploy", "true").depends_on(["build"]))
        .build()
        .expect("valid");
    let mut actions = vec![
        Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 },
        Action::PhaseStart { name: "fmt".into(), attempt: 1, t: 0.0 },
        log("fmt", "all formatted", Stream::Stdout, 0.1),
        Action::PhaseComplete { name: "fmt".into(), result: json!({"exit_code": 0}), t: 0.5 },
        Action::PhaseStart { name: "flaky".into(), attempt: 1, t: 0.0 },
        log("flaky", "connection reset", Stream::Stderr, 0.2),
        Action::PhaseRetry {
            name: "flaky".into(),
            attempt: 1,
            error: "exit code 1".into(),
            exit_code: Some(1),
            delay: 1.0,
            t: 0.3,
        },
        Action::PhaseStart { name: "flaky".into(), attempt: 2, t: 1.3 },
        log("flaky", "ok now", Stream::Stdout, 1.4),
        Action::PhaseComplete { name: "flaky".into(), result: json!({"exit_code": 0}), t: 1.5 },
        Action::PhaseStart { name: "build".into(), attempt: 1, t: 0.0 },
        Action::PhaseRetry {
            name: "build".into(),
            attempt: 1,
            error: "exit code 101".into(),
            exit_code: Some(101),
            delay: 0.5,
            t: 1.0,
        },
        Action::PhaseStart { name: "build".into(), attempt: 2, t: 1.5 },
    ];
    let compiler = [
        "   Compiling app v0.1.0",
        "warning: unused variable: `x`",
        " --> src/lib.rs:1:9",
        "",
        "error[E0308]: mismatched types",
        " --> src/main.rs:2:18",
        "  |",
        "2 |     let x: u32 = \"hello\";",
        "  |                  ^^^^^^^ expected `u32`, found `&str`",
        "",
    ];
    for (i, line) in compiler.iter().enumerate() {
        actions.push(log("build", line, Stream::Stderr, 1.6 + i as f64 * 0.01));
    }
    for i in 0..30 {
        actions.push(log("build", &format!("warning: unreachable {i}"), Stream::Stderr, 1.8));
    }
    actions.extend([
        Action::PhaseFailed {
            name: "build".into(),
            error: "retries exhausted after 2 attempts: exit code 101".into(),
            exit_code: Some(101),
            t: 2.0,
        },
        Action::PhaseStart { name: "lint".into(), attempt: 1, t: 0.5 },
        log("lint", "error: lint said no", Stream::Stderr, 0.6),
        Action::PhaseSkipped {
            name: "lint".into(),
            error: "exit code 3".into(),
            exit_code: Some(3),
            t: 0.7,
        },
        Action::PhaseStart { name: "slow".into(), attempt: 1, t: 0.2 },
        Action::PhaseStart { name: "evil".into(), attempt: 1, t: 0.1 },
        log("evil", "<script>alert('pwned')</script> & \"quotes\" ]]> |pipe|", Stream::Stdout, 0.2),
        log("evil", "::error::pwned", Stream::Stderr, 0.3),
        Action::PhaseComplete { name: "evil".into(), result: json!({"exit_code": 0}), t: 0.4 },
        Action::PhaseCancelled { name: "slow".into(), t: 2.0 },
        Action::PipelineFailed { t: 2.0 },
    ]);
    let state = actions.iter().fold(PipelineState::new(&pipeline), reduce);
    Timeline::from_state(&state)
}

#[test]
fn the_sample_has_every_outcome() {
    use crate::state::PhaseStatus as S;
    let t = sample();
    let statuses: Vec<(&str, S)> = t.phases.iter().map(|p| (p.name.as_str(), p.status)).collect();
    assert_eq!(
        statuses,
        [
            ("fmt", S::Completed),
            ("flaky", S::Completed),
            ("build", S::Failed),
            ("lint", S::Skipped),
            ("slow", S::Cancelled),
            ("evil", S::Completed),
            ("deploy", S::Pending),
        ]
    );
    assert_eq!(t.phases[1].attempts.len(), 2);
    assert_eq!(t.phases[2].attempts.len(), 2);
}
