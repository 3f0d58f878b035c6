use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::action::Stream;
use crate::ci::Flavour;
use crate::phase::{Phase, PhasePolicy};

/// Records text, and `[log of NAME]` where a phase's log is copied.
#[derive(Default)]
struct Recorder(String);

impl Sink for Recorder {
    fn text(&mut self, text: &str) {
        self.0.push_str(text);
    }

    fn log(&mut self, name: &str) {
        let _ = writeln!(self.0, "[log of {name}]");
    }
}

fn pipeline() -> Pipeline {
    Pipeline::new("ci")
        .phase(Phase::cmd("fmt", "true").parallel(true))
        .phase(Phase::cmd("build", "true").parallel(true))
        .phase(Phase::cmd("flaky", "true").policy(PhasePolicy::retry(2, Duration::ZERO)))
        .build()
        .expect("valid")
}

fn start(name: &str, attempt: u32, t: f64) -> Action {
    Action::PhaseStart { name: name.into(), attempt, t }
}

fn log(name: &Arc<str>, line: &str, stream: Stream, t: f64) -> Action {
    Action::PhaseLog { name: Arc::clone(name), line: line.into(), stream, t }
}

fn failed(name: &str, t: f64) -> Action {
    Action::PhaseFailed { name: name.into(), error: "exit code 1".into(), exit_code: Some(1), t }
}

fn complete(name: &str, t: f64) -> Action {
    Action::PhaseComplete { name: name.into(), result: serde_json::json!({}), t }
}

/// Two parallel phases whose lines interleave; `build` fails, then `flaky` retries and passes.
fn actions() -> Vec<Action> {
    let (fmt, build): (Arc<str>, Arc<str>) = ("fmt".into(), "build".into());
    vec![
        Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 },
        start("fmt", 1, 0.0),
        start("build", 1, 0.0),
        log(&fmt, "checked", Stream::Stdout, 0.1),
        log(&build, "::error::pwned", Stream::Stdout, 0.2),
        log(&build, "error[E0308]: mismatched types", Stream::Stderr, 0.3),
        complete("fmt", 0.5),
        failed("build", 2.0),
        start("flaky", 1, 2.0),
        Action::PhaseRetry {
            name: "flaky".into(),
            attempt: 1,
            error: "exit code 1".into(),
            exit_code: Some(1),
            delay: 2.0,
            t: 2.5,
        },
        start("flaky", 2, 4.5),
        complete("flaky", 5.0),
    ]
}

fn print(mode: OutputMode, flavour: Flavour) -> String {
    let mut printer = Printer::new(&pipeline(), mode, Framing::new(flavour, "T0K"), 60.0);
    let mut sink = Recorder::default();
    for action in actions() {
        printer.on_action(&action, &mut sink);
    }
    sink.0
}

#[test]
fn prefixed_lines_stream_as_they_come() {
    assert_eq!(
        print(OutputMode::Prefixed, Flavour::None),
        "▶ fmt\n▶ build\n\
         fmt   │ checked\n\
         build │ ::error::pwned\n\
         build ! error[E0308]: mismatched types\n\
         ✓ fmt 0.50s\n✗ build exit code 1\n\
         ▶ flaky\n↻ flaky retry 2/3 in 2s: exit code 1\n✓ flaky 3.00s\n"
    );
    assert_eq!(
        print(OutputMode::Prefixed, Flavour::Github),
        print(OutputMode::Prefixed, Flavour::None),
        "prefixed lines need no fence: each starts with its phase's name"
    );
}

#[test]
fn grouped_blocks_come_whole_when_a_phase_ends() {
    assert_eq!(
        print(OutputMode::Grouped, Flavour::None),
        "▶ fmt\n▶ build\n\
         ✓ fmt 0.50s\n[log of fmt]\n\
         ✗ build exit code 1\n[log of build]\n\
         ▶ flaky\n↻ flaky retry 2/3 in 2s: exit code 1\n✓ flaky 3.00s\n",
        "flaky printed nothing: no block"
    );
}

#[test]
fn errors_shows_only_the_failed_phases_output() {
    assert_eq!(
        print(OutputMode::Errors, Flavour::None),
        "▶ fmt\n▶ build\n✓ fmt 0.50s\n✗ build exit code 1\n[log of build]\n\
         ▶ flaky\n↻ flaky retry 2/3 in 2s: exit code 1\n✓ flaky 3.00s\n"
    );
}

#[test]
fn on_github_blocks_are_groups_a_failure_is_open_and_output_is_fenced() {
    let text = print(OutputMode::Grouped, Flavour::Github);
    assert!(
        text.contains(
            "::group::✓ fmt 0.50s\n::stop-commands::T0K\n[log of fmt]\n::T0K::\n::endgroup::\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "✗ build exit code 1\n::stop-commands::T0K\n[log of build]\n::T0K::\n▶ flaky"
        ),
        "{text}"
    );
}

#[test]
fn on_gitlab_blocks_are_sections_with_the_phases_times() {
    let text = print(OutputMode::Grouped, Flavour::Gitlab);
    // 2026-11-28T14:00:00Z is 1795874400; fmt ran from 0s to 0.5s, build to 2s.
    assert!(
        text.contains(
            "\x1b[0Ksection_start:1795874400:milo_1_fmt[collapsed=true]\r\x1b[0K✓ fmt 0.50s\n\
             [log of fmt]\n\x1b[0Ksection_end:1795874400:milo_1_fmt\r\x1b[0K\n"
        ),
        "{text:?}"
    );
    assert!(
        text.contains(
            "\x1b[0Ksection_start:1795874400:milo_2_build\r\x1b[0K✗ build exit code 1\n\
             [log of build]\n\x1b[0Ksection_end:1795874402:milo_2_build\r\x1b[0K\n"
        ),
        "a failure is expanded: {text:?}"
    );
}

#[test]
fn still_running_lines_come_from_the_timer_not_from_output() {
    let mut printer =
        Printer::new(&pipeline(), OutputMode::Grouped, Framing::new(Flavour::None, ""), 60.0);
    let mut sink = Recorder::default();
    let build: Arc<str> = "build".into();
    printer.on_action(&start("build", 1, 0.0), &mut sink);
    printer.on_action(&log(&build, "compiling", Stream::Stdout, 30.0), &mut sink);
    assert_eq!(printer.next_tick(), Some(60.0), "held-back output keeps no log alive");
    printer.tick(59.0, &mut sink);
    printer.tick(61.0, &mut sink);
    printer.tick(125.0, &mut sink);
    printer.on_action(&complete("build", 130.0), &mut sink);
    printer.tick(500.0, &mut sink);
    assert_eq!(
        sink.0,
        "▶ build\n… build running 1m\n… build running 2m\n✓ build 2m 10s\n[log of build]\n"
    );
    assert_eq!(printer.next_tick(), None);
}

#[test]
fn prefixed_output_puts_the_still_running_line_off() {
    let mut printer =
        Printer::new(&pipeline(), OutputMode::Prefixed, Framing::new(Flavour::None, ""), 60.0);
    let mut sink = Recorder::default();
    let build: Arc<str> = "build".into();
    printer.on_action(&start("build", 1, 0.0), &mut sink);
    printer.on_action(&log(&build, "compiling", Stream::Stdout, 30.0), &mut sink);
    printer.tick(61.0, &mut sink);
    assert_eq!(sink.0, "▶ build\nbuild │ compiling\n");
    printer.tick(90.0, &mut sink);
    assert!(sink.0.ends_with("… build running 1m\n"), "{}", sink.0);
}

#[test]
fn the_end_fences_excerpts_then_annotates_then_sums_up() {
    let mut printer =
        Printer::new(&pipeline(), OutputMode::Grouped, Framing::new(Flavour::Github, "T0K"), 60.0);
    let mut sink = Recorder::default();
    printer.finish(
        "--- build failed ---\n::error::pwned\n",
        "::error title=build failed::exit code 1\n",
        "phase status\npipeline ci failed in 2.00s",
        &mut sink,
    );
    assert_eq!(
        sink.0,
        "::stop-commands::T0K\n--- build failed ---\n::error::pwned\n::T0K::\n\
         ::error title=build failed::exit code 1\nphase status\npipeline ci failed in 2.00s\n"
    );
    let mut plain =
        Printer::new(&pipeline(), OutputMode::Prefixed, Framing::new(Flavour::None, ""), 60.0);
    let mut sink = Recorder::default();
    plain.finish("", "", "pipeline ci completed in 1.00s\n", &mut sink);
    assert_eq!(sink.0, "pipeline ci completed in 1.00s\n");
}

#[test]
fn a_phase_of_another_pipeline_is_printed_without_facts() {
    let mut printer =
        Printer::new(&pipeline(), OutputMode::Grouped, Framing::new(Flavour::None, ""), 60.0);
    let mut sink = Recorder::default();
    printer.on_action(&start("ghost", 1, 0.0), &mut sink);
    printer.on_action(&log(&"ghost".into(), "boo", Stream::Stdout, 0.5), &mut sink);
    printer.on_action(&complete("ghost", 1.0), &mut sink);
    assert_eq!(sink.0, "▶ ghost\n✓ ghost 0.00s\n");
}

/// [`actions`] with each phase's consecutive lines of one stream and time as one `PhaseLogs`.
fn batched() -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    for action in actions() {
        let Action::PhaseLog { name, line, stream, t } = &action else {
            out.push(action);
            continue;
        };
        let mut lines = crate::lines::LineBatch::default();
        lines.push(line.as_bytes());
        out.push(Action::PhaseLogs {
            name: Arc::clone(name),
            stream: *stream,
            t: *t,
            lines: Arc::new(lines),
        });
    }
    out
}

#[test]
fn a_batch_of_lines_prints_as_its_lines_one_by_one() {
    let (build, fmt): (Arc<str>, Arc<str>) = ("build".into(), "fmt".into());
    let lines = ["a", "", "b │ c"];
    for mode in [OutputMode::Prefixed, OutputMode::Grouped, OutputMode::Errors] {
        for flavour in [Flavour::None, Flavour::Github, Flavour::Gitlab] {
            let print = |actions: Vec<Action>| {
                let mut printer =
                    Printer::new(&pipeline(), mode, Framing::new(flavour, "T0K"), 60.0);
                let mut sink = Recorder::default();
                for action in actions {
                    printer.on_action(&action, &mut sink);
                }
                sink.0
            };
            assert_eq!(print(batched()), print(actions()), "{mode:?} {flavour:?}");
            let mut batch = crate::lines::LineBatch::default();
            for line in lines {
                batch.push(line.as_bytes());
            }
            let one = Action::PhaseLogs {
                name: Arc::clone(&build),
                stream: Stream::Stderr,
                t: 0.4,
                lines: Arc::new(batch),
            };
            let singles = lines.iter().map(|l| log(&build, l, Stream::Stderr, 0.4));
            let around = |middle: Vec<Action>| {
                let mut all = vec![start("build", 1, 0.0), start("fmt", 1, 0.0)];
                all.push(log(&fmt, "x", Stream::Stdout, 0.1));
                all.extend(middle);
                all.push(failed("build", 1.0));
                all
            };
            assert_eq!(print(around(vec![one])), print(around(singles.collect())), "{mode:?}");
        }
    }
}
