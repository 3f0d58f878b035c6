//! The GitHub Actions workflow: a job per phase, artifacts `milo-<job>` between them.

use serde_norway::{Mapping, Value};

use super::yaml::{list, map, s};
use super::{
    ExportContext, JOBS_DIR, Job, OUT_DIR, REPORT_JOB, header, merge_commands, run_command,
};
use crate::pipeline::Pipeline;

// Versions actionlint knows and does not call deprecated (download-artifact@v6 still runs
// on node20).
const CHECKOUT: &str = "actions/checkout@v6";
const UPLOAD: &str = "actions/upload-artifact@v6";
const DOWNLOAD: &str = "actions/download-artifact@v7";

/// The workflow file's text.
pub(super) fn workflow(
    pipeline: &Pipeline,
    jobs: &[Job],
    context: &ExportContext,
) -> Result<String, serde_norway::Error> {
    let settings = &pipeline.settings().export;
    let mut all = Mapping::new();
    for job in jobs {
        let mut steps = vec![
            map([("uses", s(CHECKOUT))]),
            map([("name", s("Install cargo-milo")), ("run", s(&settings.install))]),
        ];
        if !settings.setup.is_empty() {
            steps.push(map([("name", s("Set up")), ("run", s(settings.setup.join("\n")))]));
        }
        for &n in &job.needs {
            let need = &jobs[n];
            steps.push(map([
                ("name", s(format!("Fetch the timeline of {}", need.phase))),
                ("uses", s(DOWNLOAD)),
                (
                    "with",
                    map([
                        ("name", s(artifact(need))),
                        ("path", s(format!("{JOBS_DIR}/{}", need.folder))),
                    ]),
                ),
            ]));
        }
        steps.push(map([
            ("name", s(format!("Run {}", job.phase))),
            ("run", s(run_command(job, context))),
        ]));
        steps.push(map([
            ("name", s(format!("Keep the timeline of {}", job.phase))),
            ("if", s("always()")),
            ("uses", s(UPLOAD)),
            (
                "with",
                map([
                    ("name", s(artifact(job))),
                    ("path", s(format!("{JOBS_DIR}/{}/", job.folder))),
                    ("if-no-files-found", s("ignore")),
                ]),
            ),
        ]));
        let mut entry = vec![("name", s(&job.phase)), ("runs-on", s(&settings.runs_on))];
        if !job.needs.is_empty() {
            entry.push(("needs", list(job.needs.iter().map(|&n| jobs[n].key.clone()))));
        }
        entry.push(("steps", Value::Sequence(steps)));
        all.insert(s(&job.key), map(entry));
    }
    all.insert(s(REPORT_JOB), report_job(jobs, &settings.install, &settings.runs_on));
    let workflow = map([
        ("name", s(format!("milo: {}", pipeline.name()))),
        (
            "on",
            map([
                ("push", map([("branches", list(["main".to_owned()]))])),
                ("pull_request", Value::Mapping(Mapping::new())),
                ("workflow_dispatch", Value::Mapping(Mapping::new())),
            ]),
        ),
        ("permissions", map([("contents", s("read"))])),
        ("jobs", Value::Mapping(all)),
    ]);
    Ok(header(pipeline, context) + &serde_norway::to_string(&workflow)?)
}

/// The job that always runs last: merges the partial timelines, writes the reports (the
/// Markdown one into the step summary) and keeps `target/milo/`.
fn report_job(jobs: &[Job], install: &str, runs_on: &str) -> Value {
    let mut commands = merge_commands();
    commands.push(format!(
        "cargo milo report {OUT_DIR}/timeline.json --format markdown >> \"$GITHUB_STEP_SUMMARY\""
    ));
    let steps = vec![
        map([("uses", s(CHECKOUT))]),
        map([("name", s("Install cargo-milo")), ("run", s(install))]),
        map([
            ("name", s("Fetch every timeline")),
            ("uses", s(DOWNLOAD)),
            ("with", map([("pattern", s("milo-*")), ("path", s(JOBS_DIR))])),
        ]),
        map([
            ("name", s("Merge the timelines and write the reports")),
            ("run", s(commands.join("\n"))),
        ]),
        map([
            ("name", s("Keep the timeline, logs and reports")),
            ("if", s("always()")),
            ("uses", s(UPLOAD)),
            (
                "with",
                map([
                    ("name", s("milo")),
                    ("path", s(format!("{OUT_DIR}/"))),
                    ("if-no-files-found", s("ignore")),
                ]),
            ),
        ]),
    ];
    map([
        ("name", s("report")),
        ("if", s("always()")),
        ("needs", list(jobs.iter().map(|j| j.key.clone()))),
        ("runs-on", s(runs_on)),
        ("steps", Value::Sequence(steps)),
    ])
}

/// The artifact holding a job's partial timeline.
fn artifact(job: &Job) -> String {
    format!("milo-{}", job.folder)
}
