//! Terminal progress: indicatif bars (filled in below).
