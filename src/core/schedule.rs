//! The scheduling decision, as a pure function: which ready phases start now.
//!
//! A phase is ready when every dependency is done (completed or skipped). Ready phases are
//! taken in priority order — longest remaining path to the end of the graph first, then
//! declaration order — while a job slot is free. A phase with `parallel = false` runs alone:
//! it starts only when nothing runs, and nothing starts beside it. When such a phase is the
//! most urgent ready one, lower-priority phases wait for it rather than starve it.

use std::collections::{BTreeSet, HashMap};

use crate::pipeline::Pipeline;

/// Where a phase is, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Slot {
    /// Not started yet.
    #[default]
    Waiting,
    /// Running, or waiting to retry: it holds a job slot.
    Active,
    /// Completed or skipped: dependents may start.
    Done,
    /// Failed or cancelled: dependents never start.
    Dead,
}

/// What the scheduler knows about a pipeline: dependencies, parallelism and priorities.
#[derive(Debug, Clone)]
pub struct Plan {
    deps: Vec<Vec<usize>>,
    parallel: Vec<bool>,
    /// Phase indexes, most urgent first.
    order: Vec<usize>,
    rank: Vec<f64>,
}

impl Plan {
    /// A plan for `pipeline`. `durations` (seconds by phase name, from the previous
    /// timeline) rank phases when given; a phase missing from it costs the median of the
    /// known ones. Without durations, weights rank them.
    pub fn new(pipeline: &Pipeline, durations: Option<&HashMap<String, f64>>) -> Self {
        let phases = pipeline.phases();
        let cost: Vec<f64> = match durations.filter(|d| !d.is_empty()) {
            Some(d) => {
                let mut known: Vec<f64> =
                    phases.iter().filter_map(|p| d.get(&p.name).copied()).collect();
                known.sort_by(f64::total_cmp);
                let fallback = known.get(known.len() / 2).copied().unwrap_or(1.0);
                phases.iter().map(|p| d.get(&p.name).copied().unwrap_or(fallback)).collect()
            }
            None => phases.iter().map(|p| p.weight as f64).collect(),
        };
        let graph = pipeline.graph();
        let deps = (0..graph.len()).map(|i| graph.deps(i).to_vec()).collect();
        let parallel = phases.iter().map(|p| p.parallel).collect();
        Self::from_parts(deps, parallel, &graph.critical_path(&cost))
    }

    /// A plan from raw parts: dependencies by index, parallel flags, and each phase's rank
    /// (its remaining path length; larger goes first, ties by index).
    pub fn from_parts(deps: Vec<Vec<usize>>, parallel: Vec<bool>, rank: &[f64]) -> Self {
        let mut order: Vec<usize> = (0..deps.len()).collect();
        let r = |i: usize| rank.get(i).copied().unwrap_or(0.0);
        order.sort_by(|&a, &b| r(b).total_cmp(&r(a)).then(a.cmp(&b)));
        Self { deps, parallel, order, rank: (0..rank.len()).map(r).collect() }
    }

    /// How many phases the plan covers.
    pub fn len(&self) -> usize {
        self.deps.len()
    }

    /// Whether the plan has no phases.
    pub fn is_empty(&self) -> bool {
        self.deps.is_empty()
    }

    /// The phase indexes, most urgent first.
    pub fn priority_order(&self) -> &[usize] {
        &self.order
    }

    /// A phase's rank (remaining path length).
    pub fn rank(&self, i: usize) -> f64 {
        self.rank.get(i).copied().unwrap_or(0.0)
    }

    /// Whether phase `i` may run beside others.
    pub fn is_parallel(&self, i: usize) -> bool {
        self.parallel.get(i).copied().unwrap_or(false)
    }

    /// Whether every dependency of `i` is done.
    pub fn is_ready(&self, i: usize, slots: &[Slot]) -> bool {
        slots.get(i) == Some(&Slot::Waiting) && self.deps[i].iter().all(|&d| slots[d] == Slot::Done)
    }

    /// The phases to start now, most urgent first, given every phase's slot and `jobs`
    /// (at least 1 is assumed).
    pub fn next(&self, slots: &[Slot], jobs: usize) -> Vec<usize> {
        let jobs = jobs.max(1);
        let mut running = 0;
        for (i, s) in slots.iter().enumerate() {
            if *s == Slot::Active {
                if !self.is_parallel(i) {
                    return Vec::new();
                }
                running += 1;
            }
        }
        let ready = self.order.iter().copied().filter(|&i| self.is_ready(i, slots));
        take(ready, |i| self.is_parallel(i), running, jobs)
    }
}

/// The rule both deciders share: from `ready` (most urgent first), parallel phases while
/// fewer than `jobs` run; a phase that runs alone only when nothing runs, and it ends the
/// pick either way (lower-priority phases wait for it rather than starve it).
fn take(
    ready: impl Iterator<Item = usize>,
    parallel: impl Fn(usize) -> bool,
    mut running: usize,
    jobs: usize,
) -> Vec<usize> {
    let mut start = Vec::new();
    for i in ready {
        if running >= jobs {
            break;
        }
        if parallel(i) {
            start.push(i);
            running += 1;
        } else {
            if running == 0 {
                start.push(i);
            }
            break;
        }
    }
    start
}

/// [`Plan::next`] kept up to date as phases start and end, so that each decision costs what
/// changed, not a pass over every phase: a 2,000-phase run asked `Plan::next` 24 million
/// instructions' worth of scans. It answers exactly as `Plan::next` over its slots would
/// (a proptest holds it to that).
///
/// ```
/// use milo::schedule::{Plan, Ready, Slot};
/// // b and c depend on a; c is the more urgent.
/// let plan = Plan::from_parts(vec![vec![], vec![0], vec![0]], vec![true; 3], &[3.0, 1.0, 2.0]);
/// let mut ready = Ready::new(&plan);
/// assert_eq!(ready.next(2), [0]);
/// ready.end(0, Slot::Done);
/// assert_eq!(ready.next(2), [2, 1]);
/// assert_eq!(ready.slots(), [Slot::Done, Slot::Active, Slot::Active]);
/// ```
#[derive(Debug, Clone)]
pub struct Ready {
    slots: Vec<Slot>,
    parallel: Vec<bool>,
    /// The priority order, and each phase's place in it.
    order: Vec<usize>,
    place: Vec<usize>,
    /// Each phase's dependents, and how many of its own dependencies are not done yet.
    dependents: Vec<Vec<usize>>,
    missing: Vec<usize>,
    /// The places of the waiting phases whose dependencies are all done.
    queue: BTreeSet<usize>,
    running: usize,
    /// How many of the running phases run alone (`parallel = false`).
    alone: usize,
}

impl Ready {
    /// Every phase of `plan` waiting; those without dependencies ready.
    pub fn new(plan: &Plan) -> Self {
        let n = plan.len();
        let mut place = vec![0; n];
        for (k, &i) in plan.order.iter().enumerate() {
            place[i] = k;
        }
        let mut dependents = vec![Vec::new(); n];
        for (i, deps) in plan.deps.iter().enumerate() {
            for &d in deps {
                dependents[d].push(i);
            }
        }
        let missing: Vec<usize> = plan.deps.iter().map(Vec::len).collect();
        let queue = (0..n).filter(|&i| missing[i] == 0).map(|i| place[i]).collect();
        Self {
            slots: vec![Slot::Waiting; n],
            parallel: (0..n).map(|i| plan.is_parallel(i)).collect(),
            order: plan.order.clone(),
            place,
            dependents,
            missing,
            queue,
            running: 0,
            alone: 0,
        }
    }

    /// Every phase's slot.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The phases to start now, most urgent first (what [`Plan::next`] answers), marked
    /// [`Slot::Active`].
    pub fn next(&mut self, jobs: usize) -> Vec<usize> {
        if self.alone > 0 {
            return Vec::new();
        }
        let ready = self.queue.iter().map(|&k| self.order[k]);
        let start = take(ready, |i| self.parallel[i], self.running, jobs.max(1));
        for &i in &start {
            self.queue.remove(&self.place[i]);
            self.slots[i] = Slot::Active;
            self.running += 1;
            self.alone += usize::from(!self.parallel[i]);
        }
        start
    }

    /// Phase `i` ended as `slot` ([`Slot::Done`] or [`Slot::Dead`]), or counts as such without
    /// having started (`run --only`): a done phase may make its dependents ready.
    pub fn end(&mut self, i: usize, slot: Slot) {
        match self.slots[i] {
            Slot::Active => {
                self.running -= 1;
                self.alone -= usize::from(!self.parallel[i]);
            }
            Slot::Waiting => {
                self.queue.remove(&self.place[i]);
            }
            Slot::Done | Slot::Dead => return,
        }
        self.slots[i] = slot;
        if slot != Slot::Done {
            return;
        }
        for &d in &self.dependents[i] {
            self.missing[d] -= 1;
            if self.missing[d] == 0 && self.slots[d] == Slot::Waiting {
                self.queue.insert(self.place[d]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::phase::Phase;

    fn plan(deps: &[&[usize]], parallel: &[bool], rank: &[f64]) -> Plan {
        Plan::from_parts(deps.iter().map(|d| d.to_vec()).collect(), parallel.to_vec(), rank)
    }

    #[test]
    fn waits_for_dependencies() {
        let p = plan(&[&[], &[0]], &[true, true], &[2.0, 1.0]);
        assert_eq!(p.next(&[Slot::Waiting, Slot::Waiting], 4), [0]);
        assert_eq!(p.next(&[Slot::Active, Slot::Waiting], 4), Vec::<usize>::new());
        assert_eq!(p.next(&[Slot::Done, Slot::Waiting], 4), [1]);
        assert!(p.next(&[Slot::Dead, Slot::Waiting], 4).is_empty());
    }

    #[test]
    fn critical_path_first_then_declaration_order() {
        let p = plan(&[&[], &[], &[]], &[true, true, true], &[1.0, 5.0, 1.0]);
        assert_eq!(p.next(&[Slot::Waiting; 3], 1), [1]);
        assert_eq!(p.next(&[Slot::Waiting; 3], 3), [1, 0, 2]);
    }

    #[test]
    fn exclusive_runs_alone_and_is_not_starved() {
        let p = plan(&[&[], &[], &[]], &[true, false, true], &[1.0, 5.0, 1.0]);
        assert_eq!(p.next(&[Slot::Waiting; 3], 4), [1]);
        assert!(p.next(&[Slot::Active, Slot::Waiting, Slot::Waiting], 4).is_empty());
        assert!(p.next(&[Slot::Waiting, Slot::Active, Slot::Waiting], 4).is_empty());
        assert_eq!(p.next(&[Slot::Waiting, Slot::Done, Slot::Waiting], 4), [0, 2]);
    }

    #[test]
    fn ranks_from_weights_or_previous_durations() {
        let pipeline = Pipeline::new("p")
            .phase(Phase::cmd("a", "true").parallel(true))
            .phase(Phase::cmd("b", "true").parallel(true).weight(3))
            .build()
            .expect("valid");
        assert_eq!(Plan::new(&pipeline, None).priority_order(), [1, 0]);
        let durations = HashMap::from([("a".to_owned(), 9.0), ("b".to_owned(), 0.5)]);
        assert_eq!(Plan::new(&pipeline, Some(&durations)).priority_order(), [0, 1]);
    }

    /// A random DAG: each phase depends on some earlier ones.
    fn arb_dag() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<bool>, Vec<u64>, usize)> {
        (1usize..14).prop_flat_map(|n| {
            let deps =
                proptest::collection::vec(proptest::collection::vec(any::<usize>(), 0..3), n)
                    .prop_map(|raw| {
                        raw.into_iter()
                            .enumerate()
                            .map(|(i, ds)| {
                                let mut d: Vec<usize> = if i == 0 {
                                    Vec::new()
                                } else {
                                    ds.into_iter().map(|x| x % i).collect()
                                };
                                d.sort_unstable();
                                d.dedup();
                                d
                            })
                            .collect::<Vec<_>>()
                    });
            (
                deps,
                proptest::collection::vec(prop::bool::weighted(0.7), n),
                proptest::collection::vec(1u64..20, n),
                1usize..5,
            )
        })
    }

    proptest! {
        /// Event-driven simulation on a manual clock: at every decision, dependencies are
        /// done, `jobs` is respected, exclusive phases run alone, and everything finishes.
        #[test]
        fn simulated_runs_respect_every_rule((deps, parallel, durs, jobs) in arb_dag()) {
            let n = deps.len();
            let rank: Vec<f64> = durs.iter().map(|&d| d as f64).collect();
            let p = Plan::from_parts(deps.clone(), parallel.clone(), &rank);
            let clock = ManualClock::default();
            let mut slots = vec![Slot::Waiting; n];
            let mut ends: Vec<(Duration, usize)> = Vec::new();
            let mut finished = 0;
            while finished < n {
                for i in p.next(&slots, jobs) {
                    prop_assert!(deps[i].iter().all(|&d| slots[d] == Slot::Done), "deps of {}", i);
                    slots[i] = Slot::Active;
                    ends.push((clock.elapsed() + Duration::from_millis(durs[i]), i));
                }
                let active: Vec<usize> = (0..n).filter(|&i| slots[i] == Slot::Active).collect();
                prop_assert!(active.len() <= jobs, "{} running with jobs = {}", active.len(), jobs);
                if active.iter().any(|&i| !parallel[i]) {
                    prop_assert_eq!(active.len(), 1, "an exclusive phase ran beside others");
                }
                ends.sort();
                prop_assert!(!ends.is_empty(), "deadlock: nothing runs, {} of {} done", finished, n);
                let (t, i) = ends.remove(0);
                clock.set(t);
                slots[i] = Slot::Done;
                finished += 1;
            }
            prop_assert!(clock.now() > 0.0);
        }
    }

    proptest! {
        /// Whatever starts and ends, in any order, as done or dead, `Ready` answers as
        /// `Plan::next` over the same slots.
        #[test]
        fn ready_answers_as_the_plan(
            (deps, parallel, durs, jobs) in arb_dag(),
            picks in proptest::collection::vec((any::<usize>(), any::<bool>()), 0..40),
        ) {
            let rank: Vec<f64> = durs.iter().map(|&d| d as f64).collect();
            let p = Plan::from_parts(deps, parallel, &rank);
            let mut ready = Ready::new(&p);
            for (pick, dead) in picks {
                let slots = ready.slots().to_vec();
                let expected = p.next(&slots, jobs);
                prop_assert_eq!(ready.next(jobs), expected);
                // Mostly a running phase ends; sometimes a waiting one counts as ended.
                let live: Vec<usize> = (0..p.len())
                    .filter(|&i| matches!(ready.slots()[i], Slot::Active | Slot::Waiting))
                    .collect();
                let active: Vec<usize> =
                    live.iter().copied().filter(|&i| ready.slots()[i] == Slot::Active).collect();
                let pool = if active.is_empty() || pick % 5 == 0 { &live } else { &active };
                if pool.is_empty() {
                    break;
                }
                ready.end(pool[pick % pool.len()], if dead { Slot::Dead } else { Slot::Done });
            }
        }
    }
}
