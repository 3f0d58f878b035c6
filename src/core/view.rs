//! The detail view's state (selection, expansion, scroll, follow) and its pure reducer.
//!
//! [`reduce_view`] wraps the pipeline [`reduce`]: pipeline actions are delegated to it, key
//! actions move the cursor, expand and collapse a phase, scroll its retained lines and toggle
//! auto-follow. Every position is clamped here, so a renderer can trust the state.

use crate::action::Action;
use crate::reducer::reduce;
use crate::state::{PhaseState, PhaseStatus, PipelineState};

/// A key, as the view understands it (the terminal mapping lives in `tui::keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// ↑ (or `k`): cursor up in the overview, scroll up in the detail.
    Up,
    /// ↓ (or `j`): cursor down in the overview, scroll down in the detail.
    Down,
    /// Page Up: scroll up one page in the detail.
    PageUp,
    /// Page Down: scroll down one page in the detail.
    PageDown,
    /// Home (or `g`): first phase, or the first retained line.
    Home,
    /// End (or `G`): last phase, or the last retained line.
    End,
    /// Enter: expand, or collapse.
    Enter,
    /// Space: expand, or collapse.
    Space,
    /// Esc: quit from the overview, collapse from the detail.
    Esc,
    /// `q` (or Ctrl-C): quit.
    Quit,
    /// `f`: toggle auto-follow in the detail.
    Follow,
}

/// Everything that changes the view: a key, a new terminal size, the clock, or a pipeline
/// action delegated to the pipeline reducer.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewAction {
    /// A key press.
    Key(Key),
    /// The number of log rows the expanded pane shows (set from the terminal size).
    Resize {
        /// Visible log rows.
        log_height: usize,
    },
    /// The clock moved on: seconds since the pipeline started (live runs only).
    Tick {
        /// Seconds since the pipeline started.
        now: f64,
    },
    /// An action for the pipeline reducer.
    Pipeline(Action),
}

impl From<Action> for ViewAction {
    fn from(action: Action) -> Self {
        Self::Pipeline(action)
    }
}

impl From<Key> for ViewAction {
    fn from(key: Key) -> Self {
        Self::Key(key)
    }
}

/// The detail view's state: the pipeline state plus where the user is looking.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewState {
    /// The pipeline, as folded by the pipeline reducer.
    pub pipeline: PipelineState,
    /// Index of the selected phase in `pipeline.phases`.
    pub selected: usize,
    /// Whether the selected phase's logs are shown.
    pub expanded: bool,
    /// Index (into the retained lines) of the first visible log line.
    pub log_scroll: usize,
    /// Whether new lines of the selected phase keep the view at the bottom.
    pub auto_follow: bool,
    /// Visible log rows in the expanded pane.
    pub log_height: usize,
    /// Seconds since the pipeline started, as of the latest tick.
    pub now: f64,
    /// Whether the pipeline is running beside the view (`run --tui`) rather than replayed.
    pub live: bool,
    quit: bool,
}

impl ViewState {
    /// A view over `pipeline`: overview, first phase selected, following.
    pub fn new(pipeline: PipelineState) -> Self {
        Self {
            pipeline,
            selected: 0,
            expanded: false,
            log_scroll: 0,
            auto_follow: true,
            log_height: 10,
            now: 0.0,
            live: false,
            quit: false,
        }
    }

    /// Marks the view as showing a run in progress (`run --tui`): the clock ticks and `q`
    /// stops the run.
    #[must_use]
    pub fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// Moves the cursor to the first failed phase, if there is one (for replays).
    #[must_use]
    pub fn select_first_failure(mut self) -> Self {
        let failed = self.pipeline.phases.iter().position(|p| p.status == PhaseStatus::Failed);
        if let Some(index) = failed {
            self.selected = index;
        }
        self
    }

    /// Whether the user asked to quit (`q`, or Esc in the overview).
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The selected phase.
    pub fn selected_phase(&self) -> Option<&PhaseState> {
        self.pipeline.phases.get(self.selected)
    }

    /// The largest valid `log_scroll` for the selected phase.
    pub fn max_scroll(&self) -> usize {
        let len = self.selected_phase().map_or(0, |p| p.logs.len());
        len.saturating_sub(self.log_height)
    }

    /// The time shown: the latest tick while running, frozen at the end once finished.
    pub fn clock(&self) -> f64 {
        if self.pipeline.status.is_terminal() || !self.live {
            self.pipeline.elapsed
        } else {
            self.now.max(self.pipeline.elapsed)
        }
    }
}

/// Folds one view action into the view: keys and resizes change the view, pipeline actions
/// go to [`reduce`] and keep a followed log at its bottom.
///
/// ```
/// use milo::view::{reduce_view, Key, ViewState};
/// use milo::{Phase, Pipeline, PipelineState};
/// let pipeline = Pipeline::new("ci")
///     .phase(Phase::cmd("a", "true"))
///     .phase(Phase::cmd("b", "true"))
///     .build()?;
/// let view = ViewState::new(PipelineState::new(&pipeline));
/// let view = reduce_view(view, &Key::Down.into());
/// assert_eq!(view.selected, 1);
/// let view = reduce_view(view, &Key::Quit.into());
/// assert!(view.should_quit());
/// # Ok::<(), milo::PipelineError>(())
/// ```
#[must_use]
pub fn reduce_view(mut view: ViewState, action: &ViewAction) -> ViewState {
    match action {
        ViewAction::Pipeline(action) => return reduce_pipeline(view, action),
        ViewAction::Resize { log_height } => {
            view.log_height = *log_height;
            view.log_scroll = follow_or_clamp(&view);
        }
        ViewAction::Tick { now } => view.now = view.now.max(*now),
        ViewAction::Key(key) if view.expanded => reduce_detail_key(&mut view, *key),
        ViewAction::Key(key) => reduce_overview_key(&mut view, *key),
    }
    view
}

fn reduce_pipeline(mut view: ViewState, action: &Action) -> ViewState {
    let (name, added) = match action {
        Action::PhaseLog { name, .. } => (Some(name), 1),
        Action::PhaseLogs { name, lines, .. } => (Some(name), lines.len()),
        _ => (None, 0),
    };
    let selected_log = name.and_then(|name| view.selected_phase().filter(|p| p.name == *name));
    // A full ring drops its oldest line for each one pushed: the lines in view move up by as
    // many as it drops.
    let dropped = selected_log
        .filter(|p| p.logs.cap() > 0)
        .map_or(0, |p| (p.logs.len() + added).saturating_sub(p.logs.cap()));
    let own_line = selected_log.is_some() && added > 0;
    view.pipeline = reduce(view.pipeline, action);
    if own_line {
        if view.auto_follow {
            view.log_scroll = view.max_scroll();
        } else {
            view.log_scroll = view.log_scroll.saturating_sub(dropped);
        }
    }
    view
}

fn reduce_overview_key(view: &mut ViewState, key: Key) {
    let last = view.pipeline.phases.len().saturating_sub(1);
    let before = view.selected;
    match key {
        Key::Up => view.selected = view.selected.saturating_sub(1),
        Key::Down => view.selected = (view.selected + 1).min(last),
        Key::Home => view.selected = 0,
        Key::End => view.selected = last,
        Key::Enter | Key::Space if !view.pipeline.phases.is_empty() => {
            view.expanded = true;
            view.log_scroll = follow_or_clamp(view);
        }
        Key::Esc | Key::Quit => view.quit = true,
        Key::Enter | Key::Space | Key::PageUp | Key::PageDown | Key::Follow => {}
    }
    if view.selected != before {
        view.log_scroll = 0;
    }
}

fn reduce_detail_key(view: &mut ViewState, key: Key) {
    let max = view.max_scroll();
    let page = view.log_height.max(1);
    match key {
        Key::Up => scroll_to(view, view.log_scroll.saturating_sub(1)),
        Key::Down => scroll_to(view, (view.log_scroll + 1).min(max)),
        Key::PageUp => scroll_to(view, view.log_scroll.saturating_sub(page)),
        Key::PageDown => scroll_to(view, (view.log_scroll + page).min(max)),
        Key::Home => scroll_to(view, 0),
        Key::End => view.log_scroll = max,
        Key::Follow => {
            view.auto_follow = !view.auto_follow;
            if view.auto_follow {
                view.log_scroll = max;
            }
        }
        Key::Enter | Key::Space | Key::Esc => view.expanded = false,
        Key::Quit => view.quit = true,
    }
}

/// Scrolling by hand stops following.
fn scroll_to(view: &mut ViewState, scroll: usize) {
    view.log_scroll = scroll;
    view.auto_follow = false;
}

fn follow_or_clamp(view: &ViewState) -> usize {
    let max = view.max_scroll();
    if view.auto_follow { max } else { view.log_scroll.min(max) }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::action::Stream;
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;

    fn view() -> ViewState {
        let pipeline = Pipeline::new("build")
            .phase(Phase::cmd("discover", "true"))
            .phase(Phase::cmd("parse", "true").depends_on(["discover"]))
            .phase(Phase::cmd("render", "true").depends_on(["parse"]).max_logs(5))
            .build()
            .expect("valid pipeline");
        ViewState::new(PipelineState::new(&pipeline))
    }

    fn keys(view: ViewState, keys: &[Key]) -> ViewState {
        keys.iter().fold(view, |v, k| reduce_view(v, &ViewAction::Key(*k)))
    }

    fn log(phase: &str, n: usize) -> ViewAction {
        ViewAction::Pipeline(Action::PhaseLog {
            name: Arc::from(phase),
            line: Arc::from(format!("line {n}").as_str()),
            stream: Stream::Stdout,
            t: n as f64,
        })
    }

    /// A view with `n` lines in phase `index`, that phase selected, `height` rows visible.
    fn with_lines(index: usize, n: usize, height: usize) -> ViewState {
        let name = view().pipeline.phases[index].name.to_string();
        let mut v = reduce_view(view(), &ViewAction::Resize { log_height: height });
        v.selected = index;
        (0..n).fold(v, |v, i| reduce_view(v, &log(&name, i)))
    }

    #[test]
    fn cursor_moves_down_and_up() {
        let v = keys(view(), &[Key::Down]);
        assert_eq!(v.selected, 1);
        let v = keys(v, &[Key::Down, Key::Up]);
        assert_eq!(v.selected, 1);
    }

    #[test]
    fn cursor_clamps_at_the_top() {
        let v = keys(view(), &[Key::Up, Key::Up]);
        assert_eq!(v.selected, 0);
    }

    #[test]
    fn cursor_clamps_at_the_bottom() {
        let v = keys(view(), &[Key::Down, Key::Down, Key::Down, Key::Down]);
        assert_eq!(v.selected, 2);
    }

    #[test]
    fn home_and_end_jump_to_the_first_and_last_phase() {
        let v = keys(view(), &[Key::End]);
        assert_eq!(v.selected, 2);
        let v = keys(v, &[Key::Home]);
        assert_eq!(v.selected, 0);
    }

    #[test]
    fn enter_expands() {
        let v = keys(view(), &[Key::Down, Key::Enter]);
        assert!(v.expanded);
        assert_eq!(v.selected, 1);
    }

    #[test]
    fn space_expands() {
        assert!(keys(view(), &[Key::Space]).expanded);
    }

    #[test]
    fn nothing_to_expand_without_phases() {
        let v = ViewState::new(PipelineState::default());
        let v = keys(v, &[Key::Down, Key::Enter]);
        assert!(!v.expanded);
        assert_eq!(v.selected, 0);
    }

    #[test]
    fn esc_quits_from_the_overview() {
        let v = keys(view(), &[Key::Esc]);
        assert!(v.should_quit());
    }

    #[test]
    fn q_quits_from_the_overview() {
        let v = keys(view(), &[Key::Quit]);
        assert!(v.should_quit());
    }

    #[test]
    fn enter_esc_and_space_collapse() {
        for key in [Key::Enter, Key::Esc, Key::Space] {
            let v = keys(view(), &[Key::Enter, key]);
            assert!(!v.expanded, "{key:?} should collapse");
            assert!(!v.should_quit(), "{key:?} must not quit from the detail");
        }
    }

    #[test]
    fn q_quits_from_the_detail() {
        let v = keys(view(), &[Key::Enter, Key::Quit]);
        assert!(v.should_quit());
    }

    #[test]
    fn arrows_scroll_in_the_detail_instead_of_moving_the_cursor() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home, Key::Down, Key::Down]);
        assert_eq!((v.selected, v.log_scroll), (0, 2));
        let v = keys(v, &[Key::Up]);
        assert_eq!(v.log_scroll, 1);
    }

    #[test]
    fn scroll_clamps_at_the_top() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home, Key::Up, Key::PageUp]);
        assert_eq!(v.log_scroll, 0);
    }

    #[test]
    fn scroll_clamps_at_the_bottom() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home]);
        let v = keys(v, &[Key::PageDown, Key::PageDown, Key::PageDown, Key::Down, Key::Down]);
        assert_eq!(v.log_scroll, 20);
    }

    #[test]
    fn scroll_clamps_when_the_lines_fit() {
        let v = keys(with_lines(0, 4, 10), &[Key::Enter, Key::Down, Key::End]);
        assert_eq!(v.log_scroll, 0);
    }

    #[test]
    fn scrolling_turns_follow_off() {
        for key in [Key::Up, Key::Down, Key::PageUp, Key::PageDown, Key::Home] {
            let v = keys(with_lines(0, 30, 10), &[Key::Enter, key]);
            assert!(!v.auto_follow, "{key:?} should stop following");
        }
    }

    #[test]
    fn home_end_and_g_jump() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home]);
        assert_eq!(v.log_scroll, 0);
        let v = keys(v, &[Key::End]);
        assert_eq!(v.log_scroll, 20);
    }

    #[test]
    fn f_toggles_follow_and_on_jumps_to_the_bottom() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home]);
        assert!(!v.auto_follow);
        let v = keys(v, &[Key::Follow]);
        assert!(v.auto_follow);
        assert_eq!(v.log_scroll, 20);
        let v = keys(v, &[Key::Follow]);
        assert!(!v.auto_follow);
        assert_eq!(v.log_scroll, 20);
    }

    #[test]
    fn f_does_nothing_in_the_overview() {
        let v = keys(view(), &[Key::Follow]);
        assert!(v.auto_follow);
        assert!(!v.expanded);
    }

    #[test]
    fn auto_follow_keeps_the_selected_phase_at_the_bottom() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter]);
        assert_eq!(v.log_scroll, 20);
        let v = reduce_view(v, &log("discover", 31));
        assert_eq!(v.log_scroll, 21);
    }

    #[test]
    fn other_phases_lines_do_not_move_the_view() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter]);
        let v = (0..7).fold(v, |v, i| reduce_view(v, &log("parse", i)));
        assert_eq!(v.log_scroll, 20);
        assert_eq!(v.pipeline.phases[1].logs.len(), 7);
    }

    #[test]
    fn without_follow_new_lines_leave_the_scroll_alone() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home, Key::Down]);
        let v = reduce_view(v, &log("discover", 31));
        assert_eq!(v.log_scroll, 1);
    }

    #[test]
    fn without_follow_a_full_ring_keeps_the_same_lines_in_view() {
        // render keeps 5 lines; 2 rows visible; looking at the oldest line kept.
        let v = keys(with_lines(2, 5, 2), &[Key::Enter, Key::Home, Key::Down]);
        let first_visible =
            |v: &ViewState| v.pipeline.phases[2].logs.lines()[v.log_scroll].line.clone();
        assert_eq!(&*first_visible(&v), "line 1");
        let v = reduce_view(v, &log("render", 5));
        assert_eq!(&*first_visible(&v), "line 1");
        let v = reduce_view(v, &log("render", 6));
        assert_eq!(v.log_scroll, 0);
        assert_eq!(&*first_visible(&v), "line 2");
    }

    #[test]
    fn pipeline_actions_are_delegated() {
        let start = Action::PhaseStart { name: "parse".into(), attempt: 1, t: 1.5 };
        let v = reduce_view(view(), &start.clone().into());
        let expected = reduce(view().pipeline, &start);
        assert_eq!(v.pipeline, expected);
        assert_eq!(v.pipeline.phases[1].status, PhaseStatus::Running);
        assert_eq!((v.selected, v.expanded, v.log_scroll), (0, false, 0));
    }

    #[test]
    fn moving_the_cursor_resets_the_scroll() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home, Key::Down, Key::Esc]);
        assert_eq!(v.log_scroll, 1);
        let v = keys(v, &[Key::Down]);
        assert_eq!(v.log_scroll, 0);
    }

    #[test]
    fn expanding_keeps_a_manual_position_and_follows_otherwise() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::Home, Key::Down, Key::Esc]);
        let v = keys(v, &[Key::Enter]);
        assert_eq!(v.log_scroll, 1);
        let v = keys(with_lines(0, 30, 10), &[Key::Enter]);
        assert_eq!(v.log_scroll, 20);
    }

    #[test]
    fn resize_clamps_or_follows() {
        let v = keys(with_lines(0, 30, 10), &[Key::Enter, Key::End, Key::Up]);
        assert_eq!(v.log_scroll, 19);
        let v = reduce_view(v, &ViewAction::Resize { log_height: 25 });
        assert_eq!(v.log_scroll, 5);
        let v = keys(v, &[Key::Follow]);
        let v = reduce_view(v, &ViewAction::Resize { log_height: 5 });
        assert_eq!(v.log_scroll, 25);
    }

    #[test]
    fn the_clock_ticks_while_live_and_freezes_at_the_end() {
        let mut v = view();
        v.live = true;
        let v = reduce_view(v, &Action::PipelineStart { started_at: "x".into(), t: 0.0 }.into());
        let v = reduce_view(v, &ViewAction::Tick { now: 4.0 });
        assert!((v.clock() - 4.0).abs() < 1e-9);
        let v = reduce_view(v, &Action::PipelineComplete { t: 3.0 }.into());
        assert!((v.clock() - 3.0).abs() < 1e-9);
    }

    #[test]
    fn select_first_failure_picks_the_failed_phase() {
        let actions = [
            Action::PhaseStart { name: "discover".into(), attempt: 1, t: 0.0 },
            Action::PhaseFailed {
                name: "discover".into(),
                error: "exit code 1".into(),
                exit_code: Some(1),
                t: 1.0,
            },
        ];
        let mut v = view();
        v.selected = 2;
        let v = actions.into_iter().fold(v, |v, a| reduce_view(v, &a.into()));
        assert_eq!(v.select_first_failure().selected, 0);
        let mut untouched = view();
        untouched.selected = 2;
        assert_eq!(untouched.select_first_failure().selected, 2);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        const KEYS: [Key; 11] = [
            Key::Up,
            Key::Down,
            Key::PageUp,
            Key::PageDown,
            Key::Home,
            Key::End,
            Key::Enter,
            Key::Space,
            Key::Esc,
            Key::Quit,
            Key::Follow,
        ];

        fn arb_action() -> impl Strategy<Value = ViewAction> {
            let phases = ["discover", "parse", "render"];
            prop_oneof![
                4 => (0..KEYS.len()).prop_map(|k| ViewAction::Key(KEYS[k])),
                5 => (0..3usize, 0..1000usize).prop_map(move |(p, n)| log(phases[p], n)),
                1 => (0..40usize).prop_map(|log_height| ViewAction::Resize { log_height }),
                1 => (0..3usize).prop_map(move |p| ViewAction::Pipeline(Action::PhaseStart {
                    name: phases[p].into(),
                    attempt: 1,
                    t: 1.0,
                })),
            ]
        }

        proptest! {
            #[test]
            fn positions_stay_clamped_and_follow_sticks_to_the_bottom(
                actions in proptest::collection::vec(arb_action(), 0..200)
            ) {
                let mut v = view();
                for action in &actions {
                    if v.should_quit() {
                        break;
                    }
                    v = reduce_view(v, action);
                    prop_assert!(v.selected < v.pipeline.phases.len());
                    if v.expanded {
                        prop_assert!(v.log_scroll <= v.max_scroll(), "{} > {}", v.log_scroll, v.max_scroll());
                        if v.auto_follow {
                            prop_assert_eq!(v.log_scroll, v.max_scroll());
                        }
                    }
                }
            }
        }
    }
}
