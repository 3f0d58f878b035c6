//! Fingerprints: what a phase with `inputs` was when it last succeeded, and what it is now.
//!
//! A phase's fingerprint is a BLAKE3 hash of its input files (paths sorted, contents — not
//! modification times), its command, `cwd`, declared environment and `env_inputs` values,
//! and its dependencies' results. Each part is kept apart too ([`Record`]), so that a check
//! can name the first difference (`src/a.proto changed`). Environment values are only ever
//! kept hashed: the fingerprints file holds no secret.
//!
//! Everything here is pure: walking folders and reading files is the `uptodate` module's job;
//! it fills an [`Observation`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::phase::Handler;

/// The version of the fingerprints file this crate writes; another version is ignored
/// (everything runs once and is recorded again).
pub const FORMAT_VERSION: u32 = 1;

/// A BLAKE3 digest, written as 64 hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// The digest of a JSON value, written canonically (object keys sorted), so equal
    /// values have equal digests however their keys were ordered.
    pub fn of_json(value: &serde_json::Value) -> Self {
        let mut text = String::new();
        canonical(value, &mut text);
        Self::of(text.as_bytes())
    }

    /// The digest of a phase's result ([`Digest::of_json`]) with the pipeline's folder `root`
    /// made [`portable`]: a result naming a file of the checkout
    /// (`binary=/ci/1/app/target/release/app`) is the same result in another folder.
    pub fn of_result(result: &serde_json::Value, root: &str) -> Self {
        Self::of_json(&portable_result(result, root))
    }

    /// The digest as 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", &self.to_hex()[..12])
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::from_hex(&text).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// JSON text with object keys sorted, whatever order the map keeps them in.
fn canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What [`portable`] puts in place of the pipeline's folder (no command, value or path holds
/// a NUL).
const ROOT_MARKER: &str = "\0root";

/// A phase's result with every string made [`portable`]: as it is recorded.
pub fn portable_result(result: &serde_json::Value, root: &str) -> serde_json::Value {
    map_strings(result, &|s| portable(s, root).into_owned())
}

/// A recorded result ([`portable_result`]) for a checkout in `root`: the marker back to
/// the folder, so a dependent of an up-to-date phase gets paths into its own checkout.
pub fn local_result(result: &serde_json::Value, root: &str) -> serde_json::Value {
    let root = root.trim_end_matches('/');
    map_strings(result, &|s| s.replace(ROOT_MARKER, root))
}

fn map_strings(value: &serde_json::Value, f: &dyn Fn(&str) -> String) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), map_strings(v, f))).collect())
        }
        other => other.clone(),
    }
}

/// `text` with each whole occurrence of the folder `root` (the pipeline's) replaced by a
/// marker, so that a command or a value naming a file of the checkout
/// (`{package_dir}`, `MILO_PACKAGE_DIR`) hashes the same wherever the checkout lies (another
/// CI runner's folder, a moved clone). `root` must stand alone: `/w/app` is not replaced in
/// `/w/apple` or `/x/w/app`. A root of `/` or nothing replaces nothing.
///
/// ```
/// use milo::fingerprint::portable;
/// assert_eq!(portable("cat /w/app/a.txt /w/apple", "/w/app"), "cat \0root/a.txt /w/apple");
/// ```
pub fn portable<'a>(text: &'a str, root: &str) -> Cow<'a, str> {
    let root = root.trim_end_matches('/');
    if root.is_empty() || !text.contains(root) {
        return Cow::Borrowed(text);
    }
    let part_of_name =
        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "._-".contains(c));
    let mut out = String::new();
    let mut done = 0;
    for (at, _) in text.match_indices(root) {
        let before = text[..at].chars().next_back();
        let after = text[at + root.len()..].chars().next();
        if part_of_name(before) || part_of_name(after) {
            continue;
        }
        out.push_str(&text[done..at]);
        out.push_str(ROOT_MARKER);
        done = at + root.len();
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// The digest of what a phase runs: the shell line or the exact argument list, with the
/// pipeline's folder `root` made [`portable`]. A closure's code cannot be hashed: list its
/// source files in `inputs`.
pub fn command_digest(handler: &Handler, root: &str) -> Digest {
    let mut h = Feed::default();
    match handler {
        Handler::Shell(line) => h.field("shell", portable(line, root).as_bytes()),
        Handler::Args(args) => {
            h.field("args", &args.len().to_le_bytes());
            for a in args {
                h.field("arg", portable(a, root).as_bytes());
            }
        }
        Handler::Func(_) => h.field("closure", b""),
    }
    h.finish()
}

/// The environment a fingerprint covers: the declared variables (the pipeline's and the
/// phase's, already merged) and the `env_inputs` as the process has them (`None`: unset),
/// values made [`portable`] against the pipeline's folder `root` (a process value that is not
/// UTF-8 is hashed as its bytes). A declared variable wins over the process's value of the
/// same name, as it does for the phase.
pub fn env_digests<'a>(
    declared: impl IntoIterator<Item = (&'a str, &'a str)>,
    env_inputs: impl IntoIterator<Item = (&'a str, Option<&'a OsStr>)>,
    root: &str,
) -> BTreeMap<String, Option<Digest>> {
    let digest = |v: &str| Digest::of(portable(v, root).as_bytes());
    let process = |v: &OsStr| v.to_str().map_or_else(|| Digest::of(v.as_encoded_bytes()), digest);
    let mut env: BTreeMap<String, Option<Digest>> =
        env_inputs.into_iter().map(|(k, v)| (k.to_owned(), v.map(process))).collect();
    for (k, v) in declared {
        env.insert(k.to_owned(), Some(digest(v)));
    }
    env
}

/// An input file that matched but could not be read (it vanished, or permission is denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The file, as recorded (relative to the pipeline's folder when under it).
    pub path: String,
    /// Why: the system's message.
    pub reason: String,
}

/// A phase as it is now, before it runs: everything its fingerprint covers but its
/// dependencies' results (known only once they ran), and the outputs that exist.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// [`command_digest`] of its handler.
    pub command: Digest,
    /// Its working directory, relative to the pipeline's folder when under it (`.`).
    pub cwd: String,
    /// [`env_digests`].
    pub env: BTreeMap<String, Option<Digest>>,
    /// Every input file (`/`-separated path) and the digest of its contents.
    pub inputs: BTreeMap<String, Digest>,
    /// Input files that could not be read: the phase runs, and is not recorded.
    pub unreadable: Vec<Unreadable>,
    /// `inputs` globs that match no file: the phase always runs.
    pub unmatched: Vec<String>,
    /// The files `outputs` match now.
    pub outputs: BTreeSet<String>,
    /// `outputs` globs that match no file now.
    pub unmatched_outputs: Vec<String>,
}

/// The fingerprint of `observation` with its dependencies' results (`None`: a skipped
/// dependency): one digest over every part, in a fixed order.
pub fn fingerprint(
    observation: &Observation,
    dependencies: &BTreeMap<String, Option<Digest>>,
) -> Digest {
    let mut h = Feed::default();
    h.field("command", &observation.command.0);
    h.field("cwd", observation.cwd.as_bytes());
    for (name, value) in &observation.env {
        h.field("env", name.as_bytes());
        h.field("value", value.as_ref().map_or(&[][..], |d| &d.0));
    }
    for (path, digest) in &observation.inputs {
        h.field("input", path.as_bytes());
        h.field("contents", &digest.0);
    }
    for (name, result) in dependencies {
        h.field("dependency", name.as_bytes());
        h.field("result", result.as_ref().map_or(&[][..], |d| &d.0));
    }
    h.finish()
}

/// Feeds tagged, length-prefixed fields to a hasher, so no two different lists of fields
/// give the same bytes.
#[derive(Default)]
struct Feed(blake3::Hasher);

impl Feed {
    fn field(&mut self, tag: &str, bytes: &[u8]) {
        self.0.update(tag.as_bytes());
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn finish(&self) -> Digest {
        Digest(*self.0.finalize().as_bytes())
    }
}

/// What was recorded at a phase's last success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`fingerprint`] of everything below.
    pub fingerprint: Digest,
    /// [`command_digest`].
    pub command: Digest,
    /// The working directory.
    pub cwd: String,
    /// Environment variables and their values' digests (`null`: unset).
    pub env: BTreeMap<String, Option<Digest>>,
    /// Input files and their contents' digests.
    pub inputs: BTreeMap<String, Digest>,
    /// Each dependency and its result's digest (`null`: skipped).
    pub dependencies: BTreeMap<String, Option<Digest>>,
    /// The files `outputs` matched after the run.
    pub outputs: BTreeSet<String>,
    /// The phase's result, handed to its dependents while it is up to date.
    pub result: serde_json::Value,
    /// The phase started again since (and has not succeeded): it must run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerun: bool,
}

impl Record {
    /// The record of a success: what was observed before the run, the dependencies'
    /// results it ran with, the outputs found after it, and its result.
    pub fn new(
        observation: Observation,
        dependencies: BTreeMap<String, Option<Digest>>,
        outputs: BTreeSet<String>,
        result: serde_json::Value,
    ) -> Self {
        Self {
            fingerprint: fingerprint(&observation, &dependencies),
            command: observation.command,
            cwd: observation.cwd,
            env: observation.env,
            inputs: observation.inputs,
            dependencies,
            outputs,
            result,
            rerun: false,
        }
    }
}

/// The fingerprints file: every recorded phase by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Each phase's record.
    pub phases: BTreeMap<String, Record>,
}

impl Default for Fingerprints {
    fn default() -> Self {
        Self { version: FORMAT_VERSION, phases: BTreeMap::new() }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn digests_round_trip_as_hex() {
        let d = Digest::of(b"hello");
        assert_eq!(d.to_hex(), blake3::hash(b"hello").to_hex().as_str());
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
        assert_eq!(Digest::from_hex("zz"), None);
        assert_eq!(Digest::from_hex(&"g".repeat(64)), None);
        let json = serde_json::to_string(&d).expect("json");
        assert_eq!(serde_json::from_str::<Digest>(&json).expect("parse"), d);
    }

    #[test]
    fn json_digests_ignore_key_order() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,"x"],"x":null}}"#).expect("json");
        let b = json!({"a": {"x": null, "y": [1, "x"]}, "b": 1});
        assert_eq!(Digest::of_json(&a), Digest::of_json(&b));
        assert_ne!(
            Digest::of_json(&a),
            Digest::of_json(&json!({"b": 2, "a": {"x": null, "y": [1, "x"]}}))
        );
    }

    #[test]
    fn commands_hash_what_runs() {
        let shell = command_digest(&Handler::Shell("a b".into()), "/w");
        let args = command_digest(&Handler::Args(vec!["a".into(), "b".into()]), "/w");
        let joined = command_digest(&Handler::Args(vec!["a b".into()]), "/w");
        assert_ne!(shell, args);
        assert_ne!(args, joined, "argument boundaries count");
        assert_eq!(shell, command_digest(&Handler::Shell("a b".into()), "/w"));
    }

    #[test]
    fn the_checkouts_folder_does_not_count() {
        assert_eq!(portable("cd /w/app && make", "/w/app/"), "cd \0root && make");
        assert_eq!(portable("/w/app:/w/app/x='/w/app'", "/w/app"), "\0root:\0root/x='\0root'");
        for untouched in ["/w/apple", "/x/w/app/a", "/w/app.d", "w/app", "/w/ap"] {
            assert_eq!(portable(untouched, "/w/app"), untouched);
        }
        assert_eq!(portable("/w/app", "/"), "/w/app", "the root folder replaces nothing");
        let shell = |line: &str, root: &str| command_digest(&Handler::Shell(line.into()), root);
        assert_eq!(shell("cat /ci/1/p/a.txt", "/ci/1/p"), shell("cat /ci/2/p/a.txt", "/ci/2/p"));
        assert_ne!(shell("cat /ci/1/p/a.txt", "/ci/1/p"), shell("cat /ci/1/p/b.txt", "/ci/1/p"));
        let args = |a: &str, root: &str| command_digest(&Handler::Args(vec![a.into()]), root);
        assert_eq!(args("/ci/1/p", "/ci/1/p"), args("/ci/2/p", "/ci/2/p"));
        let env = |v: &str, root: &str| env_digests([("D", v)], [("E", Some(OsStr::new(v)))], root);
        assert_eq!(env("/ci/1/p/x", "/ci/1/p"), env("/ci/2/p/x", "/ci/2/p"));
        let result =
            |root: &str| json!({"exit_code": 0, "outputs": {"bin": format!("{root}/app")}});
        let recorded = portable_result(&result("/ci/1/p"), "/ci/1/p");
        assert_eq!(recorded["outputs"]["bin"], "\0root/app");
        assert_eq!(local_result(&recorded, "/ci/2/p/"), result("/ci/2/p"));
        let digest = Digest::of_result(&result("/ci/2/p"), "/ci/2/p");
        assert_eq!(Digest::of_result(&recorded, "/ci/2/p"), digest, "recorded or not");
        assert_eq!(Digest::of_result(&result("/ci/1/p"), "/ci/1/p"), digest);
        assert_ne!(Digest::of_result(&result("/ci/1/q"), "/ci/1/p"), digest);
    }

    #[test]
    fn declared_env_wins_and_unset_differs_from_empty() {
        let os = |v: &'static str| Some(OsStr::new(v));
        let env = env_digests([("A", "1")], [("A", os("2")), ("B", None), ("C", os(""))], "/w");
        assert_eq!(env["A"], Some(Digest::of(b"1")));
        assert_eq!(env["B"], None);
        assert_eq!(env["C"], Some(Digest::of(b"")));
    }

    #[cfg(unix)]
    #[test]
    fn values_that_are_not_utf8_are_told_apart() {
        use std::os::unix::ffi::OsStrExt as _;
        let value =
            |bytes: &'static [u8]| env_digests([], [("P", Some(OsStr::from_bytes(bytes)))], "/w");
        assert_ne!(value(b"/opt/\xff"), value(b"/opt/\xfe"), "a lossy conversion made both U+FFFD");
        assert_eq!(value(b"/opt/\xff"), value(b"/opt/\xff"));
    }

    #[test]
    fn every_part_moves_the_fingerprint() {
        let base = Observation {
            command: Digest::of(b"cmd"),
            cwd: ".".into(),
            env: env_digests([("A", "1")], [], "/w"),
            inputs: [("a.txt".to_owned(), Digest::of(b"x"))].into(),
            ..Observation::default()
        };
        let deps: BTreeMap<String, Option<Digest>> = [("up".to_owned(), None)].into();
        let f = fingerprint(&base, &deps);
        assert_eq!(f, fingerprint(&base.clone(), &deps.clone()));
        let changes: Vec<Observation> = vec![
            Observation { command: Digest::of(b"other"), ..base.clone() },
            Observation { cwd: "sub".into(), ..base.clone() },
            Observation { env: env_digests([("A", "2")], [], "/w"), ..base.clone() },
            Observation { inputs: [("b.txt".to_owned(), Digest::of(b"x"))].into(), ..base.clone() },
            Observation { inputs: [("a.txt".to_owned(), Digest::of(b"y"))].into(), ..base.clone() },
        ];
        for changed in &changes {
            assert_ne!(fingerprint(changed, &deps), f, "{changed:?}");
        }
        let other_deps = [("up".to_owned(), Some(Digest::of_json(&json!(null))))].into();
        assert_ne!(fingerprint(&base, &other_deps), f);
    }

    #[test]
    fn records_serialize_without_clean_flags() {
        let record = Record::new(
            Observation::default(),
            BTreeMap::new(),
            BTreeSet::new(),
            json!({"exit_code": 0}),
        );
        let text = serde_json::to_string(&record).expect("json");
        assert!(!text.contains("rerun"), "{text}");
        let back: Record = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, record);
    }
}
