//! Snapshots of the detail view drawn on a `TestBackend`, at fixed times so they are stable.

use std::sync::Arc;

use milo::tui::render::{clean, log_height};
use milo::view::{Key, ViewAction, ViewState, reduce_view};
use milo::{Action, Phase, PhasePolicy, Pipeline, PipelineState, Stream};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use serde_json::json;

fn pipeline() -> Pipeline {
    let retry = PhasePolicy::retry(2, std::time::Duration::from_secs(2));
    Pipeline::new("ci")
        .phase(Phase::cmd("fmt", "cargo fmt --check").parallel(true))
        .phase(Phase::cmd("clippy", "cargo clippy").parallel(true).weight(2))
        .phase(Phase::cmd("build", "cargo build").depends_on(["fmt"]).weight(5).max_logs(10_000))
        .phase(Phase::cmd("flaky-network", "./fetch.sh").parallel(true).policy(retry))
        .phase(Phase::cmd("test", "cargo test").depends_on(["build"]).weight(3))
        .phase(Phase::cmd("docs", "cargo doc").policy(PhasePolicy::skip()))
        .phase(Phase::cmd("package", "cargo package").depends_on(["test", "docs"]))
        .build()
        .expect("valid pipeline")
}

fn name(s: &str) -> Arc<str> {
    Arc::from(s)
}

fn start(phase: &str, attempt: u32, t: f64) -> Action {
    Action::PhaseStart { name: name(phase), attempt, t }
}

fn out(phase: &str, line: &str, t: f64) -> Action {
    Action::PhaseLog { name: name(phase), line: name(line), stream: Stream::Stdout, t }
}

fn err(phase: &str, line: &str, t: f64) -> Action {
    Action::PhaseLog { name: name(phase), line: name(line), stream: Stream::Stderr, t }
}

fn done(phase: &str, t: f64) -> Action {
    Action::PhaseComplete { name: name(phase), result: json!({"exit_code": 0, "outputs": {}}), t }
}

/// fmt and clippy done, build printing, flaky-network waiting for its second attempt, docs
/// skipped, test and package pending; 12.5 s in.
fn mid_run() -> ViewState {
    let mut actions = vec![
        Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 },
        start("fmt", 1, 0.0),
        start("clippy", 1, 0.0),
        start("flaky-network", 1, 0.1),
        out("fmt", "Diff in src/lib.rs: none", 0.3),
        done("fmt", 0.52),
        start("build", 1, 0.52),
        err("flaky-network", "curl: (7) Failed to connect to mirror port 443", 1.2),
        Action::PhaseRetry {
            name: name("flaky-network"),
            attempt: 1,
            error: "exit code 7".into(),
            exit_code: Some(7),
            delay: 2.0,
            t: 1.3,
        },
        done("clippy", 4.25),
        start("docs", 1, 4.25),
        err("docs", "error: unresolved link to `Foo`", 5.0),
        Action::PhaseSkipped {
            name: name("docs"),
            error: "exit code 101".into(),
            exit_code: Some(101),
            t: 5.1,
        },
    ];
    for i in 0..40 {
        let t = 0.6 + f64::from(i) * 0.25;
        actions.push(err("build", &format!("   Compiling crate-{i:02} v0.1.{i}"), t));
    }
    actions.push(out("build", "\x1b[1;32mwarning\x1b[0m:\tunused variable `x`", 11.0));
    fold(ViewState::new(PipelineState::new(&pipeline())).live(), actions, 12.5)
}

fn fold(view: ViewState, actions: Vec<Action>, now: f64) -> ViewState {
    let view = actions.into_iter().fold(view, |v, a| reduce_view(v, &a.into()));
    reduce_view(view, &ViewAction::Tick { now })
}

fn keys(view: ViewState, keys: &[Key]) -> ViewState {
    keys.iter().fold(view, |v, k| reduce_view(v, &ViewAction::Key(*k)))
}

/// The pipeline failed: test printed and exited 101.
fn failed() -> ViewState {
    let mut actions = vec![start("test", 1, 13.0)];
    for i in 0..30 {
        actions.push(out(
            "test",
            &format!("test module_{i}::works ... ok"),
            13.1 + f64::from(i) * 0.1,
        ));
    }
    actions.extend([
        out("test", "test parser::rejects_cycles ... FAILED", 16.5),
        err("test", "thread 'parser::rejects_cycles' panicked at src/graph.rs:88:9:", 16.6),
        err("test", "assertion `left == right` failed", 16.6),
        out("test", "test result: FAILED. 30 passed; 1 failed; 0 ignored", 16.8),
        Action::PhaseFailed {
            name: name("test"),
            error: "exit code 101".into(),
            exit_code: Some(101),
            t: 17.0,
        },
        Action::PipelineFailed { t: 17.0 },
    ]);
    let mut view = mid_run();
    view.live = false;
    let view = fold(view, finish_build(), 12.5);
    fold(view, actions, 17.0)
}

fn finish_build() -> Vec<Action> {
    vec![start("flaky-network", 2, 3.3), done("flaky-network", 5.0), done("build", 12.9)]
}

/// Draws `view` at `width`×`height` as the live loop does: first telling the reducer how
/// many log rows fit.
fn draw(view: ViewState, width: u16, height: u16) -> String {
    if width == 0 || height == 0 {
        return String::new();
    }
    let rows = log_height(Rect::new(0, 0, width, height), &view);
    let view = reduce_view(view, &ViewAction::Resize { log_height: rows });
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|frame| frame.render_widget(&view, frame.area())).expect("draw");
    terminal.backend().to_string()
}

#[test]
fn overview_mid_run_80x24() {
    // The running phase selected: its latest lines are previewed under the list.
    let screen = draw(keys(mid_run(), &[Key::Down, Key::Down]), 80, 24);
    assert!(screen.contains("─ build · running ─ latest lines"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn overview_mid_run_60x15() {
    insta::assert_snapshot!(draw(keys(mid_run(), &[Key::Down, Key::Down]), 60, 15));
}

#[test]
fn running_phase_expanded_follows_its_output() {
    let view = keys(mid_run(), &[Key::Down, Key::Down, Key::Enter]);
    let screen = draw(view, 80, 24);
    assert!(screen.contains("warning:    unused variable"), "ANSI stripped, tab expanded");
    insta::assert_snapshot!(screen);
}

#[test]
fn failed_phase_expanded_80x24() {
    let view = keys(failed(), &[Key::End, Key::Up, Key::Up, Key::Enter]);
    assert_eq!(view.selected_phase().map(|p| &*p.name), Some("test"));
    insta::assert_snapshot!(draw(view, 80, 24));
}

#[test]
fn a_compile_error_far_above_the_tail_shows_first() {
    let mut actions = vec![start("test", 1, 13.0)];
    for line in [
        "error[E0308]: mismatched types",
        " --> src/main.rs:2:18",
        "  |",
        "2 |     let x: u32 = \"hello\";",
        "  |                  ^^^^^^^ expected `u32`, found `&str`",
        "",
    ] {
        actions.push(err("test", line, 13.1));
    }
    for i in 0..60 {
        actions.push(err("test", &format!("warning: unreachable expression {i}"), 13.2));
    }
    actions.push(Action::PhaseFailed {
        name: name("test"),
        error: "exit code 101".into(),
        exit_code: Some(101),
        t: 14.0,
    });
    let mut view = mid_run();
    view.live = false;
    let view = fold(fold(view, finish_build(), 12.5), actions, 14.0);
    let screen = draw(keys(view.select_first_failure(), &[Key::Enter]), 80, 30);
    let lines: Vec<&str> = screen.lines().collect();
    let pane = lines.iter().position(|l| l.contains("─ looks like errors")).expect(&screen);
    assert!(lines[pane + 1].starts_with("\"1 ┃ error[E0308]: mismatched types"), "{screen}");
    assert!(lines[pane + 2].starts_with("\"2 ┃  --> src/main.rs:2:18"), "{screen}");
    let tail = lines.iter().position(|l| l.contains("warning: unreachable expression 59"));
    assert!(tail.is_some_and(|t| t > pane), "the log pane still ends at the tail:\n{screen}");
}

#[test]
fn failed_phase_expanded_60x15() {
    let view = failed().select_first_failure();
    insta::assert_snapshot!(draw(keys(view, &[Key::Enter]), 60, 15));
}

#[test]
fn retrying_phase_expanded() {
    let view = keys(mid_run(), &[Key::Down, Key::Down, Key::Down, Key::Enter]);
    assert_eq!(view.selected_phase().map(|p| &*p.name), Some("flaky-network"));
    insta::assert_snapshot!(draw(view, 80, 24));
}

#[test]
fn ten_thousand_lines_scrolled_to_the_middle() {
    let lines = (0..12_000).map(|i| {
        let t = 1.0 + f64::from(i) * 0.001;
        if i % 7 == 0 {
            err("build", &format!("warning: line {i} on stderr"), t)
        } else {
            out("build", &format!("   Compiling generated-{i:05} v1.0.0"), t)
        }
    });
    let view = fold(mid_run(), lines.collect(), 13.0);
    assert_eq!(view.pipeline.phases[2].logs.len(), 10_000);
    let view = keys(view, &[Key::Down, Key::Down, Key::Enter, Key::Home]);
    let mut view = view;
    view.log_scroll = 5_000;
    let screen = draw(view, 80, 24);
    // Line numbers count every printed line: 41 + 12,000 printed, 2,041 dropped, 5,000
    // scrolled past, so the first visible line is line 7,042.
    assert!(screen.contains(" 7,042 "), "{screen}");
    assert!(screen.contains("lines 5,001–"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn tiny_terminals_degrade_without_panicking() {
    for (w, h) in [(0, 0), (0, 5), (5, 0), (1, 1), (10, 3), (20, 4), (30, 6), (40, 8)] {
        let view = keys(failed().select_first_failure(), &[Key::Enter]);
        let _ = draw(view, w, h);
        let _ = draw(failed(), w, h);
    }
    insta::assert_snapshot!(draw(keys(failed().select_first_failure(), &[Key::Enter]), 40, 8));
}

#[test]
fn an_empty_pipeline_draws_a_header() {
    let pipeline = Pipeline::new("empty").build().expect("valid");
    let screen = draw(ViewState::new(PipelineState::new(&pipeline)), 40, 5);
    assert!(screen.contains("empty"), "{screen}");
}

#[test]
fn control_characters_are_made_safe() {
    assert_eq!(clean("plain"), "plain");
    assert_eq!(clean("\x1b[31mred\x1b[0m"), "red");
    assert_eq!(clean("a\tb"), "a   b");
    assert_eq!(clean("bell\x07 and \x1b]0;title\x07done"), "bell and done");
}

/// The note an expanded phase with no retained lines shows, for the phase `name` of `view`.
fn empty_pane_note(view: ViewState, name: &str) -> String {
    let index = view.pipeline.phases.iter().position(|p| &*p.name == name).expect("phase");
    let view = keys(view, &vec![Key::Down; index]);
    let view = keys(view, &[Key::Enter]);
    let screen = draw(view, 80, 24);
    let notes = ["no output yet", "no output", "no lines kept (max_logs = 0)", "no lines kept"];
    let found: Vec<&str> = screen
        .lines()
        .map(|line| line.trim_matches('"').trim())
        .filter(|line| notes.contains(line))
        .collect();
    assert_eq!(found.len(), 1, "one note ({found:?}) in\n{screen}");
    found[0].to_owned()
}

#[test]
fn an_empty_pane_says_what_is_true() {
    let pipeline = Pipeline::new("ci")
        .phase(Phase::cmd("fmt", "cargo fmt --check"))
        .phase(Phase::cmd("quiet", "cargo build -q").max_logs(0))
        .phase(Phase::cmd("silent", "true").max_logs(0))
        .phase(Phase::cmd("running", "sleep 9"))
        .build()
        .expect("valid");
    let actions = vec![
        start("fmt", 1, 0.0),
        done("fmt", 0.4),
        start("quiet", 1, 0.4),
        out("quiet", "Compiling x", 0.5),
        done("quiet", 0.6),
        start("silent", 1, 0.6),
        done("silent", 0.7),
        start("running", 1, 0.7),
    ];
    let live = fold(ViewState::new(PipelineState::new(&pipeline)).live(), actions, 1.0);
    // The default max_logs = 200 and nothing printed (`cargo fmt --check` on clean code).
    assert_eq!(empty_pane_note(live.clone(), "fmt"), "no output");
    assert_eq!(empty_pane_note(live.clone(), "quiet"), "no lines kept (max_logs = 0)");
    assert_eq!(empty_pane_note(live.clone(), "silent"), "no output");
    assert_eq!(empty_pane_note(live.clone(), "running"), "no output yet");
    // The same run read back from its timeline (`cargo milo view`), where a phase that kept
    // no lines has a ring of capacity 0 whatever its max_logs was.
    let recorded = milo::Timeline::from_state(&live.pipeline).to_state();
    let view = ViewState::new(recorded);
    assert_eq!(empty_pane_note(view.clone(), "fmt"), "no output");
    assert_eq!(empty_pane_note(view, "quiet"), "no lines kept (max_logs = 0)");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any size, any position: drawing never panics and the header always names the
    /// pipeline when there is room for it.
    #[test]
    fn any_size_and_any_keys_draw(
        width in 0u16..130,
        height in 0u16..45,
        presses in proptest::collection::vec(0usize..8, 0..12),
    ) {
        let all = [Key::Up, Key::Down, Key::Enter, Key::Esc, Key::PageUp, Key::End, Key::Home, Key::Follow];
        let pressed: Vec<Key> = presses.into_iter().map(|i| all[i]).collect();
        for view in [mid_run(), failed()] {
            let view = keys(view, &pressed);
            if view.should_quit() {
                continue;
            }
            let screen = draw(view, width, height);
            if width >= 10 && height >= 1 {
                proptest::prop_assert!(screen.contains(" ci "), "{}", screen);
            }
        }
    }
}

#[test]
fn an_up_to_date_phase_shows_its_mark_and_why_it_has_no_output() {
    let up = Action::PhaseUpToDate {
        name: name("fmt"),
        result: json!({"exit_code": 0, "outputs": {}}),
        t: 0.1,
    };
    let view = fold(ViewState::new(PipelineState::new(&pipeline())), vec![up], 1.0);
    let screen = draw(keys(view, &[Key::Enter]), 80, 24);
    assert!(screen.contains("≡ fmt"), "{screen}");
    assert!(screen.contains("─ fmt · up_to_date ─"), "{screen}");
    assert!(screen.contains("up to date: not run (nothing it depends on changed)"), "{screen}");
}
