//! Plain output, for CI logs and pipes (no terminal): the output modes, the CI flavours, and
//! how a block of a phase's output is framed in each flavour — GitHub workflow commands,
//! GitLab collapsible sections — as pure text. The reporter that prints them lives in
//! `report::plain`.

pub mod github;
pub mod gitlab;
pub mod prefix;
pub mod printer;
pub mod ticks;

/// How phase output is shown without progress bars (`--output`, `[pipeline] output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputMode {
    /// Each line as it arrives, as `name │ line` (the default off a terminal).
    Prefixed,
    /// Each phase's output as one block when it ends, never mixed (the default in CI).
    Grouped,
    /// Only the output of phases that failed, as blocks.
    Errors,
}

impl OutputMode {
    /// Every mode, in the order help lists them.
    pub const ALL: [Self; 3] = [Self::Prefixed, Self::Grouped, Self::Errors];

    /// The name in Milo.toml and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Prefixed => "prefixed",
            Self::Grouped => "grouped",
            Self::Errors => "errors",
        }
    }

    /// The mode named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether a phase's output is printed as it arrives (else as a block when it ends).
    pub fn is_live(self) -> bool {
        self == Self::Prefixed
    }

    /// Whether the output of a phase that ended this way is printed as a block.
    pub fn shows_block(self, failed: bool) -> bool {
        match self {
            Self::Prefixed => false,
            Self::Grouped => true,
            Self::Errors => failed,
        }
    }
}

/// The CI service whose log the output goes to (`--ci`, else detected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Flavour {
    /// Any log or pipe: plain lines only.
    #[default]
    None,
    /// GitHub Actions: `::group::`, `::error` annotations, the step summary.
    Github,
    /// GitLab CI: collapsible sections.
    Gitlab,
}

impl Flavour {
    /// The flavour of the CI service these environment variables describe:
    /// `GITHUB_ACTIONS=true` or `GITLAB_CI=true` (`var` looks a variable up).
    ///
    /// ```
    /// use milo::ci::Flavour;
    /// let env = |k: &str| (k == "GITHUB_ACTIONS").then(|| "true".to_owned());
    /// assert_eq!(Flavour::detect(env), Flavour::Github);
    /// assert_eq!(Flavour::detect(|_| None), Flavour::None);
    /// ```
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |key: &str| var(key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if set("GITHUB_ACTIONS") {
            Self::Github
        } else if set("GITLAB_CI") {
            Self::Gitlab
        } else {
            Self::None
        }
    }

    /// The output mode when none is asked for: blocks in CI (they fold into the service's
    /// groups), live prefixed lines elsewhere.
    pub fn default_mode(self) -> OutputMode {
        match self {
            Self::None => OutputMode::Prefixed,
            Self::Github | Self::Gitlab => OutputMode::Grouped,
        }
    }
}

/// How blocks of phase output and echoed captured lines are framed in a flavour's log.
///
/// On GitHub, captured output is fenced by `::stop-commands::TOKEN` … `::TOKEN::`: the
/// runner ignores workflow commands in between, so a phase printing `::add-mask::x` or
/// `::error::pwned` cannot act on the workflow. `token` must be unguessable (random per run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    flavour: Flavour,
    token: String,
}

impl Framing {
    /// The framing of `flavour`, fencing with `token` on GitHub.
    pub fn new(flavour: Flavour, token: impl Into<String>) -> Self {
        Self { flavour, token: token.into() }
    }

    /// The flavour.
    pub fn flavour(&self) -> Flavour {
        self.flavour
    }

    /// Opens the block of a phase, titled `title` (its result line, e.g. `✓ build 3.21s`).
    /// A `folded` block collapses into a group or section; an unfolded one (a failure) is
    /// printed open. `id` names it (GitLab: a section id, sanitised), `unix` is when the phase
    /// started (GitLab shows the section's duration from it). Captured output may follow:
    /// the fence is open.
    pub fn open_block(&self, out: &mut String, id: &str, title: &str, folded: bool, unix: u64) {
        match self.flavour {
            Flavour::Github if folded => github::group(out, title),
            Flavour::None | Flavour::Github => line(out, title),
            Flavour::Gitlab => gitlab::section_start(out, id, title, folded, unix),
        }
        self.open_fence(out);
    }

    /// Closes what [`open_block`](Self::open_block) opened; `unix` is when the phase ended.
    pub fn close_block(&self, out: &mut String, id: &str, folded: bool, unix: u64) {
        self.close_fence(out);
        match self.flavour {
            Flavour::None => {}
            Flavour::Github => {
                if folded {
                    github::endgroup(out);
                }
            }
            Flavour::Gitlab => gitlab::section_end(out, id, unix),
        }
    }

    /// Starts echoing captured output at the start of lines (GitHub: stop commands).
    pub fn open_fence(&self, out: &mut String) {
        if self.flavour == Flavour::Github {
            github::stop_commands(out, &self.token);
        }
    }

    /// Ends what [`open_fence`](Self::open_fence) started.
    pub fn close_fence(&self, out: &mut String) {
        if self.flavour == Flavour::Github {
            github::resume_commands(out, &self.token);
        }
    }
}

/// Appends `text` and a newline.
fn line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn flavours_are_detected_from_the_services_variables() {
        assert_eq!(Flavour::detect(vars(&[("GITHUB_ACTIONS", "true")])), Flavour::Github);
        assert_eq!(Flavour::detect(vars(&[("GITLAB_CI", "true")])), Flavour::Gitlab);
        assert_eq!(Flavour::detect(vars(&[("GITLAB_CI", "TRUE")])), Flavour::Gitlab);
        assert_eq!(Flavour::detect(vars(&[("GITHUB_ACTIONS", "false")])), Flavour::None);
        assert_eq!(Flavour::detect(vars(&[("CI", "true")])), Flavour::None);
        assert_eq!(
            Flavour::detect(vars(&[("GITLAB_CI", "true"), ("GITHUB_ACTIONS", "true")])),
            Flavour::Github
        );
    }

    #[test]
    fn ci_defaults_to_blocks_and_pipes_to_live_lines() {
        assert_eq!(Flavour::None.default_mode(), OutputMode::Prefixed);
        assert_eq!(Flavour::Github.default_mode(), OutputMode::Grouped);
        assert_eq!(Flavour::Gitlab.default_mode(), OutputMode::Grouped);
        for mode in OutputMode::ALL {
            assert_eq!(OutputMode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(OutputMode::from_name("group"), None);
        assert!(OutputMode::Errors.shows_block(true) && !OutputMode::Errors.shows_block(false));
        assert!(OutputMode::Grouped.shows_block(false) && !OutputMode::Prefixed.shows_block(true));
    }

    fn block(flavour: Flavour, folded: bool) -> String {
        let framing = Framing::new(flavour, "T0K");
        let mut out = String::new();
        framing.open_block(&mut out, "build", "✓ build 1.00s", folded, 100);
        out.push_str("::error::pwned\n");
        framing.close_block(&mut out, "build", folded, 160);
        out
    }

    #[test]
    fn a_github_block_is_a_group_whose_output_is_fenced() {
        assert_eq!(
            block(Flavour::Github, true),
            "::group::✓ build 1.00s\n::stop-commands::T0K\n::error::pwned\n::T0K::\n::endgroup::\n"
        );
        assert_eq!(
            block(Flavour::Github, false),
            "✓ build 1.00s\n::stop-commands::T0K\n::error::pwned\n::T0K::\n",
            "a failure is printed open"
        );
    }

    #[test]
    fn a_gitlab_block_is_a_section_collapsed_unless_it_failed() {
        assert_eq!(
            block(Flavour::Gitlab, true),
            "\x1b[0Ksection_start:100:build[collapsed=true]\r\x1b[0K✓ build 1.00s\n\
             ::error::pwned\n\x1b[0Ksection_end:160:build\r\x1b[0K\n"
        );
        assert!(block(Flavour::Gitlab, false).starts_with("\x1b[0Ksection_start:100:build\r"));
    }

    #[test]
    fn without_a_flavour_a_block_is_its_title_and_its_lines() {
        assert_eq!(block(Flavour::None, true), "✓ build 1.00s\n::error::pwned\n");
        assert_eq!(block(Flavour::None, false), block(Flavour::None, true));
    }
}
