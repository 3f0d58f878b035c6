//! `bin/forbid` is a check that can fail: a forbidden call planted in any file of the pure
//! core (`src/core/`) makes it fail, the same call inside a test module does not.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies `src/` and `bin/forbid` into a temp folder.
fn copy_tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("src"), &tmp.path().join("src"));
    std::fs::create_dir_all(tmp.path().join("bin")).expect("mkdir bin");
    std::fs::copy(repo().join("bin/forbid"), tmp.path().join("bin/forbid")).expect("copy forbid");
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn forbid(root: &Path) -> std::process::Output {
    Command::new("bash")
        .arg(root.join("bin/forbid"))
        .arg(root)
        .output()
        .expect("run bin/forbid with bash")
}

fn pure_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src/core")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_tree_passes() {
    let out = forbid(&repo());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_planted_violation_fails_in_every_pure_file() {
    let tmp = copy_tree();
    let files = pure_files(tmp.path());
    assert!(files.len() >= 15, "the pure core is a folder of files: {files:?}");
    let plants = [
        "fn planted() { let _ = std::fs::read(\"x\"); }\n",
        "fn planted() { let _ = std::time::Instant::now(); }\n",
        "fn planted() { let _ = std::env::var(\"HOME\"); }\n",
        "use std::{collections::HashMap, process};\n",
    ];
    for (i, file) in files.iter().enumerate() {
        let original = std::fs::read_to_string(file).expect("read");
        // Every file gets a plant; the kinds take turns. At the end of the file, after any
        // test module of an earlier file in the scan has ended.
        let planted = format!("{original}\n{}", plants[i % plants.len()]);
        let planted = match original.find("#[cfg(test)]") {
            // Before the test module, which is exempt.
            Some(at) => {
                format!("{}{}{}", &original[..at], plants[i % plants.len()], &original[at..])
            }
            None => planted,
        };
        std::fs::write(file, planted).expect("plant");
        let out = forbid(tmp.path());
        std::fs::write(file, &original).expect("restore");
        let shown = file.strip_prefix(tmp.path()).unwrap_or(file);
        assert!(
            !out.status.success(),
            "bin/forbid passed with a violation planted in {}",
            shown.display()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&shown.display().to_string()),
            "the report names {}: {stdout}",
            shown.display()
        );
    }
}

#[test]
fn test_modules_are_exempt_and_effects_are_not_checked() {
    let tmp = copy_tree();
    let state = tmp.path().join("src/core/state.rs");
    let original = std::fs::read_to_string(&state).expect("read");
    let with_test = format!(
        "{original}\n#[cfg(test)]\nmod planted {{ fn f() {{ let _ = std::fs::read(\"x\"); }} }}\n"
    );
    std::fs::write(&state, with_test).expect("plant");
    let artifact = tmp.path().join("src/artifact/mod.rs");
    let effects = std::fs::read_to_string(&artifact).expect("read");
    std::fs::write(&artifact, format!("{effects}\nfn f() {{ let _ = std::fs::read(\"x\"); }}\n"))
        .expect("plant");
    let out = forbid(tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn leftover_debugging_fails() {
    let tmp = copy_tree();
    let cli = tmp.path().join("src/clock.rs");
    let text = std::fs::read_to_string(&cli).expect("read");
    std::fs::write(&cli, format!("{text}\nfn f() {{ todo!() }}\n")).expect("plant");
    assert!(!forbid(tmp.path()).status.success());
}
