//! Colour on stderr: `--color` first, then `CARGO_TERM_COLOR`, then anstream's detection
//! (`NO_COLOR`, `CLICOLOR_FORCE`, `TERM=dumb`, whether stderr is a terminal).
//!
//! Messages are drawn with anstyle styles (see [`Error::render`](crate::Error::render));
//! this module only decides whether they keep them.

use std::io::Stderr;

use anstream::AutoStream;

use super::ColorChoice;

/// What the flag, else `CARGO_TERM_COLOR`, asks for; `Auto` leaves it to anstream.
fn requested(choice: Option<ColorChoice>, cargo_term_color: Option<&str>) -> anstream::ColorChoice {
    let choice = choice.or_else(|| match cargo_term_color? {
        "always" => Some(ColorChoice::Always),
        "never" => Some(ColorChoice::Never),
        _ => None,
    });
    match choice {
        Some(ColorChoice::Always) => anstream::ColorChoice::Always,
        Some(ColorChoice::Never) => anstream::ColorChoice::Never,
        Some(ColorChoice::Auto) | None => anstream::ColorChoice::Auto,
    }
}

/// Standard error as the user asked: styles written to it are kept, or stripped when colour
/// is off.
pub fn stderr(choice: Option<ColorChoice>) -> AutoStream<Stderr> {
    let cargo_term_color = std::env::var("CARGO_TERM_COLOR").ok();
    AutoStream::new(std::io::stderr(), requested(choice, cargo_term_color.as_deref()))
}

/// Whether `stream` keeps styles.
pub fn styled<S: anstream::stream::RawStream>(stream: &AutoStream<S>) -> bool {
    stream.current_choice() != anstream::ColorChoice::Never
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_cargo_term_color() {
        use anstream::ColorChoice as C;
        assert_eq!(requested(Some(ColorChoice::Never), Some("always")), C::Never);
        assert_eq!(requested(Some(ColorChoice::Always), Some("never")), C::Always);
        assert_eq!(requested(Some(ColorChoice::Auto), Some("always")), C::Auto);
        assert_eq!(requested(None, Some("always")), C::Always);
        assert_eq!(requested(None, Some("never")), C::Never);
        assert_eq!(requested(None, Some("auto")), C::Auto);
        assert_eq!(requested(None, None), C::Auto);
    }

    #[test]
    fn styled_errors_are_the_plain_ones_with_styles() {
        let text = "[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\nweight = -1\n";
        for err in [
            crate::Pipeline::from_toml_str(text).expect_err("invalid"),
            crate::Error::usage("`x` already exists", "remove it first"),
            crate::Error::io("could not read", "/x", std::io::ErrorKind::NotFound.into()),
        ] {
            let styled = err.render(true);
            assert!(styled.contains("\x1b["), "{styled:?}");
            assert_eq!(anstream::adapter::strip_str(&styled).to_string(), err.render(false));
        }
    }
}
