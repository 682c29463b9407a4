//! The `mailgate` binary: parse flags, run, map the outcome to an exit code
//! (0 clean, 1 error-level diagnostics, 2 the tool could not do its job).

mod cli;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Command, Format, LintArgs};
use mailgate::campaign::{Campaign, Overrides};
use mailgate::lint::Outputs;
use mailgate::report::{
    Emitter, GithubEmitter, HumanEmitter, JsonEmitter, JunitEmitter, SarifEmitter, Summary,
};
use mailgate::rules::{RULES, RuleId};

/// What a successful run found.
enum Outcome {
    Clean,
    Violations,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's --help and --version are successes; bad flags are usage errors.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Violations) => ExitCode::from(1),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "mailgate: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Lint(args) => lint(args),
        Command::Rules => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{:<28} {:<8} {:<10} description",
                "rule", "level", "scope"
            )?;
            for rule in &RULES {
                writeln!(
                    out,
                    "{:<28} {:<8} {:<10} {}",
                    rule.name,
                    rule.default.as_str(),
                    rule.scope.as_str(),
                    rule.summary
                )?;
            }
            Ok(Outcome::Clean)
        }
        Command::Init { dir } => {
            let written = mailgate::init::write_example(&dir).with_context(|| {
                format!("cannot write the example campaign to {}", dir.display())
            })?;
            for path in written {
                println!("wrote {}", path.display());
            }
            let campaign = dir.join("campaign.toml");
            println!("next: mailgate lint {}", campaign.display());
            Ok(Outcome::Clean)
        }
        Command::Explain { rule } => {
            let Some(id) = RuleId::from_name(&rule) else {
                let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
                let hint = strsim_hint(&rule, &names);
                anyhow::bail!("unknown rule `{rule}`{hint}; `mailgate rules` lists them all");
            };
            print!("{}", id.info().explain);
            Ok(Outcome::Clean)
        }
    }
}

fn strsim_hint(name: &str, names: &[&str]) -> String {
    names
        .iter()
        .min_by_key(|n| strsim::damerau_levenshtein(name, n))
        .filter(|n| strsim::damerau_levenshtein(name, n) <= 3)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

fn lint(args: LintArgs) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        recipients: args.recipients,
        draft: args.draft,
        products: args.products,
    };
    let campaign = Campaign::load(args.campaign.as_deref(), &overrides)
        .map_err(|errors| anyhow::anyhow!("{errors}"))
        .context("the campaign settings are not usable")?;
    let mut emitter: Box<dyn Emitter> = match args.format {
        Format::Human => Box::new(HumanEmitter::new()),
        Format::Json => Box::new(JsonEmitter::new().context("cannot create a temporary file")?),
        Format::Sarif => Box::new(SarifEmitter::new().context("cannot create a temporary file")?),
        Format::Github => Box::new(GithubEmitter::new()),
        Format::Junit => Box::new(JunitEmitter::new()),
    };
    let outputs = Outputs {
        report: args.report_out,
        sendable: args.sendable_out,
    };
    let summary = mailgate::lint::lint(&campaign, emitter.as_mut(), &outputs)?;
    write_report(emitter.as_mut(), &summary, args.output.as_deref())?;
    Ok(if summary.errors > 0 {
        Outcome::Violations
    } else {
        Outcome::Clean
    })
}

/// Writes the report to stdout, or atomically to `path` (a temporary file
/// renamed into place, so a failed run never leaves half a report).
fn write_report(
    emitter: &mut dyn Emitter,
    summary: &Summary,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    match path {
        None => {
            let mut out = anstream::stdout().lock();
            emitter.finish(summary, &mut out)?;
            out.flush()?;
        }
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let file = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            {
                let out: Box<dyn Write> = Box::new(io::BufWriter::new(file.as_file().try_clone()?));
                // Colour never goes into a file.
                let mut plain = anstream::StripStream::new(out);
                emitter.finish(summary, &mut plain)?;
                plain.flush()?;
            }
            file.persist(path)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
        }
    }
    Ok(())
}
