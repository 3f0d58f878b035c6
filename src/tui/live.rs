//! The event loop: folds pipeline actions and keys into the view and redraws, at most about
//! 30 times a second and only after something changed.
//!
//! Pipeline actions reach the loop through a store subscriber ([`Live::subscriber`]) and
//! terminal events through a small input thread; both arrive on one channel, so the loop
//! sleeps until there is something to do. The view keeps its own copy of the pipeline state,
//! folded by the same reducer, so drawing never holds the store's lock.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event};

use super::keys::map_key;
use super::render::log_height;
use super::terminal::{self, Signals};
use crate::action::Action;
use crate::state::PipelineState;
use crate::subscriber_thread::Consumer;
use crate::view::{ViewAction, ViewState, reduce_view};

/// The shortest time between two frames (about 30 fps).
const FRAME: Duration = Duration::from_millis(33);
/// How often the clock in the header moves while the pipeline runs.
const TICK: Duration = Duration::from_millis(100);
/// How long the input thread waits for an event before checking whether to stop.
const INPUT_POLL: Duration = Duration::from_millis(50);
/// Most inputs folded between two frames, so a flood of log lines cannot starve drawing.
const BATCH: usize = 20_000;
/// Most inputs waiting for the view. When the view falls behind (a terminal that stopped
/// reading), the store's dispatch waits: memory stays bounded, as capture promises.
const QUEUE: usize = 65_536;

#[derive(Debug)]
enum Input {
    Action(Action),
    Terminal(Event),
    Close,
}

/// How the view ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The user pressed `q` (or Esc in the overview, or Ctrl-C).
    Quit {
        /// Whether the pipeline had ended by then (always true for a replay).
        finished: bool,
    },
    /// SIGTERM, SIGINT or SIGHUP arrived, or a panic restored the terminal.
    Interrupted,
    /// The program closed the view (see [`Live::closer`]).
    Closed,
}

impl Outcome {
    /// Whether the run must be cancelled: the user quit mid-run, or a signal arrived.
    pub fn cancels_run(self) -> bool {
        matches!(self, Self::Quit { finished: false } | Self::Interrupted)
    }
}

/// One detail view session: create it, hand [`subscriber`](Self::subscriber) to the store
/// before the run starts, then [`run`](Self::run) it on the thread that owns the terminal.
///
/// ```no_run
/// use milo::tui::live::Live;
/// use milo::view::ViewState;
/// use milo::{Phase, Pipeline, PipelineState, Store};
/// let pipeline = Pipeline::new("ci").phase(Phase::cmd("a", "true")).build()?;
/// let mut store = Store::new(PipelineState::new(&pipeline));
/// let live = Live::new();
/// store.subscribe(live.subscriber());
/// // … start the executor with `store` on another thread …
/// let outcome = live.run(ViewState::new(PipelineState::new(&pipeline)).live())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Live {
    tx: SyncSender<Input>,
    rx: Receiver<Input>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    /// A session with no input yet.
    pub fn new() -> Self {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        Self { tx, rx }
    }

    /// A store subscriber that forwards every action to the view. Subscribe it before the
    /// first action, so the view's copy of the state folds the same actions as the store's.
    pub fn subscriber(&self) -> impl FnMut(&Action, &PipelineState) + Send + 'static {
        let tx = self.tx.clone();
        move |action, _state| {
            // The view may have closed already; the run goes on without it.
            let _ = tx.send(Input::Action(action.clone()));
        }
    }

    /// The same as [`subscriber`](Self::subscriber), to run on a run's subscriber thread
    /// (`RunOptions::background`): the executor then never waits for the view, even when
    /// its queue is full, while holding the store's state.
    pub fn consumer(&self) -> Consumer {
        let tx = self.tx.clone();
        Consumer::actions(move |action| {
            // The view may have closed already; the run goes on without it.
            let _ = tx.send(Input::Action(action.clone()));
        })
    }

    /// A handle that closes the view from another thread, e.g. when the run could not go on.
    pub fn closer(&self) -> Closer {
        Closer(self.tx.clone())
    }

    /// Takes over the terminal and runs the view until the user quits or a signal arrives;
    /// the terminal is restored before this returns.
    pub fn run(self, view: ViewState) -> io::Result<Outcome> {
        let Self { tx, rx } = self;
        let signals = Signals::catch()?;
        let mut guard = terminal::enter()?;
        let stop = Arc::new(AtomicBool::new(false));
        let input = spawn_input(tx, Arc::clone(&stop));
        let result = event_loop(guard.terminal(), view, &rx, &signals);
        stop.store(true, Ordering::SeqCst);
        drop(guard);
        // With the receiver gone, a send blocked on a full queue (the input thread's, or the
        // store's) fails at once instead of waiting for a view that is not coming back.
        drop(rx);
        // The thread notices `stop` within one poll; it never blocks longer.
        let _ = input.join();
        result
    }
}

/// Closes a running view (see [`Live::closer`]).
#[derive(Debug, Clone)]
pub struct Closer(SyncSender<Input>);

impl Closer {
    /// Makes the view return [`Outcome::Closed`] at its next turn.
    pub fn close(&self) {
        // Already gone: nothing to close.
        let _ = self.0.send(Input::Close);
    }
}

fn spawn_input(tx: SyncSender<Input>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match event::poll(INPUT_POLL) {
                Ok(true) => match event::read() {
                    Ok(e) => {
                        if tx.send(Input::Terminal(e)).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    })
}

/// Seconds since the pipeline started, anchored on the first action the view saw.
struct Clock {
    anchor: Option<(Instant, f64)>,
}

impl Clock {
    fn observe(&mut self, action: &Action) {
        if self.anchor.is_none() || matches!(action, Action::PipelineStart { .. }) {
            self.anchor = Some((Instant::now(), action.t()));
        }
    }

    fn now(&self) -> Option<f64> {
        self.anchor.map(|(at, t)| t + at.elapsed().as_secs_f64())
    }
}

fn event_loop(
    terminal: &mut terminal::Term,
    mut view: ViewState,
    rx: &Receiver<Input>,
    signals: &Signals,
) -> io::Result<Outcome> {
    let mut clock = Clock { anchor: None };
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    loop {
        let since_draw = last_draw.map_or(FRAME, |at| at.elapsed());
        let timeout = if dirty { FRAME.saturating_sub(since_draw) } else { TICK };
        // A timeout or a closed channel both just mean: nothing new this time.
        let mut next = rx.recv_timeout(timeout).ok();
        let mut folded = 0;
        while let Some(input) = next.take() {
            if matches!(input, Input::Close) {
                return Ok(Outcome::Closed);
            }
            let changed;
            (view, changed) = fold(view, input, &mut clock);
            dirty |= changed;
            folded += 1;
            if folded < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if signals.caught() || !terminal::is_active() {
            return Ok(Outcome::Interrupted);
        }
        if view.should_quit() {
            return Ok(Outcome::Quit { finished: view.pipeline.status.is_terminal() });
        }
        if view.live
            && !view.pipeline.status.is_terminal()
            && let Some(now) = clock.now()
            && last_draw.is_none_or(|at| at.elapsed() >= TICK)
        {
            view = reduce_view(view, &ViewAction::Tick { now });
            dirty = true;
        }
        if dirty && last_draw.is_none_or(|at| at.elapsed() >= FRAME) {
            let size = terminal.size()?;
            let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
            let height = log_height(area, &view);
            if height != view.log_height {
                view = reduce_view(view, &ViewAction::Resize { log_height: height });
            }
            terminal.draw(|frame| frame.render_widget(&view, frame.area()))?;
            last_draw = Some(Instant::now());
            dirty = false;
        }
    }
}

/// Folds one input; says whether the screen may have changed.
fn fold(view: ViewState, input: Input, clock: &mut Clock) -> (ViewState, bool) {
    match input {
        Input::Action(action) => {
            clock.observe(&action);
            (reduce_view(view, &ViewAction::Pipeline(action)), true)
        }
        Input::Terminal(Event::Key(key)) => match map_key(&key) {
            Some(action) => {
                let before = where_the_user_looks(&view);
                let view = reduce_view(view, &action);
                let changed = where_the_user_looks(&view) != before;
                (view, changed)
            }
            None => (view, false),
        },
        // The new size is read when drawing.
        Input::Terminal(Event::Resize(..)) => (view, true),
        Input::Terminal(_) | Input::Close => (view, false),
    }
}

/// Everything a key can change; a key that changes none of it (↑ at the top) draws nothing.
fn where_the_user_looks(view: &ViewState) -> (usize, bool, usize, bool, bool) {
    (view.selected, view.expanded, view.log_scroll, view.auto_follow, view.should_quit())
}
