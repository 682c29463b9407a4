//! The `mailgate` binary: parse flags, run, map the outcome to an exit code
//! (0 clean, 1 error-level diagnostics, 2 the tool could not do its job).

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, ColorWhen, Command, Format, LintArgs, SendArgs, SendFormat};
use mailgate::campaign::{Campaign, Overrides};
use mailgate::lint::Outputs;
use mailgate::output_file::OutputFile;
use mailgate::report::{
    Emitter, GithubEmitter, HtmlEmitter, HumanEmitter, JsonEmitter, JunitEmitter, Redact,
    SarifEmitter, Summary,
};
use mailgate::rules::{Level, RULES, RuleId};

/// What a successful run found.
enum Outcome {
    Clean,
    Violations,
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
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
    match run(cli, &matches) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Violations) => ExitCode::from(1),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            if let Some(errors) = e.downcast_ref::<mailgate::campaign::ConfigErrors>() {
                // Rendered like every diagnostic, the lines styled; anstream
                // strips the styles off a pipe or a file, and under NO_COLOR.
                let text = mailgate::report::render_config_errors(errors);
                let _ = anstream::stderr().lock().write_all(text.as_bytes());
                return ExitCode::from(2);
            }
            // Messages quote file content (a TOML key, a CSV header): its
            // control characters are shown escaped, line by line, so that
            // only mailgate's own line breaks break lines.
            let text = format!("{e:#}");
            let shown: Vec<_> = text
                .split('\n')
                .map(mailgate::escape::control_chars)
                .collect();
            let _ = writeln!(io::stderr(), "mailgate: error: {}", shown.join("\n"));
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

fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<Outcome> {
    // Auto leaves it to anstream: colour on a terminal unless NO_COLOR is set.
    match cli.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    match cli.command {
        Command::Completions { shell } => {
            let mut command = Cli::command();
            // Into memory first: clap_complete panics on a write error
            // (`mailgate completions bash | head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "mailgate", &mut script);
            io::stdout().write_all(&script)?;
            Ok(Outcome::Clean)
        }
        Command::Man { dir } => {
            let command = Cli::command();
            match dir {
                Some(dir) => clap_mangen::generate_to(command, &dir).with_context(|| {
                    format!("cannot write the man pages into {}", dir.display())
                })?,
                None => clap_mangen::Man::new(command).render(&mut io::stdout())?,
            }
            Ok(Outcome::Clean)
        }
        Command::Lint(args) => {
            let levels = matches
                .subcommand_matches("lint")
                .map(level_flags)
                .transpose()?
                .unwrap_or_default();
            lint(args, levels)
        }
        Command::Send(args) => send(args),
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

/// Every problem of the campaign settings, as the error `main` renders
/// (see [`mailgate::report::render_config_errors`]).
fn config_error(errors: mailgate::campaign::ConfigErrors) -> anyhow::Error {
    anyhow::Error::new(errors)
}

fn strsim_hint(name: &str, names: &[&str]) -> String {
    names
        .iter()
        .min_by_key(|n| strsim::damerau_levenshtein(name, n))
        .filter(|n| strsim::damerau_levenshtein(name, n) <= 3)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

/// The `-A/-W/-D RULE` flags of `lint`, in the order given on the command
/// line (a later flag wins, as clippy's do); an unknown rule is a usage
/// error with a suggestion.
fn level_flags(matches: &clap::ArgMatches) -> anyhow::Result<Vec<(RuleId, Level)>> {
    let mut flags = Vec::new();
    for (id, flag, level) in [
        ("allow", "-A", Level::Allow),
        ("warn", "-W", Level::Warn),
        ("deny", "-D", Level::Deny),
    ] {
        let (Some(indices), Some(values)) =
            (matches.indices_of(id), matches.get_many::<String>(id))
        else {
            continue;
        };
        for (index, name) in indices.zip(values) {
            let Some(rule) = RuleId::from_name(name.trim()) else {
                let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
                let hint = strsim_hint(name, &names);
                anyhow::bail!(
                    "{flag}: unknown rule `{name}`{hint}; `mailgate rules` lists them all"
                );
            };
            flags.push((index, rule, level));
        }
    }
    flags.sort_by_key(|&(index, _, _)| index);
    Ok(flags
        .into_iter()
        .map(|(_, rule, level)| (rule, level))
        .collect())
}

/// The campaign file to read: the one named, else `./campaign.toml` (SPEC
/// §4); `None` only for `lint` given both `--recipients` and `--draft`
/// where there is no `./campaign.toml`.
fn campaign_file(
    named: Option<std::path::PathBuf>,
    command: &str,
    inputs_given: bool,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    if let Some(path) = named {
        return Ok(Some(path));
    }
    let default = std::path::PathBuf::from("campaign.toml");
    if default.exists() {
        return Ok(Some(default));
    }
    if inputs_given {
        return Ok(None);
    }
    let here = std::env::current_dir()
        .map(|d| format!(" ({})", d.display()))
        .unwrap_or_default();
    let alternative = if command == "lint" {
        ", or pass --recipients FILE and --draft FILE"
    } else {
        ""
    };
    anyhow::bail!(
        "no campaign file: there is no campaign.toml in this directory{here}; name one \
         (`mailgate {command} path/to/campaign.toml`){alternative}, or run `mailgate init` \
         to start one"
    )
}

fn lint(args: LintArgs, level_flags: Vec<(RuleId, Level)>) -> anyhow::Result<Outcome> {
    // Interrupted (Ctrl-C, SIGTERM), the process ends without unwinding:
    // the half-written reports, which hold recipients' addresses, are
    // removed first. The exit code is the shell's for an interrupt.
    let _ = ctrlc::set_handler(|| {
        mailgate::output_file::remove_unfinished();
        std::process::exit(130);
    });
    let overrides = Overrides {
        recipients: args.recipients,
        draft: args.draft,
        products: args.products,
    };
    let path = campaign_file(
        args.campaign,
        "lint",
        overrides.recipients.is_some() && overrides.draft.is_some(),
    )?;
    let mut campaign = Campaign::load(path.as_deref(), &overrides).map_err(config_error)?;
    // Over the file's [rules], in the order given.
    campaign.rule_levels.extend(level_flags);
    let mut emitter: Box<dyn Emitter> = match args.format {
        Format::Human => Box::new(HumanEmitter::new()),
        Format::Json => Box::new(JsonEmitter::new().with_context(temporary_file)?),
        Format::Sarif => Box::new(SarifEmitter::new().with_context(temporary_file)?),
        Format::Github => Box::new(GithubEmitter::new()),
        Format::Junit => Box::new(JunitEmitter::new()),
        Format::Html => Box::new(HtmlEmitter::new(&campaign)),
    };
    // Reports that go to CI services carry no addresses unless asked (SPEC §4).
    let ci_format = matches!(args.format, Format::Sarif | Format::Github | Format::Junit);
    if args.redact || (ci_format && !args.no_redact) {
        emitter = Box::new(Redact::new(emitter));
    }
    // Nothing is written over an input, nor two outputs into one file.
    let named_outputs: Vec<(&str, &std::path::Path)> = [
        ("--output", args.output.as_deref()),
        ("--report-out", args.report_out.as_deref()),
        ("--sendable-out", args.sendable_out.as_deref()),
    ]
    .into_iter()
    .filter_map(|(flag, path)| Some((flag, path?)))
    .collect();
    mailgate::output_file::check_outputs(&campaign.input_files(), &named_outputs)
        .map_err(anyhow::Error::msg)?;
    let outputs = Outputs {
        report: args.report_out,
        sendable: args.sendable_out,
    };
    // The report file is made before the lint, so that an unwritable
    // place fails at once rather than after minutes of work, and so that
    // the emitter can stream into it.
    let report = args
        .output
        .as_deref()
        .map(OutputFile::create)
        .transpose()
        .context("cannot write the report")?;
    // Streamed straight into a regular file; a device or FIFO, which
    // cannot go back to fill in the summary, gets the report at the end.
    if let Some(report) = report.as_ref().filter(|r| r.is_seekable()) {
        emitter
            .stream_into(report.file())
            .context("cannot write the report")?;
    }
    // `> report.json` is as good a file as --output's.
    let stdout_file = match report {
        None if emitter.plain() => stdout_as_seekable_file(),
        _ => None,
    };
    if let Some(file) = &stdout_file {
        emitter
            .stream_into(file)
            .context("cannot write the report")?;
    }
    let (summary, addresses) =
        mailgate::lint::lint_with_addresses(&campaign, emitter.as_mut(), &outputs)?;
    if emitter.wants_preview() {
        // A message that cannot be built is told by the draft's findings.
        if let Ok(Some(preview)) = mailgate::report::preview::first_sendable(&campaign, &addresses)
        {
            emitter.preview(preview);
        }
    }
    match stdout_file {
        Some(mut file) => emitter
            .finish_file(&summary, &mut file)
            .context("cannot write the report")?,
        None => write_report(emitter.as_mut(), &summary, report)?,
    }
    Ok(if summary.errors > 0 {
        Outcome::Violations
    } else {
        Outcome::Clean
    })
}

/// Standard output as a file a report can stream into and go back in to
/// fill in its head, as with --output: a regular file, not opened for
/// appending (`>>`, where every write goes to the end), positioned at its
/// end (`> report.json` leaves it empty, at 0). Anything else — a terminal,
/// a pipe, a device — is written in order, as before.
fn stdout_as_seekable_file() -> Option<std::fs::File> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let mut file = std::fs::File::from(io::stdout().as_fd().try_clone_to_owned().ok()?);
    let metadata = file.metadata().ok()?;
    if !metadata.file_type().is_file() {
        return None;
    }
    let flags = rustix::fs::fcntl_getfl(&file).ok()?;
    if flags.contains(rustix::fs::OFlags::APPEND) {
        return None;
    }
    (file.stream_position().ok()? == metadata.len()).then_some(file)
}

/// The message for a temporary file that cannot be made: where it was to
/// go, and how to choose another place.
fn temporary_file() -> String {
    format!(
        "cannot create a temporary file in {} (set TMPDIR to a writable directory with free \
         space)",
        std::env::temp_dir().display()
    )
}

/// Writes the report to stdout, or into `file`, renamed into place only
/// when complete (a failed run never leaves half a report).
fn write_report(
    emitter: &mut dyn Emitter,
    summary: &Summary,
    file: Option<OutputFile>,
) -> anyhow::Result<()> {
    match file {
        None if emitter.plain() => {
            let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
            emitter.finish(summary, &mut out)?;
            out.flush()?;
        }
        None => {
            let mut out = anstream::stdout().lock();
            emitter.finish(summary, &mut out)?;
            out.flush()?;
        }
        Some(mut file) => {
            emitter
                .finish_file(summary, file.file_mut())
                .context("cannot write the report")?;
            file.persist().context("cannot write the report")?;
        }
    }
    Ok(())
}

fn send(args: SendArgs) -> anyhow::Result<Outcome> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};

    use mailgate::send::{self, Counters, SendError, SendOptions};

    let campaign_path = campaign_file(args.campaign.clone(), "send", false)?
        .unwrap_or_else(|| "campaign.toml".into());
    let campaign =
        Campaign::load(Some(&campaign_path), &Overrides::default()).map_err(config_error)?;
    if let Some(journal) = &args.journal {
        // The journal is appended to: never one of the inputs.
        mailgate::output_file::check_outputs(
            &campaign.input_files(),
            &[("--journal", journal.as_path())],
        )
        .map_err(anyhow::Error::msg)?;
    }
    let mut options = SendOptions {
        dry_run: args.dry_run.clone(),
        skip_blocked: args.skip_blocked,
        limit: args.limit,
        resend_unknown: args.resend_unknown,
        shard: args.shard,
        journal: args.journal.clone(),
        allow_plaintext: args.allow_plaintext,
        accept_changes: args.accept_changes,
        confirmed: args.yes,
        password: None,
        progress: io::stderr().is_terminal(),
    };
    send::check_journal_choice(&campaign, &options)?;
    // A missing password is settled before the lint: asked for (not echoed)
    // on a terminal, or refused at once without one.
    let missing = campaign
        .smtp
        .as_ref()
        .filter(|_| options.dry_run.is_none())
        .and_then(|smtp| send::transport::missing_password(smtp).map(|m| (smtp, m)));
    if let Some((smtp, (user, var))) = missing {
        if !(io::stdin().is_terminal() && io::stderr().is_terminal()) {
            anyhow::bail!(
                "the password environment variable {var} (`password_env` under [smtp] in {}) \
                 is not set; export it before running send (the password never goes into the \
                 campaign file)",
                campaign_path.display()
            );
        }
        let typed = rpassword::prompt_password(format!(
            "Password for {user} at {}:{} ({var} is not set): ",
            smtp.host, smtp.port
        ))
        .context("cannot read the password from the terminal")?;
        options.password = Some(send::transport::Password(typed));
    }

    // The gate: the whole lint, its report on stderr (stdout is for --format json).
    let mut report = HumanEmitter::new();
    let gate = send::gate(&campaign, &mut report)?;
    {
        let mut err = anstream::stderr().lock();
        report.finish(&gate.lint, &mut err)?;
    }
    if let Some(to) = &args.test_to {
        // One message to the user's own address: no journal, no gate (it
        // reaches no recipient), no confirmation.
        return match send::test_send(&campaign, &gate, &options, to, args.row) {
            Ok(sent) => {
                eprintln!(
                    "mailgate: test message for {} (line {} of the list), subject prefixed \
                     [test], sent to {to} only: {}",
                    sent.recipient, sent.line, sent.reply
                );
                Ok(Outcome::Clean)
            }
            Err(SendError::Refused(message)) => {
                eprintln!("mailgate: {message}");
                Ok(Outcome::Violations)
            }
            Err(SendError::Transport(e)) => {
                eprintln!("mailgate: error: {e}");
                Ok(Outcome::Violations)
            }
            Err(e) => Err(e.into()),
        };
    }
    if let Err(refused) = gate.check(&options) {
        eprintln!("mailgate: {refused}");
        return Ok(Outcome::Violations);
    }
    if gate.recipient_errors > 0 {
        eprintln!(
            "mailgate: skipping {} blocked recipient(s) (--skip-blocked)",
            gate.lint.blocked
        );
    }

    if options.dry_run.is_none() && !args.yes {
        let relay = campaign
            .smtp
            .as_ref()
            .map(|s| format!("{}:{}", s.host, s.port))
            .unwrap_or_else(|| "(no [smtp])".to_owned());
        if !io::stdin().is_terminal() {
            anyhow::bail!(
                "send asks for confirmation, but there is no terminal; pass --yes to send to up to \
                 {} recipient(s) via {relay}",
                gate.lint.sendable
            );
        }
        eprint!(
            "Send \"{}\" to up to {} recipient(s) via {relay}? [y/N] ",
            campaign.name, gate.lint.sendable
        );
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "ja" | "j") {
            eprintln!("mailgate: nothing sent");
            return Ok(Outcome::Violations);
        }
    }

    // Ctrl-C: finish what is in flight, write the journal, exit 1 with a hint.
    static STOP: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: the journal is consistent at any moment.
            std::process::exit(130);
        }
        eprintln!("\nmailgate: stopping after the messages in flight (Ctrl-C again to quit now)");
    });

    let counters = Counters::default();
    let done = AtomicBool::new(false);
    let progress = std::thread::scope(|scope| {
        let bar = io::stderr()
            .is_terminal()
            .then(|| progress_bar(&counters, &done, scope));
        let result = send::run(&campaign, &gate, &options, &counters, &STOP);
        done.store(true, Ordering::SeqCst);
        if let Some(bar) = bar {
            let _ = bar.join();
        }
        result
    });
    let summary = match progress {
        Ok(summary) => summary,
        Err(SendError::Refused(message)) => {
            eprintln!("mailgate: {message}");
            return Ok(Outcome::Violations);
        }
        Err(SendError::Transport(e)) => {
            eprintln!(
                "mailgate: error: {e}\nmailgate: the journal records everything sent so far; \
                 fix the cause, then resume with: {}",
                resume_command(&campaign_path, &options)
            );
            return Ok(Outcome::Violations);
        }
        Err(e) => return Err(e.into()),
    };

    if !summary.accepted_changes.is_empty() {
        eprintln!(
            "mailgate: went on with the same journal although {} changed \
             (--accept-changes, recorded in the journal): the {} sent before stay sent",
            summary.accepted_changes.join(" and "),
            summary.already_sent
        );
    }
    for line in &summary.not_built {
        eprintln!("mailgate: {line}");
    }
    let unshown = summary.not_built_total - summary.not_built.len() as u64;
    if unshown > 0 {
        eprintln!("mailgate: … and {unshown} more not sent for the same kind of reason");
    }
    match args.format {
        SendFormat::Json => {
            let json = serde_json::json!({
                "mailgate": mailgate::report::VERSION,
                "summary": summary,
            });
            println!("{json}");
        }
        SendFormat::Human => {
            eprintln!("{}", summary.human_line(options.dry_run.is_some()));
            if let Some(dir) = &options.dry_run {
                eprintln!("messages written to {}", dir.display());
            }
        }
    }
    let interrupted = STOP.load(Ordering::SeqCst);
    let unbuilt = summary.not_built_total > 0;
    let hint = resume_command(&campaign_path, &options);
    if summary.not_yet_sent > 0 && !interrupted {
        eprintln!(
            "mailgate: {} not yet sent (--limit); send them with: {hint}",
            summary.not_yet_sent
        );
    }
    if interrupted || unbuilt || (!summary.complete() && options.dry_run.is_none()) {
        if summary.deferred > 0 || interrupted {
            eprintln!("mailgate: not everyone was sent; resume with: {hint}");
        }
        if summary.unknown > 0 {
            eprintln!(
                "mailgate: {} message(s) may or may not have gone out (the end of their DATA \
                 was written, but no reply was read: a crash or a lost connection at that \
                 moment); check the relay's log, then re-send them with: {hint} --resend-unknown",
                summary.unknown
            );
        }
        return Ok(Outcome::Violations);
    }
    Ok(Outcome::Clean)
}

/// The command that resumes this send.
fn resume_command(
    campaign_path: &std::path::Path,
    options: &mailgate::send::SendOptions,
) -> String {
    let mut hint = format!("mailgate send {}", campaign_path.display());
    if options.skip_blocked {
        hint.push_str(" --skip-blocked");
    }
    if let Some(shard) = options.shard {
        hint.push_str(&format!(" --shard {}/{}", shard.index, shard.count));
    }
    if let Some(journal) = &options.journal {
        hint.push_str(&format!(" --journal {}", journal.display()));
    }
    hint
}

/// A progress bar (sent / failed / deferred, rate, ETA) fed from the counters.
fn progress_bar<'s>(
    counters: &'s mailgate::send::Counters,
    done: &'s std::sync::atomic::AtomicBool,
    scope: &'s std::thread::Scope<'s, '_>,
) -> std::thread::ScopedJoinHandle<'s, ()> {
    use std::sync::atomic::Ordering;
    scope.spawn(move || {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} {msg} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        while !done.load(Ordering::SeqCst) {
            let sent = counters.sent.load(Ordering::Relaxed);
            let failed = counters.failed.load(Ordering::Relaxed);
            let deferred = counters.deferred.load(Ordering::Relaxed);
            // The total is counted before the first message goes out; the
            // bar appears once it is known.
            let total = counters.total.load(Ordering::Relaxed);
            let queued = counters.queued.load(Ordering::Relaxed);
            if total == 0 && queued == 0 {
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
            bar.set_length(total.max(queued));
            let unknown = counters.unknown.load(Ordering::Relaxed);
            bar.set_position(sent + failed + deferred + unknown);
            bar.set_message(format!(
                "sent {sent} · failed {failed} · deferred {deferred}"
            ));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        bar.finish_and_clear();
    })
}
