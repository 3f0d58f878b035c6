//! Durations in Milo.toml: humantime strings (`"90s"`, `"1h 30m"`) or plain seconds.

use std::time::Duration;

/// Parses a humantime duration such as `"10m"` or `"1h 30m"`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(milo::config::parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
/// assert!(milo::config::parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the duration is empty".to_owned());
    }
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// Seconds as a number (`1.5`) into a duration; negative, NaN and huge values are errors.
pub fn from_seconds(seconds: f64) -> Result<Duration, String> {
    if seconds.is_nan() || seconds < 0.0 {
        return Err("expected a number of seconds >= 0".to_owned());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| "the duration is too long".to_owned())
}

/// A duration as humantime writes it (`"1m 30s"`, `"250ms"`), for messages.
pub fn format_duration(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humantime_forms() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 10m "), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn bad_durations() {
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(from_seconds(-1.0).is_err());
        assert!(from_seconds(f64::NAN).is_err());
        assert!(from_seconds(1e300).is_err());
        assert_eq!(from_seconds(1.5), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn formats_like_humantime() {
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m 30s");
    }
}
