//! Color choice: `--color`, `NO_COLOR`, `CARGO_TERM_COLOR`, and whether stderr is a terminal.

use std::io::IsTerminal;

use super::ColorChoice;

/// Whether to color output written to stderr.
pub fn enabled(choice: Option<ColorChoice>) -> bool {
    let choice = choice.or_else(|| match std::env::var("CARGO_TERM_COLOR").ok()?.as_str() {
        "always" => Some(ColorChoice::Always),
        "never" => Some(ColorChoice::Never),
        _ => None,
    });
    match choice {
        Some(ColorChoice::Always) => true,
        Some(ColorChoice::Never) => false,
        Some(ColorChoice::Auto) | None => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

/// Colors the leading `error:` of a message red and bold when color is on.
pub fn paint_error(text: &str, choice: Option<ColorChoice>) -> String {
    if !enabled(choice) {
        return text.to_owned();
    }
    text.strip_prefix("error:").map_or_else(
        || text.to_owned(),
        |rest| format!("\x1b[1;31merror\x1b[0m\x1b[1m:\x1b[0m{rest}"),
    )
}
