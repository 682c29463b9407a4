//! Command-line flags (SPEC §4): clap derive structs, nothing else.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

/// mailgate: lint a mailing against e-mail law before it is sent.
#[derive(Debug, Parser)]
#[command(name = "mailgate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour the output (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge every recipient and check the draft; report what stands in the way.
    Lint(LintArgs),
    /// Lint, then send one personal message per sendable recipient (resumable, never twice).
    Send(SendArgs),
    /// List every rule with its default level and what it checks.
    Rules,
    /// Print a rule's full explanation: what, why, an example, how to fix.
    Explain {
        /// The rule's name, e.g. `no-consent`.
        rule: String,
    },
    /// Write a commented example campaign to start from.
    Init {
        /// Where to write it (created if needed; must not hold the files yet).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print a completion script for a shell (e.g. `mailgate completions bash > /etc/bash_completion.d/mailgate`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `mailgate man > ~/.local/share/man/man1/mailgate.1`.
    Man {
        /// Write every page (mailgate.1, mailgate-lint.1, …) into DIR instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Output formats of `lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
    /// One self-contained page: numbers, a chart, each rule's rows, a preview.
    Html,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// The campaign file [default: ./campaign.toml; none when --recipients and --draft are both given].
    pub campaign: Option<PathBuf>,
    /// The recipient CSV (overrides the campaign file).
    #[arg(long, value_name = "FILE")]
    pub recipients: Option<PathBuf>,
    /// The draft e-mail, an .eml file (overrides the campaign file).
    #[arg(long, value_name = "FILE")]
    pub draft: Option<PathBuf>,
    /// A product the mailing promotes (repeatable; overrides the campaign file).
    #[arg(long = "product", value_name = "PRODUCT")]
    pub products: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the cleaned list: the sendable recipients, once each, with the input's columns.
    #[arg(long, value_name = "FILE.csv")]
    pub sendable_out: Option<PathBuf>,
    /// Write one row per recipient: address, row, basis, sendable, rules (GDPR 5(2) record).
    #[arg(long, value_name = "FILE.csv")]
    pub report_out: Option<PathBuf>,
    /// Write `row N` instead of addresses (default for sarif, github and junit).
    #[arg(long, overrides_with = "no_redact")]
    pub redact: bool,
    /// Keep addresses in sarif, github and junit reports.
    #[arg(long, overrides_with = "redact")]
    pub no_redact: bool,
    /// Do not report RULE in this run (repeatable; over the file's [rules]; never changes who is sendable).
    #[arg(short = 'A', long = "allow", value_name = "RULE", action = ArgAction::Append)]
    pub allow: Vec<String>,
    /// Report RULE as a warning in this run (repeatable; over the file's [rules]).
    #[arg(short = 'W', long = "warn", value_name = "RULE", action = ArgAction::Append)]
    pub warn: Vec<String>,
    /// Report RULE as an error in this run (repeatable; over the file's [rules]).
    #[arg(short = 'D', long = "deny", value_name = "RULE", action = ArgAction::Append)]
    pub deny: Vec<String>,
}

/// Output formats of `send`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SendFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The campaign file [default: ./campaign.toml].
    pub campaign: Option<PathBuf>,
    /// Write every message to DIR/NNNNNN.eml instead of sending (DIR new or
    /// empty, or an earlier dry run of this campaign, which is replaced).
    #[arg(long, value_name = "DIR")]
    pub dry_run: Option<PathBuf>,
    /// Send only to the sendable recipients when some are blocked.
    #[arg(long)]
    pub skip_blocked: bool,
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// Send at most N messages in this run; the rest stay for the next run.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Re-send messages whose outcome an earlier run did not record (may duplicate).
    #[arg(long)]
    pub resend_unknown: bool,
    /// Send one recipient's message only to ADDRESS, subject prefixed [test]; not journaled.
    #[arg(long, value_name = "ADDRESS")]
    pub test_to: Option<String>,
    /// With --test-to: the recipient on line N of the list (default: the first sendable).
    #[arg(long, value_name = "N", requires = "test_to")]
    pub row: Option<u64>,
    /// Go on with the journal although the draft, list, suppression lists or campaign
    /// settings changed (who was sent stays sent; the change is recorded).
    #[arg(long)]
    pub accept_changes: bool,
    /// Send only the recipients whose address hashes to shard K of N.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<mailgate::send::Shard>,
    /// The journal file (default: <campaign>.journal.jsonl beside the campaign).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Allow tls = "none" to a host that is not loopback (mail and password in clear text).
    #[arg(long)]
    pub allow_plaintext: bool,
    /// Output format of the final summary.
    #[arg(long, value_enum, default_value_t = SendFormat::Human)]
    pub format: SendFormat,
}
