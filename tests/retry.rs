//! Retries: success on a later attempt, exhaustion, and the delays between attempts.

use crate::run_support::{phase, run, timeline};

fn attempt_starts(tl: &serde_json::Value, name: &str) -> Vec<(f64, f64)> {
    phase(tl, name)["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| (a["start"].as_f64().expect("start"), a["end"].as_f64().expect("end")))
        .collect()
}

#[test]
fn retry_succeeds_on_the_second_attempt() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "flaky"
cmd = "echo attempt $MILO_ATTEMPT; [ \"$MILO_ATTEMPT\" -ge 2 ]"
policy = { on_fail = "retry", max_retries = 3, retry_delay = 0.1 }
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    let p = phase(&tl, "flaky");
    assert_eq!(p["status"], "completed");
    assert_eq!(p["attempt"], 2);
    assert_eq!(p["attempts"][0]["error"], "exit code 1");
    assert!(out.stdout.contains("↻ flaky retry 2/4 in 100ms"), "{}", out.stdout);
    let log = out.read("logs/flaky.log");
    assert!(log.contains("attempt 1") && log.contains("attempt 2"), "{log}");
}

#[test]
fn retries_exhausted_with_the_delays_honoured() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "never"
cmd = "exit 4"
policy = { on_fail = "retry", max_retries = 2, retry_delay = 0.3 }
"#,
        &[],
    );
    out.code(1);
    let tl = timeline(&out);
    let p = phase(&tl, "never");
    assert_eq!(p["error"], "retries exhausted after 3 attempts: exit code 4");
    let a = attempt_starts(&tl, "never");
    assert_eq!(a.len(), 3);
    for w in a.windows(2) {
        assert!(w[1].0 - w[0].1 >= 0.3 - 1e-3, "gap {} < delay", w[1].0 - w[0].1);
    }
}

#[test]
fn exponential_gaps_double() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "exp"
cmd = "exit 1"
policy = { on_fail = "retry", max_retries = 3, retry_delay = 0.1, retry_backoff = "exponential" }
"#,
        &[],
    );
    out.code(1);
    let tl = timeline(&out);
    let a = attempt_starts(&tl, "exp");
    assert_eq!(a.len(), 4);
    // The delays the engine chose double (it says so), and each was waited out: the next
    // attempt started at least that long after the last one ended, by the engine's clock.
    // How much longer a loaded machine takes is not the engine's doing, so it is not bounded.
    for (retry, delay) in [(2, "100ms"), (3, "200ms"), (4, "400ms")] {
        let line = format!("↻ exp retry {retry}/4 in {delay}");
        assert!(out.stdout.contains(&line), "no `{line}` in:\n{}", out.stdout);
    }
    let gaps: Vec<f64> = a.windows(2).map(|w| w[1].0 - w[0].1).collect();
    for (i, want) in [0.1, 0.2, 0.4].iter().enumerate() {
        assert!(gaps[i] >= want - 1e-3, "gap {i} = {} < {want}", gaps[i]);
    }
}

#[test]
fn timeout_is_retried() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "slow"
cmd = "[ \"$MILO_ATTEMPT\" -ge 2 ] || sleep 150"
timeout = "200ms"
policy = { on_fail = "retry", max_retries = 1, retry_delay = 0 }
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    assert_eq!(phase(&tl, "slow")["attempts"][0]["error"], "timed out after 200ms");
}
