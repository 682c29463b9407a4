//! What people read, kept in files so that a change to it shows in review:
//! the README's demo output (which must be what the demo prints) and the
//! config errors of a broken campaign file. `MAILGATE_BLESS=1 cargo test
//! --test snapshots` rewrites the files in `tests/snapshots/` from a real run
//! (the README's block is rewritten in place); review the diff, then commit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `mailgate ARGS` from the repository root, without colour: (exit code,
/// standard output, standard error).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .current_dir(repo_root())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .output()
        .expect("mailgate runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn blessing() -> bool {
    std::env::var_os("MAILGATE_BLESS").is_some_and(|v| v == "1")
}

/// Compares `actual` with the snapshot file `name`, or writes it when blessing.
fn check_snapshot(name: &str, actual: &str) {
    let path = repo_root().join("tests/snapshots").join(name);
    if blessing() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with MAILGATE_BLESS=1", path.display()));
    assert!(
        expected == actual,
        "{} differs from a real run; if the change is meant, run \
         MAILGATE_BLESS=1 cargo test --test snapshots and review the diff\n\
         --- expected ---\n{expected}\n--- actual ---\n{actual}",
        path.display()
    );
}

/// The first ```text block after `heading` in `readme`: (start, end) byte offsets of its body.
fn text_block(readme: &str, heading: &str) -> (usize, usize) {
    let at = readme.find(heading).expect("the README has the heading");
    let start = at + readme[at..].find("```text\n").expect("a text block") + "```text\n".len();
    let end = start + readme[start..].find("```").expect("the block ends");
    (start, end)
}

#[test]
fn the_readme_shows_what_the_demo_prints() {
    let (code, stdout, stderr) = run(&["lint", "fixtures/demo/campaign.toml"]);
    assert_eq!(code, Some(1), "the demo has errors to show\n{stderr}");
    assert_eq!(stderr, "", "the human report goes to standard output");
    let readme_path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (start, end) = text_block(&readme, "## The demo");
    if blessing() {
        let updated = format!("{}{}{}", &readme[..start], stdout, &readme[end..]);
        std::fs::write(&readme_path, updated).unwrap();
        return;
    }
    assert!(
        readme[start..end] == stdout,
        "README.md's demo output is not what `mailgate lint fixtures/demo/campaign.toml` \
         prints; if the change is meant, run MAILGATE_BLESS=1 cargo test --test snapshots\n\
         --- README ---\n{}\n--- actual ---\n{stdout}",
        &readme[start..end]
    );
}

#[test]
fn config_errors_of_a_broken_campaign_file() {
    let case = Path::new("fixtures/cases/exit2-campaign-unknown-keys/campaign.toml");
    let (code, stdout, stderr) = run(&["lint", case.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "", "config errors go to standard error");
    check_snapshot("config-errors.txt", &stderr);
}

#[test]
fn rules_table() {
    let (code, stdout, _) = run(&["rules"]);
    assert_eq!(code, Some(0));
    check_snapshot("rules.txt", &stdout);
}
