//! Pure text: durations and status marks as every report shows them, `check`'s summary,
//! `order`, `list`, and the graph as Graphviz DOT or Mermaid.

use std::fmt::Write as _;

use crate::pipeline::Pipeline;
use crate::state::{PhaseStatus, PipelineStatus};

/// An elapsed time as cargo prints it: `0.52s`, `12.34s`, `2m 05s`, `1h 02m`. Rounded to the
/// hundredth (so `1.37 - 0.52` shows `0.85s`), then cut to whole seconds past a minute, as
/// cargo cuts them.
///
/// ```
/// use milo::format::duration;
/// assert_eq!(duration(3.214), "3.21s");
/// assert_eq!(duration(125.9), "2m 05s");
/// assert_eq!(duration(3720.0), "1h 02m");
/// ```
pub fn duration(secs: f64) -> String {
    let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
    // The value is finite and non-negative; past u64 it saturates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let hundredths = (secs * 100.0).round() as u64;
    let whole = hundredths / 100;
    if whole < 60 {
        format!("{}.{:02}s", hundredths / 100, hundredths % 100)
    } else if whole < 3600 {
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h {:02}m", whole / 3600, whole % 3600 / 60)
    }
}

/// A delay as configured (`retry_delay`), in humantime's words: `2s`, `500ms`, `1m 30s`.
pub fn delay(secs: f64) -> String {
    let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
    // Whole milliseconds: delays are human-sized.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let millis = (secs * 1000.0).round() as u64;
    humantime::format_duration(std::time::Duration::from_millis(millis)).to_string()
}

/// The mark of a phase status, in front of its lines and rows everywhere:
/// `✓` completed, `✗` failed, `↷` skipped, `⊘` cancelled, `↻` retrying, `▶` running,
/// `·` pending, `≡` up to date.
pub fn mark(status: PhaseStatus) -> &'static str {
    match status {
        PhaseStatus::Completed => "✓",
        PhaseStatus::Failed => "✗",
        PhaseStatus::Skipped => "↷",
        PhaseStatus::Cancelled => "⊘",
        PhaseStatus::Retrying => "↻",
        PhaseStatus::Running => "▶",
        PhaseStatus::Pending => "·",
        PhaseStatus::UpToDate => "≡",
    }
}

/// The mark of a pipeline status: the same mark as a phase in that status.
pub fn pipeline_mark(status: PipelineStatus) -> &'static str {
    mark(match status {
        PipelineStatus::Pending => PhaseStatus::Pending,
        PipelineStatus::Running => PhaseStatus::Running,
        PipelineStatus::Completed => PhaseStatus::Completed,
        PipelineStatus::Failed => PhaseStatus::Failed,
        PipelineStatus::Cancelled => PhaseStatus::Cancelled,
    })
}

/// How many phases ended how, as every summary line says it: `3 completed, 1 failed,
/// 0 skipped, 0 cancelled, 1 not run` (`2 up to date` after `completed` when there are any).
///
/// ```
/// use milo::PhaseStatus as S;
/// let statuses = [S::Completed, S::UpToDate, S::Failed, S::Pending];
/// assert_eq!(
///     milo::format::status_counts(statuses),
///     "1 completed, 1 up to date, 1 failed, 0 skipped, 0 cancelled, 1 not run"
/// );
/// ```
pub fn status_counts(statuses: impl IntoIterator<Item = PhaseStatus>) -> String {
    let mut n = [0usize; 6];
    for status in statuses {
        let slot = match status {
            PhaseStatus::Completed => 0,
            PhaseStatus::UpToDate => 1,
            PhaseStatus::Failed => 2,
            PhaseStatus::Skipped => 3,
            PhaseStatus::Cancelled => 4,
            PhaseStatus::Pending => 5,
            PhaseStatus::Running | PhaseStatus::Retrying => continue,
        };
        n[slot] += 1;
    }
    let up_to_date = if n[1] > 0 { format!(", {} up to date", n[1]) } else { String::new() };
    format!(
        "{} completed{up_to_date}, {} failed, {} skipped, {} cancelled, {} not run",
        n[0], n[2], n[3], n[4], n[5]
    )
}

/// `check`'s one line: `Milo.toml: 5 phases, 4 dependencies, ok`.
pub fn summary(path: &str, pipeline: &Pipeline) -> String {
    let phases = pipeline.phases().len();
    let deps: usize = (0..pipeline.graph().len()).map(|i| pipeline.graph().deps(i).len()).sum();
    format!(
        "{path}: {phases} {}, {deps} {}, ok",
        plural(phases, "phase", "phases"),
        plural(deps, "dependency", "dependencies")
    )
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The execution order, one name a line.
pub fn order(pipeline: &Pipeline) -> String {
    let order = pipeline.execution_order();
    let mut out = String::with_capacity(order.iter().map(|n| n.len() + 1).sum());
    for name in order {
        out.push_str(name);
        out.push('\n');
    }
    out
}

/// A table of the phases in declaration order: name, weight, parallel, dependencies,
/// description.
pub fn list(pipeline: &Pipeline) -> String {
    let header = ["PHASE", "WEIGHT", "PARALLEL", "DEPENDS ON", "DESCRIPTION"];
    let rows: Vec<[String; 5]> = pipeline
        .phases()
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.weight.to_string(),
                if p.parallel { "yes" } else { "no" }.to_owned(),
                if p.depends_on.is_empty() { "-".to_owned() } else { p.depends_on.join(", ") },
                p.description.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == 1 {
                // Numbers align right.
                let _ = write!(line, "{cell:>width$}  ", width = widths[i]);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The DAG as Graphviz DOT; edges point from a dependency to its dependent.
pub fn dot(pipeline: &Pipeline) -> String {
    let mut out =
        format!("digraph {} {{\n    rankdir=LR;\n    node [shape=box];\n", quote(pipeline.name()));
    for p in pipeline.phases() {
        let _ = write!(out, "    {}", quote(&p.name));
        if !p.description.is_empty() {
            let _ = write!(out, " [tooltip={}]", quote(&p.description));
        }
        out.push_str(";\n");
    }
    let graph = pipeline.graph();
    for (i, p) in pipeline.phases().iter().enumerate() {
        for &d in graph.deps(i) {
            let _ =
                writeln!(out, "    {} -> {};", quote(&pipeline.phases()[d].name), quote(&p.name));
        }
    }
    out.push_str("}\n");
    out
}

/// The DAG as a Mermaid flowchart; edges point from a dependency to its dependent.
pub fn mermaid(pipeline: &Pipeline) -> String {
    // Phase names may contain `.` and `-`, or be Mermaid keywords like `end`: use ids.
    let mut out = format!("%% pipeline: {}\nflowchart LR\n", pipeline.name().replace('\n', " "));
    for (i, p) in pipeline.phases().iter().enumerate() {
        let _ = writeln!(out, "    p{i}[\"{}\"]", p.name);
    }
    let graph = pipeline.graph();
    for i in 0..pipeline.phases().len() {
        for &d in graph.deps(i) {
            let _ = writeln!(out, "    p{d} --> p{i}");
        }
    }
    out
}

/// A DOT string literal.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Phase;

    fn diamond() -> Pipeline {
        Pipeline::new("site \"x\"")
            .phase(Phase::cmd("discover", "true").description("Find the pages"))
            .phase(Phase::cmd("parse", "true").depends_on(["discover"]))
            .phase(Phase::cmd("render", "true").depends_on(["parse"]).parallel(true).weight(10))
            .phase(Phase::cmd("assets", "true").depends_on(["parse"]).parallel(true))
            .phase(Phase::cmd("write", "true").depends_on(["render", "assets"]))
            .build()
            .expect("valid")
    }

    #[test]
    fn durations_read_like_cargo() {
        assert_eq!(duration(0.5234), "0.52s");
        assert_eq!(duration(3.214), "3.21s");
        assert_eq!(duration(12.344), "12.34s");
        assert_eq!(duration(1.37 - 0.52), "0.85s");
        assert_eq!(duration(59.994), "59.99s");
        assert_eq!(duration(59.996), "1m 00s");
        assert_eq!(duration(60.0), "1m 00s");
        assert_eq!(duration(125.9), "2m 05s");
        assert_eq!(duration(3599.9), "59m 59s");
        assert_eq!(duration(3725.0), "1h 02m");
        assert_eq!(duration(-1.0), "0.00s");
        assert_eq!(duration(f64::NAN), "0.00s");
        assert_eq!(duration(f64::INFINITY), "0.00s");
    }

    #[test]
    fn delays_read_as_configured() {
        assert_eq!(delay(2.0), "2s");
        assert_eq!(delay(0.5), "500ms");
        assert_eq!(delay(90.0), "1m 30s");
        assert_eq!(delay(-1.0), "0s");
    }

    #[test]
    fn every_status_has_its_own_mark() {
        use PhaseStatus as S;
        let all = [
            S::Pending,
            S::Running,
            S::Retrying,
            S::Completed,
            S::Failed,
            S::Skipped,
            S::Cancelled,
            S::UpToDate,
        ];
        let marks: std::collections::HashSet<&str> = all.into_iter().map(mark).collect();
        assert_eq!(marks.len(), all.len());
        assert_eq!(pipeline_mark(PipelineStatus::Failed), mark(S::Failed));
        assert_eq!(pipeline_mark(PipelineStatus::Cancelled), "⊘");
    }

    #[test]
    fn summary_counts_phases_and_edges() {
        assert_eq!(summary("Milo.toml", &diamond()), "Milo.toml: 5 phases, 5 dependencies, ok");
        let one = Pipeline::new("x").phase(Phase::cmd("a", "true")).build().expect("valid");
        assert_eq!(summary("M", &one), "M: 1 phase, 0 dependencies, ok");
    }

    #[test]
    fn order_is_one_name_a_line() {
        assert_eq!(order(&diamond()), "discover\nparse\nassets\nrender\nwrite\n");
    }

    #[test]
    fn list_is_a_table() {
        let text = list(&diamond());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "PHASE     WEIGHT  PARALLEL  DEPENDS ON      DESCRIPTION");
        assert_eq!(lines[1], "discover       1  no        -               Find the pages");
        assert_eq!(lines[3], "render        10  yes       parse");
        assert_eq!(lines[5], "write          1  no        render, assets");
    }

    #[test]
    fn dot_escapes_and_draws_edges() {
        let text = dot(&diamond());
        assert!(text.starts_with("digraph \"site \\\"x\\\"\" {"), "{text}");
        assert!(text.contains("    \"discover\" [tooltip=\"Find the pages\"];\n"));
        assert!(text.contains("    \"render\" -> \"write\";\n"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn mermaid_uses_ids() {
        let text = mermaid(&diamond());
        assert!(text.contains("flowchart LR\n    p0[\"discover\"]\n"), "{text}");
        assert!(text.contains("    p1 --> p2\n"), "{text}");
    }
}
