//! The phase DAG: dependency checks, cycles with their path, execution order, critical paths.

use std::collections::HashMap;
use std::fmt;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::phase::Phase;
use crate::suggest::closest;

/// How many problems may be found before unknown dependencies stop getting a suggestion.
pub const SUGGESTION_LIMIT: usize = 64;

/// A dependency cycle; `path` starts and ends with the same phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleError {
    /// The phases on the cycle, the first repeated at the end: `[a, b, a]`.
    pub path: Vec<String>,
}

impl fmt::Display for CycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circular dependency: {}", self.path.join(" → "))
    }
}

impl std::error::Error for CycleError {}

/// A problem with the shape of the phase graph. Indexes point into the phase list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// Two phases share a name.
    DuplicateName {
        /// The name.
        name: String,
        /// The first phase with it.
        first: usize,
        /// The later phase with it.
        second: usize,
    },
    /// `depends_on` names a phase that does not exist.
    MissingDependency {
        /// The phase whose `depends_on` is wrong.
        phase: usize,
        /// The position of the name in its `depends_on`.
        position: usize,
        /// The missing name.
        missing: String,
        /// The closest existing name, if any is close (looked for while fewer than
        /// [`SUGGESTION_LIMIT`] problems were found).
        suggestion: Option<String>,
    },
    /// A cycle; `phases` are the indexes along `cycle.path` (without the repeat).
    Cycle {
        /// The cycle.
        cycle: CycleError,
        /// The phase the path starts at.
        phase: usize,
    },
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateName { name, .. } => write!(f, "duplicate phase name `{name}`"),
            Self::MissingDependency { missing, .. } => {
                write!(f, "unknown dependency `{missing}`")
            }
            Self::Cycle { cycle, .. } => cycle.fmt(f),
        }
    }
}

impl std::error::Error for GraphError {}

/// The validated dependency graph of a phase list.
#[derive(Debug, Clone)]
pub struct Graph {
    names: Vec<String>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
}

impl Graph {
    /// Builds the graph, reporting every problem: duplicates, unknown dependencies, cycles.
    ///
    /// A dependency listed twice counts once.
    pub fn new(phases: &[Phase]) -> Result<Self, Vec<GraphError>> {
        let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
        let deps: Vec<Vec<&str>> =
            phases.iter().map(|p| p.depends_on.iter().map(String::as_str).collect()).collect();
        Self::from_names(&names, &deps)
    }

    /// Like [`Graph::new`], over bare names: `deps[i]` are the dependencies of `names[i]`.
    pub fn from_names(names: &[&str], deps: &[Vec<&str>]) -> Result<Self, Vec<GraphError>> {
        let mut errors = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if let Some(&first) = index.get(name) {
                errors.push(GraphError::DuplicateName {
                    name: (*name).to_owned(),
                    first,
                    second: i,
                });
            } else {
                index.insert(name, i);
            }
        }
        let mut resolved = vec![Vec::new(); names.len()];
        for (i, list) in deps.iter().enumerate() {
            for (position, dep) in list.iter().enumerate() {
                match index.get(dep) {
                    Some(&j) => {
                        if !resolved[i].contains(&j) {
                            resolved[i].push(j);
                        }
                    }
                    None => errors.push(GraphError::MissingDependency {
                        phase: i,
                        position,
                        missing: (*dep).to_owned(),
                        // Each suggestion scans every name: past a few, a file of typos
                        // would take minutes, and nobody reads that far.
                        suggestion: (errors.len() < SUGGESTION_LIMIT)
                            .then(|| closest(dep, names.iter().copied()).map(str::to_owned))
                            .flatten(),
                    }),
                }
            }
        }
        let names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
        errors.extend(find_cycles(&names, &resolved));
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut dependents = vec![Vec::new(); names.len()];
        for (i, list) in resolved.iter().enumerate() {
            for &j in list {
                dependents[j].push(i);
            }
        }
        Ok(Self { names, deps: resolved, dependents })
    }

    /// How many phases there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no phases.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The direct dependencies of phase `i`.
    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    /// The phases that depend directly on phase `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// Levels: level 0 has no dependencies, level n depends on level n-1 at the latest.
    /// Each level is sorted by name.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let mut remaining: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut current: Vec<usize> = (0..self.len()).filter(|&i| remaining[i] == 0).collect();
        let mut levels = Vec::new();
        while !current.is_empty() {
            current.sort_by(|&a, &b| self.names[a].cmp(&self.names[b]));
            let mut next = Vec::new();
            for &i in &current {
                for &d in &self.dependents[i] {
                    remaining[d] -= 1;
                    if remaining[d] == 0 {
                        next.push(d);
                    }
                }
            }
            levels.push(std::mem::replace(&mut current, next));
        }
        levels
    }

    /// The deterministic topological order: level by level, each level sorted by name.
    pub fn execution_order(&self) -> Vec<usize> {
        self.levels().into_iter().flatten().collect()
    }

    /// Which phases `targets` need: the targets and everything they depend on, transitively.
    pub fn closure(&self, targets: &[usize]) -> Vec<bool> {
        let mut keep = vec![false; self.len()];
        let mut stack: Vec<usize> = targets.to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut keep[i], true) {
                stack.extend(&self.deps[i]);
            }
        }
        keep
    }

    /// For each phase, the longest path from its start to the end of the graph, counting its
    /// own cost: `cost[i] + max(rank of its dependents)`.
    pub fn critical_path(&self, cost: &[f64]) -> Vec<f64> {
        let mut rank = vec![0.0; self.len()];
        for i in self.execution_order().into_iter().rev() {
            let tail = self.dependents[i].iter().map(|&d| rank[d]).fold(0.0_f64, f64::max);
            rank[i] = cost.get(i).copied().unwrap_or(0.0) + tail;
        }
        rank
    }
}

/// Every cycle, one per strongly connected component, each as a path starting at the
/// component's earliest-declared phase.
fn find_cycles(names: &[String], deps: &[Vec<usize>]) -> Vec<GraphError> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(names.len(), 0);
    let nodes: Vec<NodeIndex> = (0..names.len()).map(|_| graph.add_node(())).collect();
    for (i, list) in deps.iter().enumerate() {
        for &j in list {
            graph.add_edge(nodes[i], nodes[j], ());
        }
    }
    let mut cycles = Vec::new();
    for component in tarjan_scc(&graph) {
        let members: Vec<usize> = component.iter().map(|n| n.index()).collect();
        let is_cycle = members.len() > 1 || deps[members[0]].contains(&members[0]);
        if !is_cycle {
            continue;
        }
        let Some(&start) = members.iter().min() else { continue };
        let path = cycle_path(start, &members, deps);
        let path = path.iter().map(|&i| names[i].clone()).collect();
        cycles.push((start, CycleError { path }));
    }
    cycles.sort_by_key(|(start, _)| *start);
    cycles.into_iter().map(|(phase, cycle)| GraphError::Cycle { cycle, phase }).collect()
}

/// A shortest walk along dependency edges from `start` back to itself inside one component.
fn cycle_path(start: usize, members: &[usize], deps: &[Vec<usize>]) -> Vec<usize> {
    let inside: std::collections::HashSet<usize> = members.iter().copied().collect();
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut next: Vec<usize> =
            deps[node].iter().copied().filter(|d| inside.contains(d)).collect();
        next.sort_unstable();
        for d in next {
            if d == start {
                // In a larger component, show the real cycle rather than a self-loop.
                if node == start && members.len() > 1 {
                    continue;
                }
                return fix_walk(start, node, &parent);
            }
            if d != start
                && let std::collections::hash_map::Entry::Vacant(e) = parent.entry(d)
            {
                e.insert(node);
                queue.push_back(d);
            }
        }
    }
    vec![start, start]
}

/// Rebuilds `start → … → last → start` from BFS parents.
fn fix_walk(start: usize, last: usize, parent: &HashMap<usize, usize>) -> Vec<usize> {
    let mut back = vec![last];
    let mut at = last;
    while at != start {
        at = parent[&at];
        back.push(at);
    }
    back.reverse();
    back.push(start);
    back
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(spec: &[(&str, &[&str])]) -> Result<Graph, Vec<GraphError>> {
        let names: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
        let deps: Vec<Vec<&str>> = spec.iter().map(|(_, d)| d.to_vec()).collect();
        Graph::from_names(&names, &deps)
    }

    fn names(g: &Graph, order: &[usize]) -> Vec<String> {
        order.iter().map(|&i| g.names[i].clone()).collect()
    }

    const DIAMOND: &[(&str, &[&str])] = &[
        ("discover", &[]),
        ("parse", &["discover"]),
        ("render", &["parse"]),
        ("assets", &["parse"]),
        ("write", &["render", "assets"]),
    ];

    #[test]
    fn suggestions_stop_after_the_limit() {
        let names: Vec<String> = (0..SUGGESTION_LIMIT + 5).map(|i| format!("build{i}")).collect();
        let typos: Vec<String> = (0..names.len()).map(|i| format!("biuld{i}")).collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let deps: Vec<Vec<&str>> = typos.iter().map(|t| vec![t.as_str()]).collect();
        let errors = Graph::from_names(&name_refs, &deps).expect_err("unknown deps");
        let suggested: Vec<bool> = errors
            .iter()
            .map(|e| matches!(e, GraphError::MissingDependency { suggestion: Some(_), .. }))
            .collect();
        assert!(suggested[..SUGGESTION_LIMIT].iter().all(|&s| s));
        assert!(suggested[SUGGESTION_LIMIT..].iter().all(|&s| !s));
    }

    #[test]
    fn a_self_loop_does_not_hide_the_larger_cycle() {
        let errors = graph(&[("a", &["a", "b"]), ("b", &["a"])]).expect_err("cyclic");
        let paths: Vec<Vec<String>> = errors
            .iter()
            .filter_map(|e| match e {
                GraphError::Cycle { cycle, .. } => Some(cycle.path.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(paths, [["a", "b", "a"]]);
    }

    #[test]
    fn diamond_order_is_by_level_then_name() {
        let g = graph(DIAMOND).expect("valid");
        assert_eq!(
            names(&g, &g.execution_order()),
            ["discover", "parse", "assets", "render", "write"]
        );
    }

    #[test]
    fn cycle_shows_its_path() {
        let errors = graph(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"])]).expect_err("cycle");
        let [GraphError::Cycle { cycle, phase }] = errors.as_slice() else { panic!("{errors:?}") };
        assert_eq!(*phase, 0);
        assert_eq!(cycle.to_string(), "circular dependency: a → c → b → a");
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let errors = graph(&[("a", &[]), ("b", &["b"])]).expect_err("cycle");
        assert_eq!(errors[0].to_string(), "circular dependency: b → b");
    }

    #[test]
    fn missing_dependency_suggests_the_closest() {
        let errors = graph(&[("build", &[]), ("test", &["biuld"])]).expect_err("missing");
        assert_eq!(
            errors,
            [GraphError::MissingDependency {
                phase: 1,
                position: 0,
                missing: "biuld".into(),
                suggestion: Some("build".into())
            }]
        );
    }

    #[test]
    fn duplicates_are_reported() {
        let errors = graph(&[("a", &[]), ("a", &[])]).expect_err("dup");
        assert_eq!(errors, [GraphError::DuplicateName { name: "a".into(), first: 0, second: 1 }]);
    }

    #[test]
    fn closure_follows_dependencies() {
        let g = graph(DIAMOND).expect("valid");
        let keep = g.closure(&[2]);
        assert_eq!(keep, [true, true, true, false, false]);
    }

    #[test]
    fn critical_path_sums_the_longest_tail() {
        let g = graph(DIAMOND).expect("valid");
        let rank = g.critical_path(&[1.0, 1.0, 5.0, 2.0, 1.0]);
        assert_eq!(rank, [8.0, 7.0, 6.0, 3.0, 1.0]);
    }

    proptest::proptest! {
        #[test]
        fn order_respects_every_edge(edges in proptest::collection::vec((0usize..30, 0usize..30), 0..80)) {
            let names: Vec<String> = (0..30).map(|i| format!("n{i:02}")).collect();
            let mut deps: Vec<Vec<&str>> = vec![Vec::new(); 30];
            for (a, b) in edges {
                // only edges to earlier nodes: acyclic by construction
                if b < a { deps[a].push(&names[b]); }
            }
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let g = Graph::from_names(&refs, &deps).expect("acyclic");
            let order = g.execution_order();
            proptest::prop_assert_eq!(order.len(), 30);
            let pos: Vec<usize> = { let mut p = vec![0; 30]; for (k, &i) in order.iter().enumerate() { p[i] = k; } p };
            for (i, list) in deps.iter().enumerate() {
                for d in list {
                    let j = refs.iter().position(|n| n == d).expect("known");
                    proptest::prop_assert!(pos[j] < pos[i]);
                }
            }
        }
    }
}
