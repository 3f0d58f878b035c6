//! The GitLab CI pipeline: a job per phase in stage `milo`, `needs:` between them (GitLab
//! hands each job the artifacts of the jobs it needs), and the merge job in a last stage,
//! which gets every earlier job's artifacts.

use serde_norway::{Mapping, Value};

use super::yaml::{list, map, s};
use super::{
    ExportContext, ExportSettings, JOBS_DIR, Job, OUT_DIR, REPORT_JOB, header, merge_commands,
    run_command,
};
use crate::pipeline::Pipeline;

const STAGE: &str = "milo";
const REPORT_STAGE: &str = "milo-report";

/// The `.gitlab-ci.yml` text.
pub(super) fn pipeline(
    pipeline: &Pipeline,
    jobs: &[Job],
    context: &ExportContext,
) -> Result<String, serde_norway::Error> {
    let settings = &pipeline.settings().export;
    let mut all = Mapping::new();
    all.insert(s("stages"), list([STAGE.to_owned(), REPORT_STAGE.to_owned()]));
    for job in jobs {
        let mut entry = vec![("stage", s(STAGE))];
        entry.extend(runner(settings));
        // `needs: []` starts a job at once instead of after the stages before its own.
        entry.push(("needs", list(job.needs.iter().map(|&n| jobs[n].key.clone()))));
        let before =
            std::iter::once(settings.install.clone()).chain(settings.setup.iter().cloned());
        entry.push(("before_script", list(before)));
        entry.push(("script", list([run_command(job, context)])));
        entry.push((
            "artifacts",
            map([("when", s("always")), ("paths", list([format!("{JOBS_DIR}/{}/", job.folder)]))]),
        ));
        all.insert(s(&job.key), map(entry));
    }
    let mut report = vec![("stage", s(REPORT_STAGE))];
    report.extend(runner(settings));
    report.push(("when", s("always")));
    report.push(("before_script", list([settings.install.clone()])));
    let mut commands = merge_commands();
    commands.push(format!(
        "cargo milo report {OUT_DIR}/timeline.json --format markdown -o {OUT_DIR}/summary.md"
    ));
    report.push(("script", list(commands)));
    report.push((
        "artifacts",
        map([
            ("when", s("always")),
            ("paths", list([format!("{OUT_DIR}/")])),
            ("reports", map([("junit", s(format!("{OUT_DIR}/junit.xml")))])),
        ]),
    ));
    all.insert(s(REPORT_JOB), map(report));
    Ok(header(pipeline, context) + &serde_norway::to_string(&Value::Mapping(all))?)
}

/// `image` and `tags`, where set.
fn runner(settings: &ExportSettings) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(image) = &settings.image {
        out.push(("image", s(image)));
    }
    if !settings.tags.is_empty() {
        out.push(("tags", list(settings.tags.iter().cloned())));
    }
    out
}
