//! Shell completions, the man page and `--color`, all from the clap
//! definitions.

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;

fn mailgate(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("mailgate")
        .expect("the mailgate binary is built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("mailgate runs")
}

#[test]
fn completions_for_each_shell_know_the_commands_and_flags() {
    for (shell, marker) in [
        ("bash", "complete -F _mailgate"),
        ("zsh", "#compdef mailgate"),
        ("fish", "complete -c mailgate"),
    ] {
        let output = mailgate(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(output.stdout).expect("UTF-8");
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for word in ["lint", "send", "explain", "redact", "format", "html"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let unknown = mailgate(&["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let output = mailgate(&["man"]);
    assert_eq!(output.status.code(), Some(0));
    let page = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(page.contains(".TH mailgate 1"), "{page}");
    for command in ["lint", "send", "rules", "explain", "init"] {
        assert!(
            page.contains(&format!("mailgate\\-{command}(1)")),
            "{command}"
        );
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = mailgate(&["man", "--dir", dir.path().to_str().expect("UTF-8")]);
    assert_eq!(output.status.code(), Some(0));
    let lint = std::fs::read_to_string(PathBuf::from(dir.path()).join("mailgate-lint.1"))
        .expect("mailgate-lint.1");
    assert!(lint.contains("\\-\\-redact") && lint.contains("\\-\\-format"));
}

#[test]
fn color_is_what_the_flag_says_and_never_in_a_pipe_by_default() {
    let lint = |extra: &[&str]| {
        let mut args = vec!["lint", "fixtures/demo/campaign.toml"];
        args.extend(extra);
        let output = mailgate(&args);
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    assert!(lint(&["--color", "always"]).contains("\u{1b}["));
    assert!(!lint(&["--color", "never"]).contains('\u{1b}'));
    // Standard output is a pipe here: auto means no colour.
    assert!(!lint(&[]).contains('\u{1b}'));
    // Written to a file, never.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("report.txt");
    lint(&[
        "--color",
        "always",
        "--output",
        file.to_str().expect("UTF-8"),
    ]);
    assert!(
        !std::fs::read_to_string(file)
            .expect("the report")
            .contains('\u{1b}')
    );
}
