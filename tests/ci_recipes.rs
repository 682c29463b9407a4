//! The CI recipes of the README, run for real: the lint step of the GitHub
//! Action (`action.yml` runs `scripts/github-action-lint.sh`) and the
//! pre-commit hook's command from `.pre-commit-hooks.yaml`, each with the
//! built `mailgate` first on the PATH, on copies of the demo campaign.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// PATH with the built binary's directory first.
fn path_with_mailgate() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("mailgate");
    let dir = bin.parent().expect("the binary's directory").to_path_buf();
    let mut paths = vec![dir];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("a PATH")
}

/// A git repository holding the demo campaign twice: `spring/` and `autumn/`.
fn campaign_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for campaign in ["spring", "autumn"] {
        let to = dir.path().join(campaign);
        std::fs::create_dir(&to).expect("a campaign directory");
        for file in [
            "campaign.toml",
            "draft.eml",
            "recipients.csv",
            "unsubscribed.csv",
        ] {
            std::fs::copy(repo_root().join("fixtures/demo").join(file), to.join(file))
                .expect("copy the demo");
        }
    }
    // The autumn campaign has its own list, which lints clean.
    std::fs::write(
        dir.path().join("autumn/campaign.toml"),
        std::fs::read_to_string(dir.path().join("autumn/campaign.toml"))
            .expect("the campaign")
            .replace("recipients.csv", "autumn-list.csv"),
    )
    .expect("write the campaign");
    let demo_list = std::fs::read_to_string(repo_root().join("fixtures/demo/recipients.csv"))
        .expect("the demo list");
    // The demo's header and its first row, a customer who may be mailed.
    let clean: Vec<&str> = demo_list.lines().take(2).collect();
    std::fs::write(
        dir.path().join("autumn/autumn-list.csv"),
        clean.join("\n") + "\n",
    )
    .expect("write the list");
    std::fs::write(dir.path().join("notes.csv"), "a,b\n1,2\n").expect("write an unrelated csv");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    dir
}

// ------------------------------------------------------------------ GitHub Action

fn action_lint(dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("bash");
    command
        .arg(repo_root().join("scripts/github-action-lint.sh"))
        .current_dir(dir)
        .env("PATH", path_with_mailgate())
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the action's lint step runs")
}

#[test]
fn the_action_annotates_every_campaign_without_addresses_and_fails_on_errors() {
    let dir = campaign_repo();
    let sarif = dir.path().join("sarif");
    let output = action_lint(
        dir.path(),
        &[
            ("MAILGATE_CAMPAIGNS", "*/campaign.toml"),
            ("MAILGATE_SARIF_DIR", sarif.to_str().expect("a UTF-8 path")),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("::group::mailgate lint autumn/campaign.toml"));
    assert!(stdout.contains("::group::mailgate lint spring/campaign.toml"));
    assert!(
        stdout.contains("::error file=spring/recipients.csv,line=36,title=no-consent::row 36: "),
        "{stdout}"
    );
    assert!(
        !stdout.contains("stijn.bosman@example.nl"),
        "an address in the log"
    );
    let mut files: Vec<String> = std::fs::read_dir(&sarif)
        .expect("the SARIF directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["autumn_campaign.toml.sarif", "spring_campaign.toml.sarif"]
    );
    let log = std::fs::read_to_string(sarif.join("spring_campaign.toml.sarif")).expect("SARIF");
    assert!(log.contains("\"version\":\"2.1.0\"") && !log.contains("stijn.bosman"));
}

#[test]
fn the_action_passes_a_clean_campaign_and_can_report_without_failing() {
    let dir = campaign_repo();
    let clean = action_lint(
        dir.path(),
        &[("MAILGATE_CAMPAIGNS", "autumn/campaign.toml")],
    );
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let lenient = action_lint(
        dir.path(),
        &[
            ("MAILGATE_CAMPAIGNS", "spring/campaign.toml"),
            ("MAILGATE_FAIL_ON_ERROR", "false"),
            ("MAILGATE_REDACT", "false"),
        ],
    );
    assert_eq!(lenient.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&lenient.stdout).contains("stijn.bosman@example.nl"));
    let missing = action_lint(dir.path(), &[("MAILGATE_CAMPAIGNS", "nowhere/*.toml")]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn the_action_builds_mailgate_from_its_own_checkout() {
    // What the install step runs, with the paths GitHub gives it.
    let action = std::fs::read_to_string(repo_root().join("action.yml")).expect("action.yml");
    assert!(action.contains("cargo install --locked --quiet --path \"$GITHUB_ACTION_PATH\""));
    assert!(action.contains("run: bash \"$GITHUB_ACTION_PATH/scripts/github-action-lint.sh\""));
    assert!(action.contains("using: composite"));
}

// ------------------------------------------------------------------ pre-commit

/// The hook's shell script, as `.pre-commit-hooks.yaml` gives it to `sh -c`.
fn hook_script() -> String {
    let hooks = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml"))
        .expect(".pre-commit-hooks.yaml");
    let entry = hooks
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: sh -c '"))
        .expect("an entry running sh -c");
    entry
        .strip_suffix("' --")
        .expect("the script ends with ' --")
        .to_owned()
}

/// Runs the hook as pre-commit would, with `changed` as the file names.
fn hook(dir: &Path, changed: &[&str]) -> Output {
    Command::new("sh")
        .current_dir(dir)
        .env("PATH", path_with_mailgate())
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(hook_script())
        .arg("--")
        .args(changed)
        .output()
        .expect("the hook runs")
}

#[test]
fn the_hook_lints_a_campaign_when_its_list_draft_or_file_changes() {
    let dir = campaign_repo();
    let hooks = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains(r"files: \.(toml|csv|tsv|txt|eml)$"));
    for changed in [
        "spring/campaign.toml",
        "spring/recipients.csv",
        "spring/draft.eml",
        "spring/unsubscribed.csv",
    ] {
        let output = hook(dir.path(), &[changed]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{changed} changed:\n{stdout}"
        );
        assert!(
            stdout.contains("no-consent"),
            "{changed} changed:\n{stdout}"
        );
    }
    // The autumn campaign lints clean; an unrelated file lints nothing.
    for changed in ["autumn/autumn-list.csv", "notes.csv"] {
        let output = hook(dir.path(), &[changed]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{changed}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let unrelated = hook(dir.path(), &["notes.csv"]);
    assert!(unrelated.stdout.is_empty(), "linted for an unrelated file");
}
