//! The library's server: a program that runs pipelines through the library serves the same
//! timeline from its active pipeline; a build without default features has no rmcp.

use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, mpsc};

use milo::exec::RunOptions;
use milo::mcp::{LineTransport, McpServer};
use milo::{Phase, Pipeline, PipelineStatus};
use rmcp::ServiceExt;
use rmcp::model::{ErrorCode, SubscribeRequestParams};
use serde_json::json;

use crate::support::HANG_LIMIT;
use crate::support::mcp::{Client, phase};

const CHILD: &str = "MILO_MCP_LIBRARY_CHILD";
const NAME: &str = "mcp_library::a_library_run_is_served_from_the_active_pipeline";

#[test]
fn a_library_run_is_served_from_the_active_pipeline() {
    // The active pipeline is one per process, and other tests here run pipelines: the body
    // runs in a process of its own, this test binary filtered to this one test.
    if std::env::var_os(CHILD).is_none() {
        let exe = std::env::current_exe().expect("the test binary");
        let out = Command::new(exe)
            .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("run the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "the body ran: {stdout}");
        return;
    }
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(served_while_it_runs());
}

/// A pipeline whose closure phase holds until released, run on a thread; the server knows
/// nothing of it but what `milo::active_pipeline()` publishes.
async fn served_while_it_runs() {
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let (entered, held) = mpsc::channel();
    let gate_in_phase = Arc::clone(&gate);
    let entered = Mutex::new(entered);
    let pipeline = Pipeline::new("library")
        .phase(Phase::func("hold", move |ctx| {
            writeln!(ctx.stdout(), "holding")?;
            let _ = entered.lock().expect("lock").send(());
            let (open, wake) = &*gate_in_phase;
            let mut open = open.lock().expect("lock");
            while !*open {
                open = wake.wait(open).expect("wait");
            }
            Ok::<_, std::io::Error>(json!(null))
        }))
        .phase(Phase::cmd("after", "echo after").depends_on(["hold"]))
        .build()
        .expect("valid");

    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(server_io);
    tokio::spawn(async move {
        if let Ok(running) = McpServer::active().serve(LineTransport::new(read, write)).await {
            let _ = running.waiting().await;
        }
    });
    let mut client = Client::over(client_io).await;
    let e = client.read("milo://pipeline/timeline").await.expect_err("nothing runs yet");
    assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND);
    #[allow(deprecated)] // resources/subscribe is how clients before 2026-07-28 subscribe
    let subscribed =
        client.service.subscribe(SubscribeRequestParams::new("milo://pipeline/timeline")).await;
    subscribed.expect("subscribe");

    let run = std::thread::spawn(move || pipeline.run(RunOptions::default()));
    tokio::task::spawn_blocking(move || held.recv_timeout(HANG_LIMIT))
        .await
        .expect("join")
        .expect("the phase started");
    let during = client.timeline_when(|t| t["phases"][0]["log_count"] == 1).await;
    assert_eq!(during["pipeline"], "library");
    assert_eq!(during["status"], "running");
    assert_eq!(phase(&during, "hold")["status"], "running");
    assert_eq!(phase(&during, "hold")["logs"][0]["line"], "holding");
    let log = client.read("milo://pipeline/phases/hold/log").await.expect("the log");
    assert_eq!(log, "holding\n", "the lines kept in memory: this run writes no files");
    let e = client.read("milo://pipeline/config").await.expect_err("no pipeline given");
    assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND);

    let (open, wake) = &*gate;
    *open.lock().expect("lock") = true;
    wake.notify_all();
    let state = tokio::task::spawn_blocking(move || run.join()).await.expect("join");
    let state = state.expect("the run thread").expect("the run").state;
    assert_eq!(state.status, PipelineStatus::Completed);
    // Over, with no timeline file to fall back on: nothing to show.
    let e = client.read("milo://pipeline/timeline").await.expect_err("the run is over");
    assert!(e.message.contains("no pipeline is running in this process"), "{}", e.message);
}

#[test]
fn default_features_off_pull_no_rmcp() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tree = |extra: &[&str]| {
        let out = Command::new(&cargo)
            .args(["tree", "-e", "normal", "--prefix", "none", "--locked"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo tree");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let has = |tree: &str, name: &str| tree.lines().any(|l| l.starts_with(&format!("{name} v")));
    let full = tree(&[]);
    assert!(has(&full, "rmcp") && has(&full, "tokio"), "the default build serves MCP:\n{full}");
    let lean = tree(&["--no-default-features"]);
    for name in ["rmcp", "tokio", "clap", "ratatui"] {
        assert!(!has(&lean, name), "`default-features = false` pulls {name}:\n{lean}");
    }
}
