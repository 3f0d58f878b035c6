//! `cargo-milo`: run as `cargo milo <COMMAND>` or `cargo-milo <COMMAND>`.

fn main() -> std::process::ExitCode {
    milo::cli::run(std::env::args_os())
}
