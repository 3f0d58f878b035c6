use scraper::{Html, Selector};

use super::*;
use crate::reports::fixture::sample;

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("selector")).collect()
}

fn text(element: &scraper::ElementRef<'_>) -> String {
    element.text().collect()
}

#[test]
fn every_phase_is_present_with_its_status_and_attempts() {
    let timeline = sample();
    let doc = Html::parse_document(&render(&timeline, &Excerpts::new()));
    let phases = select(&doc, "details.phase");
    let names: Vec<&str> = phases.iter().filter_map(|d| d.value().attr("data-name")).collect();
    let expected: Vec<&str> = timeline.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, expected);
    let build =
        phases.iter().find(|d| d.value().attr("data-name") == Some("build")).expect("build");
    assert_eq!(build.value().attr("data-status"), Some("failed"));
    assert!(build.value().attr("open").is_some(), "a failed phase opens");
    let rows = build.select(&Selector::parse("table.attempts tbody tr").expect("sel")).count();
    assert_eq!(rows, 2);
    let fmt = phases.iter().find(|d| d.value().attr("data-name") == Some("fmt")).expect("fmt");
    assert!(fmt.value().attr("open").is_none());
    let title = select(&doc, "title");
    assert_eq!(text(&title[0]), "✗ ci failed · cargo milo");
}

#[test]
fn the_gantt_draws_attempts_and_waits() {
    let doc = Html::parse_document(&render(&sample(), &Excerpts::new()));
    assert_eq!(select(&doc, "svg g.row").len(), 7);
    assert_eq!(select(&doc, "svg rect.wait").len(), 2);
    assert_eq!(select(&doc, "svg rect.fail").len(), 4, "flaky 1, build 2, lint 1");
    assert_eq!(select(&doc, "svg rect.cancel").len(), 1);
    let wait = select(&doc, "g.row.completed rect.wait");
    let title = text(&wait[0]);
    assert_eq!(title, "flaky: waiting after attempt 1, 0.30s → 1.30s (1.00s)");
    // 0.3 s of a 2 s axis 960 px wide, after 200 px of names.
    assert_eq!(wait[0].value().attr("x"), Some("344.0"));
}

#[test]
fn the_failed_phase_shows_its_excerpt_first_and_marks_stderr() {
    let doc = Html::parse_document(&render(&sample(), &Excerpts::new()));
    let excerpt = select(&doc, "#phase-2 pre.excerpt");
    assert_eq!(excerpt.len(), 1);
    let hits = excerpt[0]
        .select(&Selector::parse(".hit").expect("sel"))
        .map(|h| text(&h))
        .collect::<Vec<_>>();
    assert_eq!(hits[0], "error[E0308]: mismatched types");
    assert_eq!(hits[1], " --> src/main.rs:2:18");
    assert!(text(&excerpt[0]).contains("warning: unreachable 29"));
    assert!(select(&doc, "#phase-0 pre.excerpt").is_empty(), "no excerpt for a pass");
    assert_eq!(select(&doc, "#phase-1 pre .stderr").len(), 1, "flaky's stderr line");
    let reason = select(&doc, "#phase-6 p.reason");
    assert_eq!(text(&reason[0]), "never started: its dependency `build` failed");
}

#[test]
fn nothing_is_fetched_and_markup_in_output_is_text() {
    let html = render(&sample(), &Excerpts::new());
    let doc = Html::parse_document(&html);
    for element in select(&doc, "[src], [href]") {
        let link = element.value().attr("src").or(element.value().attr("href")).unwrap_or_default();
        assert!(link.starts_with('#'), "external reference {link}");
    }
    assert!(select(&doc, "link, img, iframe, object, embed").is_empty());
    assert_eq!(select(&doc, "script").len(), 1, "only the page's own script");
    assert!(select(&doc, "script")[0].value().attr("src").is_none());
    let evil = select(&doc, "#phase-5 details.logs pre");
    assert_eq!(
        text(&evil[0]),
        "<script>alert('pwned')</script> & \"quotes\" ]]> |pipe|\n::error::pwned\n"
    );
    assert!(!html.contains("<script>alert"), "escaped in the source too");
}

#[test]
fn names_and_errors_are_escaped_everywhere() {
    let mut timeline = sample();
    timeline.pipeline = "<b>pipe</b>".into();
    timeline.phases[2].error = Some("<img src=x onerror=alert(1)>".into());
    timeline.phases[0].name = "\"><script>x</script>".into();
    timeline.phases[0].description = "<i>d</i>".into();
    let html = render(&timeline, &Excerpts::new());
    let doc = Html::parse_document(&html);
    assert!(select(&doc, "img").is_empty(), "{html}");
    assert!(select(&doc, "b, i").is_empty());
    assert_eq!(select(&doc, "script").len(), 1);
    assert_eq!(text(&select(&doc, "#phase-2 p.error")[0]), "<img src=x onerror=alert(1)>");
    assert_eq!(
        select(&doc, "details.phase")[0].value().attr("data-name"),
        Some("\"><script>x</script>")
    );
}

#[test]
fn ticks_are_round() {
    assert!((tick_step(2.0) - 0.25).abs() < 1e-9);
    assert!((tick_step(95.0) - 10.0).abs() < 1e-9);
    assert!((tick_step(7200.0) - 1800.0).abs() < 1e-9);
    assert!((tick_step(100_000.0) - 10_800.0).abs() < 1e-9);
    assert_eq!(tick_label(15.0, 5.0), "15s");
    assert_eq!(tick_label(0.5, 0.25), "0.50s");
    assert_eq!(tick_label(120.0, 60.0), "2m 00s");
    assert_eq!(when("2026-12-01T16:07:27.171913898Z"), "2026-12-01 16:07:27 UTC");
    assert_eq!(when("yesterday"), "yesterday");
    assert_eq!(label("short"), "short");
    assert_eq!(label(&"x".repeat(40)).chars().count(), LABEL_CHARS);
}
