//! `cargo milo mcp` driven by a real MCP client (rmcp's) over stdio: what it lists, the
//! timeline before, during and after a run of another process, notifications, tools.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use rmcp::model::{ErrorCode, ServerNotification, SubscribeRequestParams, SubscriptionFilter};
use serde_json::{Value, json};

use crate::run_support::wait_for;
use crate::support::Test;
use crate::support::mcp::{HANG_LIMIT, Lifecycle, connect, phase, text};

/// A pipeline whose first phase holds until the test creates `go`: "during" is certain.
fn held_pipeline() -> String {
    format!(
        "[pipeline]\nname = \"agent\"\n\
         [[pipeline.phase]]\nname = \"hold\"\ncmd = \"echo waiting; {}; echo released\"\n\
         [[pipeline.phase]]\nname = \"after\"\ncmd = \"echo done\"\ndepends_on = [\"hold\"]\n",
        wait_for("go")
    )
}

/// `cargo milo run` in `root`: another process than the server's.
fn run_elsewhere(root: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cargo-milo"))
        .arg("run")
        .current_dir(root)
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cargo-milo run")
}

fn status(timeline: &Value) -> &str {
    timeline["status"].as_str().expect("a status")
}

fn phase_status<'a>(timeline: &'a Value, name: &str) -> &'a str {
    phase(timeline, name)["status"].as_str().expect("a status")
}

#[tokio::test(flavor = "current_thread")]
async fn lists_what_it_serves_and_is_read_only_by_default() {
    let test = Test::new().milo_toml(&held_pipeline());
    let client = connect(&test.root(), &[], Lifecycle::Initialize).await;
    // rmcp's client asks for the newest version that still has `initialize`.
    assert_eq!(client.protocol_version(), "2025-11-25");
    let info = client.service.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("cargo-milo"));
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains("Read-only") && instructions.contains("--allow-run"));

    let resources = client.service.list_all_resources().await.expect("resources");
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["milo://pipeline/timeline", "milo://pipeline/config"]);
    assert!(resources.iter().all(|r| r.mime_type.as_deref() == Some("application/json")));
    let templates = client.service.list_all_resource_templates().await.expect("templates");
    let templates: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(templates, ["milo://pipeline/phases/{name}/log"]);

    let tools = client.service.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| &*t.name).collect();
    assert_eq!(names, ["check", "order", "phase_log"]);
    for tool in &tools {
        let hints = tool.annotations.as_ref().expect("annotations");
        assert_eq!(hints.read_only_hint, Some(true), "{}", tool.name);
        assert!(tool.description.as_deref().unwrap_or_default().contains("Read-only"));
    }
    for tool in ["run", "cancel"] {
        let e = client.call(tool, json!({})).await.expect_err("not available");
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("cargo milo mcp --allow-run"), "{}", e.message);
    }

    let check = client.call("check", json!({})).await.expect("check");
    assert_eq!(check.is_error, Some(false));
    assert!(text(&check).ends_with("Milo.toml: 2 phases, 1 dependency, ok"), "{}", text(&check));
    let order = client.call("order", json!({})).await.expect("order");
    assert_eq!(text(&order), "hold\nafter\n");
    let config: Value =
        serde_json::from_str(&client.read("milo://pipeline/config").await.expect("config"))
            .expect("JSON");
    assert_eq!(config["pipeline"], "agent");
    assert_eq!(config["execution_order"], json!(["hold", "after"]));
    assert_eq!(phase(&config, "after")["depends_on"], json!(["hold"]));
    assert_eq!(phase(&config, "after")["command"], "echo done");
}

#[tokio::test(flavor = "current_thread")]
async fn follows_a_run_of_another_process_before_during_and_after() {
    let test = Test::new().milo_toml(&held_pipeline());
    let root = test.root();
    let mut client = connect(&root, &[], Lifecycle::Initialize).await;

    // Before: nothing recorded yet, so every phase is pending.
    let before = client.timeline().await;
    assert_eq!(status(&before), "pending");
    assert_eq!(phase_status(&before, "hold"), "pending");
    #[allow(deprecated)] // resources/subscribe is how clients before 2026-07-28 subscribe
    let subscribed =
        client.service.subscribe(SubscribeRequestParams::new("milo://pipeline/timeline")).await;
    subscribed.expect("subscribe");

    let mut run = run_elsewhere(&root);

    // During: `hold` waits for `go`, which does not exist yet.
    let during = client
        .timeline_when(|t| {
            t["phases"][0]["status"] == "running" && t["phases"][0]["log_count"] != 0
        })
        .await;
    assert_eq!(status(&during), "running");
    assert_eq!(phase(&during, "hold")["logs"][0]["line"], "waiting");
    assert_eq!(phase_status(&during, "after"), "pending");
    let log = client.read("milo://pipeline/phases/hold/log").await.expect("the log");
    assert!(log.contains("waiting\n"), "{log}");
    let tail = client.call("phase_log", json!({ "name": "hold", "lines": 1 })).await;
    assert_eq!(text(&tail.expect("phase_log")), "waiting\n");

    // After: released, the run ends and the file says so.
    std::fs::write(root.join("go"), "").expect("create the marker");
    let after = client.timeline_when(|t| t["status"] != "running").await;
    assert_eq!(status(&after), "completed");
    assert_eq!(phase_status(&after, "after"), "completed");
    assert_eq!(run.wait().expect("wait for cargo-milo run").code(), Some(0));
    let log = client.read("milo://pipeline/phases/after/log").await.expect("the log");
    assert!(log.ends_with("done\n"), "{log}");

    let e = client.read("milo://pipeline/phases/nope/log").await.expect_err("unknown phase");
    assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND);
    assert!(e.message.contains("hold, after"), "{}", e.message);
    let e = client.read("milo://pipeline/elsewhere").await.expect_err("unknown URI");
    assert_eq!(e.code, ErrorCode::RESOURCE_NOT_FOUND);
    assert!(e.message.contains("milo://pipeline/elsewhere"), "{}", e.message);
}

#[tokio::test(flavor = "current_thread")]
async fn a_2026_client_listens_for_updates() {
    let test = Test::new().milo_toml(&held_pipeline());
    let root = test.root();
    let client = connect(&root, &[], Lifecycle::Discover).await;
    assert_eq!(client.protocol_version(), "2026-07-28");
    let filter = SubscriptionFilter::builder()
        .resource_subscription("milo://pipeline/timeline")
        .resource_subscription("milo://elsewhere")
        .build();
    let mut subscription = client.service.listen(filter).await.expect("listen");
    assert_eq!(
        subscription.acknowledged().resource_subscriptions,
        Some(vec!["milo://pipeline/timeline".to_owned()])
    );
    let mut run = run_elsewhere(&root);
    let heard = tokio::time::timeout(HANG_LIMIT, subscription.next())
        .await
        .expect("an update came")
        .expect("the subscription is open");
    match heard {
        Some(ServerNotification::ResourceUpdatedNotification(n)) => {
            assert_eq!(n.params.uri, "milo://pipeline/timeline");
        }
        other => panic!("expected resources/updated, got {other:?}"),
    }
    std::fs::write(root.join("go"), "").expect("create the marker");
    assert_eq!(run.wait().expect("wait for cargo-milo run").code(), Some(0));
    let timeline: Value = serde_json::from_str(
        &client.read("milo://pipeline/timeline").await.expect("read the timeline"),
    )
    .expect("JSON");
    assert_eq!(status(&timeline), "completed");
}

#[tokio::test(flavor = "current_thread")]
async fn runs_and_cancels_with_allow_run() {
    let test = Test::new().milo_toml(&held_pipeline());
    let root = test.root();
    let mut client = connect(&root, &["--allow-run"], Lifecycle::Initialize).await;
    let tools = client.service.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| &*t.name).collect();
    assert_eq!(names, ["check", "order", "phase_log", "run", "cancel"]);
    let run_tool = tools.iter().find(|t| t.name == "run").expect("run");
    assert_eq!(run_tool.annotations.as_ref().and_then(|a| a.read_only_hint), Some(false));
    #[allow(deprecated)] // resources/subscribe is how clients before 2026-07-28 subscribe
    let subscribed =
        client.service.subscribe(SubscribeRequestParams::new("milo://pipeline/timeline")).await;
    subscribed.expect("subscribe");

    let e = client.call("run", json!({ "targets": ["aftr"] })).await.expect_err("unknown target");
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(e.message.contains("did you mean `after`"), "{}", e.message);
    let e = client.call("run", json!({ "jobs": "two" })).await.expect_err("bad jobs");
    assert!(e.message.contains("bad arguments for `run`"), "{}", e.message);

    // A run returns at once with what it started.
    let started = client.call("run", json!({ "targets": ["after"], "jobs": 1 })).await;
    let started: Value = serde_json::from_str(&text(&started.expect("run"))).expect("JSON");
    assert_eq!(started["started"], "agent");
    assert_eq!(started["phases"], json!(["hold", "after"]));
    let second = client.call("run", json!({})).await.expect("a tool result");
    assert_eq!(second.is_error, Some(true));
    assert!(text(&second).contains("a run of pipeline `agent` is already in progress"));
    client.timeline_when(|t| t["phases"][0]["status"] == "running").await;

    let cancelled = client.call("cancel", json!({})).await.expect("cancel");
    assert_eq!(cancelled.is_error, Some(false), "{}", text(&cancelled));
    let after = client.timeline_when(|t| t["status"] == "cancelled").await;
    assert_eq!(phase_status(&after, "hold"), "cancelled");
    let again = client.call("cancel", json!({})).await.expect("a tool result");
    assert_eq!(again.is_error, Some(true));
    assert!(text(&again).contains("ended cancelled"), "{}", text(&again));

    // Released this time, it runs to the end.
    std::fs::write(root.join("go"), "").expect("create the marker");
    client.call("run", json!({})).await.expect("run again");
    let done = client.timeline_when(|t| t["status"] == "completed").await;
    assert_eq!(phase_status(&done, "after"), "completed");
    let log = client.call("phase_log", json!({ "name": "hold" })).await.expect("phase_log");
    assert!(text(&log).ends_with("waiting\nreleased\n"), "{}", text(&log));
}
