//! The attempt's states and deadlines, driven by hand: no process, no clock.

use std::sync::{Arc, Mutex};

use super::*;

const DRAIN: Duration = Duration::from_millis(300);
const GRACE: Duration = Duration::from_secs(3);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A command whose spawner reports through events, pipes open, no group to signal.
fn reported(timeout: Option<Duration>, now: Instant) -> Attempt {
    let cmd = Command {
        pgid: None,
        output: PathBuf::new(),
        context: None,
        watch: Watch::Reported { open: true },
    };
    let stage = Stage::Running { timeout_at: timeout.map(|t| now + t) };
    Attempt { idx: 0, number: 1, work: Work::Command { cmd, stage } }
}

/// A child whose exit the test decides.
#[derive(Clone, Default)]
struct FakeChild(Arc<Mutex<Option<Exit>>>);

impl ChildProcess for FakeChild {
    fn try_exit(&mut self) -> Option<Exit> {
        self.0.lock().expect("lock").clone()
    }
}

/// A directly watched command with both pipes open, and its child.
fn direct(now: Instant) -> (Attempt, FakeChild, [std::io::PipeWriter; 2]) {
    let child = FakeChild::default();
    let (out, out_w) = std::io::pipe().expect("pipe");
    let (err, err_w) = std::io::pipe().expect("pipe");
    let pipes = [Some(Pipe::new(out, Stream::Stdout)), Some(Pipe::new(err, Stream::Stderr))];
    let watch = Watch::Direct { child: Box::new(child.clone()), pipes, exit_fd: None };
    let cmd = Command { pgid: None, output: PathBuf::new(), context: None, watch };
    let stage = Stage::Running { timeout_at: Some(now + ms(10_000)) };
    (Attempt { idx: 0, number: 1, work: Work::Command { cmd, stage } }, child, [out_w, err_w])
}

fn stage(a: &Attempt) -> &Stage {
    match &a.work {
        Work::Command { stage, .. } => stage,
        Work::Closure { .. } => panic!("a closure has no stage"),
    }
}

#[test]
fn an_exit_with_open_pipes_drains_then_kills_then_ends_with_the_exit() {
    let t0 = Instant::now();
    let mut a = reported(None, t0);
    assert!(a.exited(Exit::Code(0), t0, DRAIN).is_none());
    assert!(matches!(stage(&a), Stage::Draining { exit: Exit::Code(0), .. }));
    assert_eq!(a.deadline(), Some(t0 + DRAIN));
    assert!(a.deadline_passed(t0 + ms(100), DRAIN).is_none(), "not due yet");
    assert!(matches!(stage(&a), Stage::Draining { .. }));
    assert!(a.deadline_passed(t0 + DRAIN, DRAIN).is_none());
    assert!(matches!(
        stage(&a),
        Stage::Killed { cause: Cause::Drain(Exit::Code(0)), exited: true, .. }
    ));
    assert_eq!(a.deadline(), Some(t0 + DRAIN + ABANDON_AFTER));
    let end = a.deadline_passed(t0 + DRAIN + ABANDON_AFTER, DRAIN);
    assert!(matches!(end, Some(Ending::Exited(Exit::Code(0)))), "{end:?}");
}

#[test]
fn pipes_that_close_while_draining_end_it_with_the_exit() {
    let t0 = Instant::now();
    let mut a = reported(None, t0);
    assert!(a.exited(Exit::Code(3), t0, DRAIN).is_none());
    assert!(matches!(a.closed(None), Some(Ending::Exited(Exit::Code(3)))));
}

#[test]
fn an_exit_with_closed_pipes_ends_at_once() {
    let t0 = Instant::now();
    let mut a = reported(None, t0);
    assert!(matches!(a.closed(Some(Exit::Signal(9))), Some(Ending::Exited(Exit::Signal(9)))));
}

#[test]
fn a_timeout_kills_and_the_attempt_times_out_whatever_its_exit() {
    let t0 = Instant::now();
    let mut a = reported(Some(ms(200)), t0);
    assert_eq!(a.deadline(), Some(t0 + ms(200)));
    assert!(a.deadline_passed(t0 + ms(200), DRAIN).is_none());
    assert!(matches!(stage(&a), Stage::Killed { cause: Cause::Timeout, exited: false, .. }));
    // The group gets at least the drain time to let go of its pipes.
    let long_drain = ms(2_000);
    let mut b = reported(Some(ms(200)), t0);
    assert!(b.deadline_passed(t0 + ms(200), long_drain).is_none());
    assert_eq!(b.deadline(), Some(t0 + ms(200) + long_drain));
    assert!(a.exited(Exit::Signal(9), t0 + ms(210), DRAIN).is_none(), "pipes still open");
    assert!(matches!(a.closed(None), Some(Ending::TimedOut)));
}

#[test]
fn a_timeout_applies_while_draining_too() {
    let t0 = Instant::now();
    let mut a = reported(Some(ms(100)), t0);
    assert!(a.exited(Exit::Code(0), t0 + ms(50), DRAIN).is_none());
    assert_eq!(a.deadline(), Some(t0 + ms(100)), "the timeout comes before the drain's end");
    assert!(a.deadline_passed(t0 + ms(100), DRAIN).is_none());
    assert!(matches!(stage(&a), Stage::Killed { cause: Cause::Timeout, .. }));
    assert!(matches!(a.closed(None), Some(Ending::TimedOut)));
}

#[test]
fn cancelling_terms_then_kills_after_the_grace_then_gives_up_on_the_pipes() {
    let t0 = Instant::now();
    let mut a = reported(Some(ms(100)), t0);
    assert!(a.cancel(t0, GRACE).is_none());
    assert!(matches!(stage(&a), Stage::Cancelling { exited: false, .. }));
    assert_eq!(a.deadline(), Some(t0 + GRACE), "the timeout no longer applies");
    assert!(a.cancel(t0 + ms(10), GRACE).is_none(), "a second cancel changes nothing");
    assert_eq!(a.deadline(), Some(t0 + GRACE));
    assert!(a.deadline_passed(t0 + GRACE, DRAIN).is_none());
    assert!(matches!(stage(&a), Stage::Killed { cause: Cause::Cancel, .. }));
    let end = a.deadline_passed(t0 + GRACE + ABANDON_AFTER, DRAIN);
    assert!(matches!(end, Some(Ending::Cancelled)), "{end:?}");
}

#[test]
fn a_cancelled_command_that_exits_and_closes_is_cancelled() {
    let t0 = Instant::now();
    let mut a = reported(None, t0);
    assert!(a.exited(Exit::Code(0), t0, DRAIN).is_none());
    assert!(a.cancel(t0, GRACE).is_none());
    assert!(matches!(stage(&a), Stage::Cancelling { exited: true, .. }));
    assert!(matches!(a.closed(None), Some(Ending::Cancelled)));
}

#[test]
fn cancelling_a_timed_out_attempt_makes_it_cancelled() {
    let t0 = Instant::now();
    let mut a = reported(Some(ms(1)), t0);
    assert!(a.deadline_passed(t0 + ms(1), DRAIN).is_none());
    let abandon = a.deadline();
    assert!(a.cancel(t0 + ms(2), GRACE).is_none());
    assert_eq!(a.deadline(), abandon, "already killed: the pipes are given up as planned");
    assert!(matches!(a.closed(Some(Exit::Signal(9))), Some(Ending::Cancelled)));
}

#[test]
fn a_second_cancel_kills_at_once() {
    let t0 = Instant::now();
    let mut a = reported(None, t0);
    assert!(a.cancel(t0, GRACE).is_none());
    a.kill_now(t0 + ms(5));
    assert!(matches!(stage(&a), Stage::Killed { cause: Cause::Cancel, .. }));
    assert_eq!(a.deadline(), Some(t0 + ms(5) + ABANDON_AFTER));
}

#[test]
fn a_killed_child_that_never_exits_is_given_up_on() {
    let t0 = Instant::now();
    let (mut a, _child, _writers) = direct(t0);
    assert!(a.deadline_passed(t0 + ms(10_000), DRAIN).is_none(), "timed out");
    assert!(a.try_exit().is_none());
    let end = a.deadline_passed(t0 + ms(10_000) + ABANDON_AFTER, DRAIN);
    assert!(matches!(end, Some(Ending::TimedOut)), "{end:?}");
    assert_eq!(a.open_fds().count(), 0, "its pipes are closed");
}

#[test]
fn a_direct_child_ends_when_both_pipes_closed_and_its_exit_is_known() {
    let t0 = Instant::now();
    let (mut a, child, writers) = direct(t0);
    assert_eq!(a.open_fds().count(), 2);
    drop(writers);
    assert!(a.pipe_closed(0).is_none(), "stderr is still open");
    assert_eq!(a.open_fds().map(|(k, _)| k).collect::<Vec<_>>(), [1]);
    assert!(a.pipe_closed(1).is_none(), "the exit is not known yet");
    assert!(a.try_exit().is_none());
    *child.0.lock().expect("lock") = Some(Exit::Code(0));
    let exit = a.try_exit().expect("exit");
    assert!(matches!(a.exited(exit, t0, DRAIN), Some(Ending::Exited(Exit::Code(0)))));
}

#[test]
fn a_closed_last_pipe_asks_the_child_for_its_exit() {
    let t0 = Instant::now();
    let (mut a, child, _writers) = direct(t0);
    *child.0.lock().expect("lock") = Some(Exit::Code(2));
    assert!(a.pipe_closed(0).is_none());
    assert!(matches!(a.pipe_closed(1), Some(Ending::Exited(Exit::Code(2)))));
}

#[test]
fn a_closure_returns_times_out_or_is_cancelled() {
    let t0 = Instant::now();
    let closure =
        || Attempt { idx: 0, number: 1, work: Work::Closure { timeout_at: Some(t0 + ms(50)) } };
    let a = closure();
    assert!(matches!(a.returned(Ok(serde_json::json!(1))), Some(Ending::Returned(Ok(_)))));
    let mut b = closure();
    assert!(b.deadline_passed(t0 + ms(49), DRAIN).is_none());
    assert!(matches!(b.deadline_passed(t0 + ms(50), DRAIN), Some(Ending::TimedOut)));
    let mut c = closure();
    assert!(matches!(c.cancel(t0, GRACE), Some(Ending::Cancelled)));
    assert!(reported(None, t0).returned(Ok(serde_json::Value::Null)).is_none(), "not a closure");
}

#[test]
fn outcomes_say_what_happened() {
    let shell = Phase::cmd("a", "nope").timeout(ms(1500));
    let args = Phase::args("a", ["nope"]);
    let error = |ending: Ending, phase: &Phase| match ending.outcome(phase, None) {
        Outcome::Failed { error, exit_code } => (error, exit_code),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        error(Ending::Exited(Exit::Code(127)), &shell),
        ("exit code 127 (command not found)".into(), Some(127))
    );
    assert_eq!(error(Ending::Exited(Exit::Code(127)), &args), ("exit code 127".into(), Some(127)));
    assert_eq!(
        error(Ending::Exited(Exit::Signal(15)), &args),
        ("killed by signal 15".into(), None)
    );
    assert_eq!(error(Ending::TimedOut, &shell), ("timed out after 1s 500ms".into(), None));
    let done = Ending::Exited(Exit::Code(0)).outcome(&args, None);
    assert!(
        matches!(done, Outcome::Completed(v) if v == serde_json::json!({"exit_code": 0, "outputs": {}}))
    );
    assert!(matches!(Ending::Cancelled.outcome(&args, None), Outcome::Cancelled));
}
