//! Live capture: streams, the ring and the full log, live timeline, mixing, odd bytes,
//! grandchildren holding the pipe.

use crate::run_support::{gone, lines, logs, phase, run, sleep_until_killed, timeline, wait_until};
use crate::support::{Test, wait_for_file};

#[test]
fn stdout_and_stderr_are_tagged() {
    let out = run("[[pipeline.phase]]\nname = \"p\"\ncmd = \"echo out; echo err >&2\"\n", &[]);
    out.success();
    let mut got = logs(&timeline(&out), "p");
    got.sort();
    assert_eq!(got, [("err".into(), "stderr".into()), ("out".into(), "stdout".into())]);
}

#[test]
fn ring_keeps_the_tail_and_the_log_file_keeps_everything() {
    let out = run("[[pipeline.phase]]\nname = \"many\"\ncmd = \"seq 1 5000\"\nmax_logs = 3\n", &[]);
    out.success();
    let tl = timeline(&out);
    let p = phase(&tl, "many");
    assert_eq!(lines(&tl, "many"), ["4998", "4999", "5000"]);
    assert_eq!((p["log_count"].as_u64(), p["lines_total"].as_u64()), (Some(3), Some(5000)));
    assert_eq!(p["log_file"], "logs/many.log");
    let log = out.read("logs/many.log");
    let body: Vec<&str> = log.lines().skip(1).collect();
    let want: Vec<String> = (1..=5000).map(|i| i.to_string()).collect();
    assert_eq!(body, want);
}

#[test]
fn lines_are_in_the_timeline_while_the_phase_runs() {
    // The phase only ends once its own first line shows up in the timeline file.
    let wait = wait_until("grep -q marker-line-42 tl.json");
    let toml =
        format!("[[pipeline.phase]]\nname = \"live\"\ncmd = \"echo marker-line-42; {wait}\"\n");
    let out = run(&toml, &[]);
    out.success();
}

#[test]
fn parallel_logs_never_mix() {
    let out = run(
        r#"
[pipeline]
jobs = 2
[[pipeline.phase]]
name = "left"
cmd = "for i in $(seq 1 2000); do echo left-$i; done"
parallel = true
max_logs = 5000
[[pipeline.phase]]
name = "right"
cmd = "for i in $(seq 1 2000); do echo right-$i; done"
parallel = true
max_logs = 5000
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    for side in ["left", "right"] {
        let want: Vec<String> = (1..=2000).map(|i| format!("{side}-{i}")).collect();
        assert_eq!(lines(&tl, side), want);
        let log = out.read(format!("logs/{side}.log"));
        assert_eq!(log.lines().skip(1).collect::<Vec<_>>(), want);
    }
}

#[test]
fn invalid_utf8_and_carriage_returns() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "odd"
cmd = "printf 'a\\377b\\n10%%\\r50%%\\r100%%\\r\\ndone'"
"#,
        &[],
    );
    out.success();
    assert_eq!(lines(&timeline(&out), "odd"), ["a\u{fffd}b", "10%", "50%", "100%", "done"]);
}

#[test]
fn a_long_line_is_split_at_64_kib() {
    let out = run(
        "[[pipeline.phase]]\nname = \"long\"\ncmd = \"head -c 150000 /dev/zero | tr '\\\\0' x\"\n",
        &[],
    );
    out.success();
    let lens: Vec<usize> = lines(&timeline(&out), "long").iter().map(String::len).collect();
    assert_eq!(lens, [65536, 65536, 150_000 - 2 * 65536]);
}

#[test]
fn a_grandchild_holding_the_pipe_does_not_hang_the_run() {
    // The grandchild outlives the hang limit: a run that waited for the pipe would fail.
    let sleep = sleep_until_killed();
    let out =
        run(&format!("[[pipeline.phase]]\nname = \"bg\"\ncmd = \"{sleep} & echo started\"\n"), &[]);
    out.success();
    assert_eq!(lines(&timeline(&out), "bg"), ["started"]);
    assert!(gone(&sleep), "no sleep left behind");
}

#[test]
fn no_capture_passes_output_through() {
    let out = Test::new()
        .milo_toml("[[pipeline.phase]]\nname = \"p\"\ncmd = \"echo straight-through\"\n")
        .args(["run", "--no-capture", "--timeline", "tl.json"])
        .run();
    out.success();
    assert!(out.stdout.contains("straight-through"), "{}", out.stdout);
    assert_eq!(phase(&timeline(&out), "p")["lines_total"], 0);
}

#[test]
fn grouped_output_prints_each_phase_output_in_one_block() {
    let toml = "[[pipeline.phase]]\nname = \"p\"\ncmd = \"echo one; echo two\"\n";
    let out = run(toml, &["--output", "grouped"]);
    out.success();
    assert!(out.stdout.contains("one\ntwo\n"), "{}", out.stdout);
}

#[test]
fn a_stdout_nobody_reads_does_not_stall_the_run() {
    // `big` prints far more than a pipe holds, and grouped output copies it to stdout when
    // `big` ends; nobody reads stdout until `after` has run. Copied on the executor's
    // thread, the copy would block the run there and `after` would never start. (Prefixed
    // lines, printed as they come, hold a phase up once a few batches of them wait.)
    let test = Test::new().milo_toml(
        "[[pipeline.phase]]\nname = \"big\"\ncmd = \"seq 1 100000\"\n\
         [[pipeline.phase]]\nname = \"after\"\ncmd = \"touch after-ran\"\ndepends_on = [\"big\"]\n",
    );
    let root = test.root();
    let running = test.args(["run", "--timeline", "tl.json", "--output", "grouped"]).spawn();
    wait_for_file(&root.join("after-ran"));
    let out = running.finish();
    out.success();
    // The copy is whole: every line the phase printed, in order.
    let echoed: Vec<&str> = out.stdout.lines().filter(|l| l.parse::<u32>().is_ok()).collect();
    let want: Vec<String> = (1..=100_000).map(|i| i.to_string()).collect();
    assert_eq!(echoed, want);
}

#[test]
fn a_phase_that_closes_its_output_early_still_ends_with_its_exit() {
    let out = run(
        "[[pipeline.phase]]\nname = \"quiet\"\ncmd = \"echo bye; exec >&- 2>&-; sleep 0.3; exit 4\"\n",
        &[],
    );
    out.code(1);
    let tl = timeline(&out);
    assert_eq!(phase(&tl, "quiet")["error"], "exit code 4");
    assert_eq!(lines(&tl, "quiet"), ["bye"]);
}
