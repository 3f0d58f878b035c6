//! `cargo milo mcp` fed raw bytes: every bad input gets a JSON-RPC error (never a panic),
//! and closing stdin ends the server with exit 0 and no phase left running.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::run_support::{gone, sleep_until_killed};
use crate::support::{HANG_LIMIT, Test};

/// `cargo-milo mcp` with piped stdio, and its answers read line by line on a thread.
struct Raw {
    child: Child,
    answers: mpsc::Receiver<Value>,
}

impl Raw {
    fn start(test: &Test, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-milo"))
            .arg("mcp")
            .args(args)
            .current_dir(test.root())
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cargo-milo mcp");
        let stdout: ChildStdout = child.stdout.take().expect("stdout");
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.expect("stdout is text");
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout holds only JSON lines: {e}: {line}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Self { child, answers }
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.child.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).and_then(|()| stdin.flush()).expect("write to the server");
    }

    fn request(&mut self, id: u64, method: &str, params: &Value) {
        let line = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.send(format!("{line}\n").as_bytes());
    }

    fn next(&self) -> Value {
        self.answers.recv_timeout(HANG_LIMIT).expect("an answer came")
    }

    fn initialize(&mut self, version: &str) -> Value {
        let params = json!({
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": { "name": "raw", "version": "1" },
        });
        self.request(0, "initialize", &params);
        let answer = self.next();
        self.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
        answer
    }

    /// Closes stdin and waits for the exit code; returns it with stderr.
    fn close(mut self) -> (Option<i32>, String) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + HANG_LIMIT;
        while self.child.try_wait().expect("wait").is_none() {
            assert!(Instant::now() < deadline, "the server did not exit after stdin closed");
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = self.child.wait_with_output().expect("output");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn bad_input_gets_json_rpc_errors_and_never_a_panic() {
    let test = Test::new().milo_toml("[[pipeline.phase]]\nname = \"build\"\ncmd = \"true\"\n");
    let mut raw = Raw::start(&test, &[]);
    // Not JSON, before anything else: a parse error with no id, and the server goes on.
    raw.send(b"{ this is not json\n");
    let answer = raw.next();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    assert!(answer.get("id").is_none(), "{answer}");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.contains("not JSON")));
    // Clients of 2024 still connect.
    let init = raw.initialize("2024-11-05");
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05", "{init}");

    raw.request(1, "resources/read", &json!({ "uri": "milo://pipeline/nothing" }));
    raw.request(2, "resources/read", &json!({}));
    raw.request(3, "tools/call", &json!({ "name": "deploy" }));
    raw.request(4, "tools/call", &json!({ "name": "phase_log", "arguments": { "lines": 3 } }));
    raw.request(5, "tools/call", &json!({ "name": "phase_log", "arguments": { "name": "../x" } }));
    raw.request(6, "tools/call", &json!({ "name": "run" }));
    raw.request(7, "no/such/method", &json!({}));
    raw.request(8, "resources/subscribe", &json!({ "uri": "file:///etc/passwd" }));
    raw.send(b"[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}]\n");
    raw.send(b"{\"jsonrpc\":\"1.0\",\"id\":10,\"method\":\"ping\"}\n");
    raw.send(b"\xff\xfe not even UTF-8\n");
    raw.request(11, "ping", &json!({}));
    let mut by_id: HashMap<String, Value> = HashMap::new();
    let mut without_id = Vec::new();
    let ids = ["1", "2", "3", "4", "5", "6", "7", "8", "10", "11"];
    while !ids.iter().all(|id| by_id.contains_key(*id)) || without_id.len() < 2 {
        let answer = raw.next();
        if let Some(id) = answer.get("id") {
            by_id.insert(id.to_string(), answer);
        } else {
            without_id.push(answer);
        }
    }
    let error = |id: &str| -> (i64, String) {
        let e = &by_id.get(id).unwrap_or_else(|| panic!("no answer to {id}: {by_id:#?}"))["error"];
        (e["code"].as_i64().expect("a code"), e["message"].as_str().expect("a message").into())
    };
    let expect = |id: &str, code: i64, words: &str| {
        let (got, message) = error(id);
        assert_eq!(got, code, "{id}: {message}");
        assert!(message.contains(words), "{id}: {message}");
    };
    expect("1", -32002, "no resource `milo://pipeline/nothing`");
    expect("2", -32602, "missing field `uri`");
    expect("3", -32602, "unknown tool `deploy`");
    expect("4", -32602, "missing field `name`");
    expect("5", -32602, "not a phase name");
    expect("6", -32602, "--allow-run");
    expect("7", -32601, "unknown method `no/such/method`");
    expect("8", -32002, "no resource `file:///etc/passwd`");
    expect("10", -32600, "\"2.0\"");
    assert_eq!(by_id["11"]["result"], json!({}), "the server still answers");
    let mut codes: Vec<i64> =
        without_id.iter().map(|a| a["error"]["code"].as_i64().expect("a code")).collect();
    codes.sort_unstable();
    assert_eq!(codes, [-32700, -32600], "the bytes and the batch: {without_id:#?}");

    let (code, stderr) = raw.close();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Starts a run through the `run` tool, waits for its phase to start, ends the server with
/// `end`, and checks the exit code, that the phase is gone, and the timeline says cancelled.
fn run_then(end: impl FnOnce(Raw) -> (Option<i32>, String), expected: i32) {
    let sleep = sleep_until_killed();
    let test = Test::new().milo_toml(&format!(
        "[pipeline]\nname = \"long\"\n\
         [[pipeline.phase]]\nname = \"sleepy\"\ncmd = \"touch started; {sleep}\"\n"
    ));
    let root = test.root();
    let mut raw = Raw::start(&test, &["--allow-run"]);
    raw.initialize("2025-06-18");
    raw.request(1, "tools/call", &json!({ "name": "run", "arguments": {} }));
    let answer = raw.next();
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let deadline = Instant::now() + HANG_LIMIT;
    while !root.join("started").exists() {
        assert!(Instant::now() < deadline, "the phase never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, stderr) = end(raw);
    assert_eq!(code, Some(expected), "{stderr}");
    assert!(gone(&sleep), "the phase's process outlived the server");
    let timeline = std::fs::read_to_string(root.join("target/milo/timeline.json"))
        .expect("the run's timeline");
    let timeline: Value = serde_json::from_str(&timeline).expect("JSON");
    assert_eq!(timeline["status"], "cancelled");
    assert_eq!(timeline["phases"][0]["status"], "cancelled");
}

#[test]
fn closing_stdin_cancels_the_run_and_exits_0() {
    run_then(Raw::close, 0);
}

#[test]
fn sigterm_cancels_the_run_and_exits_130() {
    run_then(
        |raw| {
            let pid = raw.child.id().to_string();
            Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
            raw.close()
        },
        130,
    );
}

#[test]
fn a_broken_milo_toml_is_reported_to_the_agent() {
    let test = Test::new()
        .milo_toml("[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\ndepends_on = [\"b\"]\n");
    let mut raw = Raw::start(&test, &[]);
    raw.initialize("2025-11-25");
    raw.request(1, "tools/call", &json!({ "name": "check" }));
    let answer = raw.next();
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let shown = answer["result"]["content"][0]["text"].as_str().expect("text");
    assert!(shown.contains("Milo.toml:4:"), "located: {shown}");
    raw.request(2, "resources/read", &json!({ "uri": "milo://pipeline/config" }));
    let answer = raw.next();
    let message = answer["error"]["message"].as_str().expect("an error");
    assert!(message.contains("Milo.toml:4:"), "{message}");
    let (code, stderr) = raw.close();
    assert_eq!(code, Some(0), "{stderr}");
}
