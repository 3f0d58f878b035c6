//! Narrowing a pipeline: to targets and their dependencies, to `--only`'s phases, to the
//! packages a change affects.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Pipeline, PipelineError};
use crate::affected::Affected;
use crate::graph::Graph;
use crate::phase::Phase;

impl Pipeline {
    /// The positions of `targets` in [`phases`](Self::phases): a phase's name, or a
    /// per-package phase's name (`test`) for all its instances. Unknown targets are returned
    /// as the error, each with the closest name.
    pub fn find_targets(
        &self,
        targets: &[String],
    ) -> Result<Vec<usize>, Vec<(String, Option<String>)>> {
        let mut unknown = Vec::new();
        let mut idx = Vec::new();
        for t in targets {
            if let Some(i) = self.phases.iter().position(|p| &p.name == t) {
                idx.push(i);
                continue;
            }
            let before = idx.len();
            idx.extend(self.phases.iter().enumerate().filter_map(|(i, p)| {
                p.instance.as_ref().is_some_and(|inst| &inst.phase == t).then_some(i)
            }));
            if idx.len() == before {
                let names = self.phases.iter().flat_map(|p| {
                    std::iter::once(p.name.as_str())
                        .chain(p.instance.as_ref().map(|i| i.phase.as_str()))
                });
                unknown.push((t.clone(), crate::suggest::closest(t, names).map(str::to_owned)));
            }
        }
        if unknown.is_empty() { Ok(idx) } else { Err(unknown) }
    }

    /// A pipeline of `targets` and everything they depend on, in declaration order. A
    /// per-package phase's name (`test`) selects all its instances, an instance's name
    /// (`test:core`) one. Unknown targets are returned as the error, each with the closest
    /// name.
    pub fn select(&self, targets: &[String]) -> Result<Self, Vec<(String, Option<String>)>> {
        if targets.is_empty() {
            return Ok(self.clone());
        }
        let idx = self.find_targets(targets)?;
        let keep = self.graph.closure(&idx);
        let phases: Vec<Phase> =
            self.phases.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| p.clone()).collect();
        // A closure of a valid graph is valid: every dependency of a kept phase is kept.
        let graph = Graph::new(&phases).map_err(|_| Vec::new())?;
        Ok(self.with_phases(phases, graph))
    }

    /// The phases marked in `keep` (by position) alone, their dependencies on the others
    /// dropped: what `run --only` shows in its plan and progress.
    pub fn only(&self, keep: &[bool]) -> Result<Self, PipelineError> {
        let kept: HashSet<&str> = self
            .phases
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(p, _)| p.name.as_str())
            .collect();
        let phases: Vec<Phase> = self
            .phases
            .iter()
            .filter(|p| kept.contains(p.name.as_str()))
            .map(|p| {
                let deps = p.depends_on.iter().filter(|d| kept.contains(d.as_str())).cloned();
                Phase { depends_on: deps.collect(), ..p.clone() }
            })
            .collect();
        // Phases of a valid graph and edges among them: still valid.
        let graph = Graph::new(&phases).map_err(PipelineError::Graph)?;
        Ok(self.with_phases(phases, graph))
    }

    /// This pipeline's name and settings over other phases.
    fn with_phases(&self, phases: Vec<Phase>, graph: Graph) -> Self {
        let (name, settings, affected) =
            (self.name.clone(), self.settings.clone(), self.affected.clone());
        Self { name, phases, graph, settings, affected }
    }

    /// [`affected`](Self::affected), shared.
    pub(crate) fn affected_shared(&self) -> Option<Arc<Affected>> {
        self.affected.clone()
    }

    /// The affected packages this pipeline was narrowed to by
    /// [`keep_affected`](Self::keep_affected).
    pub fn affected(&self) -> Option<&Affected> {
        self.affected.as_deref()
    }

    /// The pipeline narrowed to the affected packages: single phases and the instances of
    /// affected packages stay. A phase that depended on a dropped instance depends on what
    /// that instance depended on instead, so the order between kept phases holds.
    pub fn keep_affected(&self, affected: Affected) -> Result<Self, PipelineError> {
        let keep: Vec<bool> = self
            .phases
            .iter()
            .map(|p| p.instance.as_ref().is_none_or(|i| affected.contains(&i.package)))
            .collect();
        let mut phases = Vec::with_capacity(self.phases.len());
        for (i, phase) in self.phases.iter().enumerate().filter(|(i, _)| keep[*i]) {
            let mut deps: Vec<String> = Vec::new();
            let mut seen = vec![false; self.phases.len()];
            let mut stack: Vec<usize> = self.graph.deps(i).iter().rev().copied().collect();
            while let Some(d) = stack.pop() {
                if std::mem::replace(&mut seen[d], true) {
                    continue;
                }
                if keep[d] {
                    deps.push(self.phases[d].name.clone());
                } else {
                    stack.extend(self.graph.deps(d).iter().rev());
                }
            }
            phases.push(Phase { depends_on: deps, ..phase.clone() });
        }
        // Edges of the transitive closure of a DAG: still a DAG, every name kept.
        let graph = Graph::new(&phases).map_err(PipelineError::Graph)?;
        let mut pipeline = self.with_phases(phases, graph);
        pipeline.affected = Some(Arc::new(affected));
        Ok(pipeline)
    }
}

#[cfg(test)]
mod tests {
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;

    #[test]
    fn select_keeps_targets_and_their_dependencies() {
        let p = Pipeline::new("p")
            .phase(Phase::cmd("a", "true"))
            .phase(Phase::cmd("b", "true").depends_on(["a"]))
            .phase(Phase::cmd("c", "true"))
            .build()
            .expect("valid");
        let selected = p.select(&["b".to_owned()]).expect("known");
        assert_eq!(selected.execution_order(), ["a", "b"]);
        let unknown = p.select(&["bb".to_owned()]).expect_err("unknown");
        assert_eq!(unknown, [("bb".to_owned(), Some("b".to_owned()))]);
    }

    #[test]
    fn only_keeps_the_marked_phases_and_the_edges_between_them() {
        let p = Pipeline::new("p")
            .phase(Phase::cmd("a", "true"))
            .phase(Phase::cmd("b", "true").depends_on(["a"]))
            .phase(Phase::cmd("c", "true").depends_on(["a", "b"]))
            .build()
            .expect("valid");
        let idx = p.find_targets(&["c".to_owned(), "b".to_owned()]).expect("known");
        assert_eq!(idx, [2, 1]);
        let only = p.only(&[false, true, true]).expect("valid");
        assert_eq!(only.execution_order(), ["b", "c"]);
        assert_eq!(only.get("c").map(|c| c.depends_on.clone()), Some(vec!["b".to_owned()]));
    }

    /// Instance `phase:package` of a per-package phase.
    fn instance(phase: &str, package: &str, deps: &[&str]) -> Phase {
        let i = crate::phase::Instance { phase: phase.into(), package: package.into() };
        Phase {
            instance: Some(i.clone()),
            ..Phase::cmd(i.name(), "true").depends_on(deps.iter().copied())
        }
    }

    #[test]
    fn select_takes_every_instance_of_a_per_package_phase_or_one() {
        let p = Pipeline::new("p")
            .phase(Phase::cmd("fmt", "true"))
            .phase(instance("build", "core", &[]))
            .phase(instance("build", "app", &["build:core"]))
            .phase(instance("test", "core", &["build:core", "fmt"]))
            .phase(instance("test", "app", &["build:app"]))
            .build()
            .expect("valid");
        let all = p.select(&["test".to_owned()]).expect("known");
        assert_eq!(all.phases().len(), 5);
        let one = p.select(&["test:app".to_owned()]).expect("known");
        assert_eq!(one.execution_order(), ["build:core", "build:app", "test:app"]);
        let unknown = p.select(&["tets".to_owned()]).expect_err("unknown");
        assert_eq!(unknown, [("tets".to_owned(), Some("test".to_owned()))]);
    }

    #[test]
    fn keep_affected_drops_other_instances_and_keeps_the_order() {
        use crate::affected::{Affected, AffectedPackage, Reason};
        let p = Pipeline::new("p")
            .phase(Phase::cmd("fmt", "true"))
            .phase(instance("build", "core", &["fmt"]))
            .phase(instance("build", "app", &["build:core"]))
            .phase(instance("test", "core", &["build:core"]))
            .phase(instance("test", "app", &["build:app", "test:core"]))
            .phase(Phase::cmd("report", "true").depends_on(["test:core", "test:app"]))
            .build()
            .expect("valid");
        let affected = Affected {
            base: "main".into(),
            merge_base: "abc".into(),
            packages: vec![AffectedPackage { name: "app".into(), reason: Reason::Changed(1) }],
            members: 2,
            changed: 1,
            outside: 0,
        };
        let kept = p.keep_affected(affected).expect("valid");
        assert_eq!(kept.execution_order(), ["fmt", "build:app", "test:app", "report"]);
        // build:app waited for fmt through build:core; test:app through test:core too.
        assert_eq!(kept.get("build:app").map(|p| p.depends_on.clone()), Some(vec!["fmt".into()]));
        assert_eq!(
            kept.get("test:app").map(|p| p.depends_on.clone()),
            Some(vec!["build:app".into(), "fmt".into()])
        );
        assert_eq!(kept.affected().map(|a| a.packages.len()), Some(1));
    }
}
