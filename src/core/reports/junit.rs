//! `JUnit` XML (written with quick-junit, the library nextest uses): one testsuite per
//! pipeline, one testcase per phase. GitLab's `reports: junit` and Jenkins read it.

use std::time::Duration;

use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::{Excerpts, excerpt_of, has_failure, not_run_reason};
use crate::action::Stream;
use crate::state::PhaseStatus;
use crate::timeline::{Timeline, TimelinePhase};

/// The `JUnit` document of `timeline`.
pub fn render(timeline: &Timeline, excerpts: &Excerpts) -> String {
    let mut suite = TestSuite::new(timeline.pipeline.as_str());
    suite.set_time(seconds(timeline.elapsed));
    let started =
        timeline.started_at.as_deref().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    if let Some(started) = started {
        suite.set_timestamp(started);
    }
    suite.add_test_cases(timeline.phases.iter().map(|p| test_case(p, timeline, excerpts)));
    let mut report = Report::new(format!("cargo-milo {}", timeline.pipeline));
    report.set_time(seconds(timeline.elapsed));
    if let Some(started) = started {
        report.set_timestamp(started);
    }
    report.add_test_suite(suite);
    // Serializing owned strings into a Vec cannot fail; an empty report is the fallback.
    report.to_string().unwrap_or_default()
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or_default()
}

fn test_case(phase: &TimelinePhase, timeline: &Timeline, excerpts: &Excerpts) -> TestCase {
    let status = match phase.status {
        PhaseStatus::Completed => {
            TestCaseStatus::Success { flaky_runs: reruns(phase, phase.attempts.len()) }
        }
        PhaseStatus::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let error = phase.error.as_deref().unwrap_or("failed");
            let excerpt = excerpt_of(phase, excerpts);
            status.set_message(match excerpt.first_error() {
                Some(first) => format!("{error}: {first}"),
                None => error.to_owned(),
            });
            status.set_type(error_type(phase));
            status.set_description(excerpt.to_text(""));
            let earlier = phase.attempts.len().saturating_sub(1);
            status.add_reruns(reruns(phase, earlier));
            status.set_rerun_kind(FlakyOrRerun::Rerun);
            status
        }
        _ => {
            let mut status = TestCaseStatus::skipped();
            if let Some(reason) = not_run_reason(phase, timeline) {
                status.set_message(reason);
            }
            if has_failure(phase) {
                status.set_description(excerpt_of(phase, excerpts).to_text(""));
            }
            status
        }
    };
    let mut case = TestCase::new(phase.name.as_str(), status);
    case.set_classname(timeline.pipeline.as_str());
    if phase.start.is_some() {
        case.set_time(seconds(phase.elapsed));
    }
    let (out, err) = streams(phase);
    if !out.is_empty() {
        case.set_system_out(out);
    }
    if !err.is_empty() {
        case.set_system_err(err);
    }
    case
}

/// `exit code` (the process failed), `timeout`, `signal` or `spawn`, for the failure's type.
fn error_type(phase: &TimelinePhase) -> &'static str {
    let error = phase.attempts.last().and_then(|a| a.error.as_deref()).unwrap_or_default();
    if error.contains("timed out") {
        "timeout"
    } else if error.contains("signal") {
        "signal"
    } else if error.contains("not found") || error.contains("could not start") {
        "spawn"
    } else {
        "exit code"
    }
}

/// The first `count` attempts that failed, as reruns.
fn reruns(phase: &TimelinePhase, count: usize) -> Vec<TestRerun> {
    phase
        .attempts
        .iter()
        .take(count)
        .filter_map(|a| {
            let error = a.error.as_deref()?;
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            rerun.set_message(format!("attempt {}: {error}", a.attempt));
            if let Some(end) = a.end {
                rerun.set_time(seconds(end - a.start));
            }
            Some(rerun)
        })
        .collect()
}

/// The retained lines of each stream, one a line.
fn streams(phase: &TimelinePhase) -> (String, String) {
    let (mut out, mut err) = (String::new(), String::new());
    for log in &phase.logs {
        let to = if log.stream == Stream::Stderr { &mut err } else { &mut out };
        to.push_str(&log.line);
        to.push('\n');
    }
    (out, err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixture::sample;

    fn parse(xml: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(xml).expect("well-formed XML")
    }

    fn case<'a>(doc: &'a roxmltree::Document<'a>, name: &str) -> roxmltree::Node<'a, 'a> {
        doc.descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no testcase {name}"))
    }

    fn child<'a>(node: roxmltree::Node<'a, 'a>, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
        node.children().filter(|n| n.has_tag_name(tag)).collect()
    }

    #[test]
    fn an_up_to_date_phase_is_skipped_with_the_reason() {
        let pipeline = crate::Pipeline::new("ci")
            .phase(crate::Phase::cmd("gen", "true").inputs(["*.proto"]))
            .build()
            .expect("valid");
        let result = serde_json::json!({"exit_code": 0, "outputs": {}});
        let up = crate::Action::PhaseUpToDate { name: "gen".into(), result, t: 0.1 };
        let state = crate::reduce(crate::PipelineState::new(&pipeline), &up);
        let timeline = Timeline::from_state(&state);
        let xml = render(&timeline, &Excerpts::new());
        let doc = parse(&xml);
        let skipped = child(case(&doc, "gen"), "skipped");
        assert_eq!(skipped.len(), 1, "{xml}");
        assert_eq!(
            skipped[0].attribute("message"),
            Some("up to date: nothing it depends on changed since its last success")
        );
        let summary = crate::reports::markdown::render(&timeline, &Excerpts::new(), 1 << 20);
        assert!(summary.contains("1 phases: 0 completed, 1 up to date, 0 failed"), "{summary}");
        let html = crate::reports::html::render(&timeline, &Excerpts::new());
        assert!(html.contains(r#"data-name="gen" data-status="up_to_date""#), "{html}");
    }

    #[test]
    fn one_suite_one_case_per_phase_with_counts() {
        let xml = render(&sample(), &Excerpts::new());
        let doc = parse(&xml);
        let suites: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
        assert_eq!(suites.len(), 1);
        let suite = suites[0];
        assert_eq!(suite.attribute("name"), Some("ci"));
        assert_eq!(suite.attribute("tests"), Some("7"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        assert_eq!(suite.attribute("skipped"), Some("3"));
        assert_eq!(suite.attribute("time"), Some("2.000"));
        assert_eq!(suite.attribute("timestamp"), Some("2026-11-28T14:00:00.000+00:00"));
        for c in child(suite, "testcase") {
            assert_eq!(c.attribute("classname"), Some("ci"));
        }
        assert_eq!(case(&doc, "fmt").attribute("time"), Some("0.500"));
    }

    #[test]
    fn a_failure_carries_the_error_its_excerpt_and_reruns() {
        let xml = render(&sample(), &Excerpts::new());
        let doc = parse(&xml);
        let build = case(&doc, "build");
        let failure = child(build, "failure");
        assert_eq!(failure.len(), 1);
        assert_eq!(
            failure[0].attribute("message"),
            Some(
                "retries exhausted after 2 attempts: exit code 101: \
                 error[E0308]: mismatched types"
            )
        );
        assert_eq!(failure[0].attribute("type"), Some("exit code"));
        let text = failure[0].text().unwrap_or_default();
        assert!(
            text.starts_with("error[E0308]: mismatched types\n --> src/main.rs:2:18\n"),
            "{text}"
        );
        assert!(text.ends_with("warning: unreachable 29\n"), "{text}");
        let reruns = child(build, "rerunFailure");
        assert_eq!(reruns.len(), 1, "the first of two attempts");
        assert_eq!(reruns[0].attribute("message"), Some("attempt 1: exit code 101"));
        assert!(child(build, "flakyFailure").is_empty());
        let err = child(build, "system-err");
        assert!(err[0].text().unwrap_or_default().contains("warning: unreachable 29"));
    }

    #[test]
    fn a_flaky_pass_has_flaky_failures() {
        let xml = render(&sample(), &Excerpts::new());
        let doc = parse(&xml);
        let flaky = case(&doc, "flaky");
        assert!(child(flaky, "failure").is_empty());
        let runs = child(flaky, "flakyFailure");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].attribute("message"), Some("attempt 1: exit code 1"));
        assert_eq!(child(flaky, "system-out")[0].text(), Some("ok now\n"));
        assert!(child(case(&doc, "fmt"), "flakyFailure").is_empty());
    }

    #[test]
    fn skipped_cancelled_and_never_started_say_why() {
        let xml = render(&sample(), &Excerpts::new());
        let doc = parse(&xml);
        let reason = |name| child(case(&doc, name), "skipped")[0].attribute("message");
        assert_eq!(reason("lint"), Some("skipped after failing (on_fail = \"skip\"): exit code 3"));
        assert_eq!(reason("slow"), Some("cancelled: another phase failed (fail_fast)"));
        assert_eq!(reason("deploy"), Some("never started: its dependency `build` failed"));
        assert_eq!(case(&doc, "deploy").attribute("time"), None);
    }

    #[test]
    fn markup_in_output_stays_text() {
        let xml = render(&sample(), &Excerpts::new());
        let doc = parse(&xml);
        let out = child(case(&doc, "evil"), "system-out")[0].text().unwrap_or_default();
        assert_eq!(out, "<script>alert('pwned')</script> & \"quotes\" ]]> |pipe|\n");
    }

    #[test]
    fn an_excerpt_from_the_full_log_wins() {
        let mut excerpts = Excerpts::new();
        let full = ["error: from the full log", "", "last"];
        excerpts.insert(
            "build".into(),
            crate::excerpt::Excerpt::of(
                full,
                crate::excerpt::Limits { tail: 1, ..Default::default() },
            ),
        );
        let xml = render(&sample(), &excerpts);
        let doc = parse(&xml);
        let failure = child(case(&doc, "build"), "failure")[0];
        assert_eq!(
            failure.attribute("message"),
            Some("retries exhausted after 2 attempts: exit code 101: error: from the full log")
        );
    }
}
