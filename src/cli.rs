//! The command line: argument parsing, file IO and printing. Everything else is in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{CheckOptions, check};
use crate::diag::{Diag, Report, Severity};

/// tariff: write down how a cloud product is billed, and prove what that costs.
#[derive(Parser, Debug)]
#[command(name = "tariff", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint rule files (files or directories of *.tariff).
    Check {
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
        format: DiagFormat,
        /// Fail on warnings too (`--deny warnings`).
        #[arg(long, value_name = "warnings")]
        deny: Option<DenyWhat>,
        /// A directory holding the source documents that citations quote.
        #[arg(long = "sources", value_name = "DIR")]
        sources: Vec<PathBuf>,
        /// List every value marked `assumed` (no citation backs it).
        #[arg(long)]
        assumptions: bool,
    },
    /// Format rule files in place (or only check, with --check).
    Fmt {
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Do not write; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Evaluate a product's rules over a usage trace.
    Eval(crate::evalcmd::EvalArgs),
    /// Write a realistic trace for a rule file (JSON Lines on standard output).
    Gen(crate::r#gen::GenArgs),
    /// Run the examples written in rule files.
    Test {
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum DiagFormat {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum DenyWhat {
    Warnings,
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check {
            paths,
            format,
            deny,
            sources,
            assumptions,
        } => run_check(&paths, format, deny.is_some(), &sources, assumptions),
        Command::Fmt { paths, check } => run_fmt(&paths, check),
        Command::Eval(args) => crate::evalcmd::run(args),
        Command::Gen(args) => crate::r#gen::run(args),
        Command::Test { paths } => crate::evalcmd::run_tests(&paths),
    }
}

/// The `*.tariff` files named by `paths` (directories are walked, sorted).
pub fn collect_rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("no such file or directory: `{}`", p.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "tariff") {
            out.push(e);
        }
    }
    Ok(())
}

/// Reads a file as text; invalid UTF-8 is a diagnostic, not a crash.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{}` is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    // A byte order mark some editors write is not part of the text.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn run_check(
    paths: &[PathBuf],
    format: DiagFormat,
    deny_warnings: bool,
    sources: &[PathBuf],
    assumptions: bool,
) -> ExitCode {
    let files = match collect_rule_files(paths) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut errors = 0usize;
    let mut warnings = 0usize;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // Files are checked on every core; results are printed in file order.
    let results = check_files(&files, sources, assumptions);
    for (f, (text, diags, assumed)) in files.iter().zip(results) {
        let name = f.display().to_string();
        for (l, c, what) in assumed {
            let _ = writeln!(out, "{name}:{l}:{c}: assumed: {what}");
        }
        for d in &diags {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Advice => {}
            }
        }
        for d in diags {
            match format {
                DiagFormat::Human => eprintln!("{}", Report::new(d, &name, &text).render(color)),
                DiagFormat::Json => {
                    let line = serde_json::to_string(&d.to_json(&name, &text)).unwrap_or_default();
                    let _ = writeln!(out, "{line}");
                }
                DiagFormat::Github => {
                    let _ = writeln!(out, "{}", d.to_github(&name, &text));
                }
            }
        }
    }
    let _ = out.flush();
    if format == DiagFormat::Human {
        eprintln!(
            "checked {} file(s): {errors} error(s), {warnings} warning(s)",
            files.len()
        );
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// One checked file: its text, its diagnostics, and its assumptions (line, column, what).
type Checked = (String, Vec<Diag>, Vec<(usize, usize, String)>);

fn check_one(f: &Path, sources: &[PathBuf], assumptions: bool) -> Checked {
    match read_text(f) {
        Ok(text) => {
            let mut opts = CheckOptions {
                source_dirs: sources.to_vec(),
            };
            if let Some(dir) = f.parent() {
                opts.source_dirs.insert(0, dir.to_path_buf());
            }
            let diags = check_text(&text, &opts);
            let mut assumed = Vec::new();
            if assumptions && let Ok(file) = crate::parse_file(&text) {
                for (span, what) in crate::check::assumptions(&file) {
                    let (l, c) = crate::diag::line_col(&text, span.start);
                    assumed.push((l, c, what));
                }
            }
            (text, diags, assumed)
        }
        Err(e) => (
            String::new(),
            vec![Diag::error("tariff::io::unreadable", e).help("rule files are UTF-8 text")],
            Vec::new(),
        ),
    }
}

fn check_files(files: &[PathBuf], sources: &[PathBuf], assumptions: bool) -> Vec<Checked> {
    let jobs = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    if jobs <= 1 {
        return files
            .iter()
            .map(|f| check_one(f, sources, assumptions))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Checked>> = (0..files.len()).map(|_| None).collect();
    let done: Vec<Vec<(usize, Checked)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        mine.push((i, check_one(f, sources, assumptions)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, c) in done.into_iter().flatten() {
        results[i] = Some(c);
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                (
                    String::new(),
                    vec![Diag::error(
                        "tariff::io::unreadable",
                        "a checker thread failed",
                    )],
                    Vec::new(),
                )
            })
        })
        .collect()
}

/// Parses and checks rule-file text: every diagnostic, errors first by position.
pub fn check_text(text: &str, opts: &CheckOptions) -> Vec<Diag> {
    let mut diags = match crate::parse_file(text) {
        Ok(file) => check(&file, text, opts),
        Err(d) => d,
    };
    diags.sort_by_key(|d| (d.span().start, d.code));
    diags
}

fn run_fmt(paths: &[PathBuf], check_only: bool) -> ExitCode {
    let files = match collect_rule_files(paths) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    let mut failed = false;
    for f in &files {
        let name = f.display().to_string();
        let text = match read_text(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        match crate::fmt::format_source(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check_only {
                    eprintln!("{name}: not formatted");
                    failed = true;
                } else if let Err(e) = std::fs::write(f, formatted) {
                    eprintln!("error: cannot write `{name}`: {e}");
                    failed = true;
                }
            }
            Err(diags) => {
                failed = true;
                for d in diags {
                    eprintln!("{}", Report::new(d, &name, &text).render_plain(100));
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
