//! `cargo milo completions SHELL`: a script per shell that knows every command; the bash one
//! is loaded by bash and completes.

use std::process::Command;

use clap::CommandFactory as _;
use milo::cli::Cli;

use crate::support::Test;

/// The script `cargo-milo completions shell` prints.
fn script(shell: &str) -> String {
    let out = Test::new().args(["completions", shell]).run();
    out.success();
    assert_eq!(out.stderr, "", "nothing on stderr");
    out.stdout
}

/// Every subcommand the command line defines (so a new one cannot be forgotten here).
fn commands() -> Vec<String> {
    Cli::command().get_subcommands().map(|c| c.get_name().to_owned()).collect()
}

#[test]
fn every_shell_gets_a_script_naming_each_command() {
    let commands = commands();
    assert!(commands.iter().any(|c| c == "completions"), "{commands:?}");
    for shell in ["bash", "zsh", "fish"] {
        let script = script(shell);
        let words: std::collections::HashSet<&str> =
            script.split(|c: char| !(c.is_alphanumeric() || c == '-')).collect();
        assert!(words.contains("cargo-milo"), "{shell} completes cargo-milo");
        for command in &commands {
            assert!(words.contains(command.as_str()), "{shell} script lacks `{command}`");
        }
    }
    // zsh and fish also show what each command does.
    for shell in ["zsh", "fish"] {
        assert!(script(shell).contains("Validate Milo.toml and print a one-line summary"));
    }
}

/// Runs `bash -c program`, failing loudly when bash is missing.
fn bash(program: &str) -> std::process::Output {
    Command::new("bash").arg("-c").arg(program).output().unwrap_or_else(|e| {
        panic!("this test needs bash ({e}): install it, e.g. `apt-get install bash`")
    })
}

#[test]
fn bash_loads_the_script_and_completes_commands_and_their_flags() {
    let test = Test::new().file("cargo-milo.bash", &script("bash"));
    let file = test.root().join("cargo-milo.bash");
    let syntax = bash(&format!("bash -n '{}'", file.display()));
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));
    // What <TAB> offers after `cargo-milo ch` and after `cargo-milo run --pro`.
    let complete = |words: &str, current: &str, previous: &str| {
        let out = bash(&format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _cargo__milo cargo-milo '{current}' '{previous}'; echo \"${{COMPREPLY[@]}}\"",
            file.display()
        ));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(complete("cargo-milo ch", "ch", "cargo-milo"), "check");
    assert_eq!(complete("cargo-milo run --pro", "--pro", "run"), "--progress");
    assert_eq!(complete("cargo-milo completions z", "z", "completions"), "zsh");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Test::new().args(["completions", "tcsh"]).run();
    out.code(2);
    assert!(out.stderr.contains("invalid value 'tcsh'"), "{}", out.stderr);
    assert!(out.stderr.contains("bash"), "the possible shells are listed: {}", out.stderr);
    assert_eq!(out.stdout, "");
}
