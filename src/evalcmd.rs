//! `tariff eval` and `tariff test`: reading files and printing reports.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use rust_decimal::Decimal;

use crate::check::CheckOptions;
use crate::cli::{check_text, collect_rule_files, read_text};
use crate::diag::{Diag, Report as DiagReport, Severity};
use crate::driver::{Options, Stop};
use crate::model::{Model, compile};

/// Arguments of `tariff eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The rule file.
    pub rules: PathBuf,
    /// The trace (JSON Lines), or `-` for standard input.
    pub trace: String,
    /// Evaluate up to this instant (RFC 3339), inclusive.
    #[arg(long)]
    pub until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Track every account's balance from the start with this amount.
    #[arg(long, value_name = "AMOUNT")]
    pub opening_balance: Option<String>,
    /// List bad lines under `invalid` and evaluate the rest.
    #[arg(long)]
    pub keep_going: bool,
    /// Worker threads (default: all cores); accounts are spread over them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Only read and parse every line into events (a benchmark floor); print the count.
    #[arg(long, hide = true)]
    pub parse_only: bool,
    /// Carry out every event on the general path (no fast lane); the report is the same.
    #[arg(long, hide = true)]
    pub no_fast_lane: bool,
}

/// Report formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// For people.
    Table,
    /// The machine contract.
    Json,
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads, checks and compiles a rule file, printing diagnostics; `None` if it is not usable.
pub fn load_model(path: &Path) -> Option<Model> {
    let name = path.display().to_string();
    let text = match read_text(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    let mut opts = CheckOptions::default();
    if let Some(d) = path.parent() {
        opts.source_dirs.push(d.to_path_buf());
    }
    let diags: Vec<Diag> = check_text(&text, &opts)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let file = match crate::parse_file(&text) {
        Ok(f) if diags.is_empty() => f,
        Ok(_) | Err(_) => {
            for d in diags {
                eprintln!("{}", DiagReport::new(d, &name, &text).render(color()));
            }
            return None;
        }
    };
    match compile(&file, &text, &name) {
        Ok(m) => Some(m),
        Err(ds) => {
            for d in ds {
                eprintln!("{}", DiagReport::new(d, &name, &text).render(color()));
            }
            None
        }
    }
}

/// Runs `tariff eval`.
pub fn run(args: EvalArgs) -> ExitCode {
    let until = match args
        .until
        .as_deref()
        .map(chrono::DateTime::parse_from_rfc3339)
        .transpose()
    {
        Ok(u) => u.map(|t| crate::time::Instant::from_chrono(&t)),
        Err(e) => {
            eprintln!("error: --until must be an RFC 3339 time with offset: {e}");
            return ExitCode::from(2);
        }
    };
    let opening = match args
        .opening_balance
        .as_deref()
        .map(|s| s.parse::<Decimal>())
        .transpose()
    {
        Ok(o) => o,
        Err(_) => {
            eprintln!("error: --opening-balance must be a decimal amount");
            return ExitCode::from(2);
        }
    };
    let input: Box<dyn Read + Send> = if args.trace == "-" {
        Box::new(std::io::stdin())
    } else {
        match std::fs::File::open(&args.trace) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", args.trace);
                return ExitCode::from(1);
            }
        }
    };
    let Some(model) = load_model(&args.rules) else {
        return ExitCode::from(1);
    };
    if args.parse_only {
        return parse_only(&model, input);
    }
    let opts = Options {
        until,
        opening,
        keep_going: args.keep_going,
        no_fast_lane: args.no_fast_lane,
    };
    let trace_name = if args.trace == "-" {
        "<stdin>".to_string()
    } else {
        args.trace.clone()
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let report = match crate::parallel::eval_stream(&model, &opts, input, jobs) {
        Ok(r) => r,
        Err(f) => {
            report_stop(&f.stop, &trace_name, &f.text);
            return ExitCode::from(1);
        }
    };
    let out = match args.format {
        ReportFormat::Json => report.to_json(),
        ReportFormat::Table => report.to_table(),
    };
    let stdout = std::io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    let _ = writeln!(w, "{}", out.trim_end());
    let _ = w.flush();
    if !report.invalid.is_empty() {
        eprintln!(
            "{} invalid line(s) in `{trace_name}` (listed under `invalid`)",
            report.invalid.len()
        );
    }
    ExitCode::SUCCESS
}

/// Reads and parses every line, nothing else: how fast evaluation could possibly be.
fn parse_only(model: &Model, input: Box<dyn Read + Send>) -> ExitCode {
    match crate::parallel::parse_stream(model, input) {
        Ok((events, bad)) => {
            eprintln!("parsed {events} event(s), {bad} bad line(s)");
            ExitCode::SUCCESS
        }
        Err(f) => {
            report_stop(&f.stop, "<trace>", &f.text);
            ExitCode::from(1)
        }
    }
}

/// Prints why a run stopped, as a diagnostic on the offending line.
fn report_stop(stop: &Stop, trace: &str, raw: &[u8]) {
    match stop {
        Stop::Line(line, e) => {
            let text = String::from_utf8_lossy(raw)
                .trim_end_matches(['\n', '\r'])
                .chars()
                .take(2000)
                .collect::<String>();
            let span = e
                .field
                .and_then(|f| {
                    text.find(&format!("\"{f}\""))
                        .map(|p| crate::ast::Span::new(p, p + f.len() + 2))
                })
                .unwrap_or(crate::ast::Span::new(0, text.len().min(1)));
            let d = Diag::error("tariff::trace::invalid_line", format!("{trace}:{line}: {e}"))
                .label(span, e.field.map(|f| format!("`{f}`")).unwrap_or_else(|| "this line".into()))
                .help("fix the line, or pass --keep-going to list bad lines under `invalid` and evaluate the rest");
            eprintln!(
                "{}",
                DiagReport::new(d, &format!("{trace}:{line}"), &text).render(color())
            );
        }
        Stop::Eval(e) => {
            let mut msg = e.message.clone();
            if let Some(l) = e.line {
                msg = format!("{trace}:{l}: {msg}");
            }
            let mut d = Diag::error("tariff::eval::overflow", msg);
            if let Some(r) = &e.rule {
                d = d.help(format!(
                    "the rule at {r} produced it; check its amounts and the trace's quantities"
                ));
            }
            eprintln!(
                "error[{}]: {}{}",
                d.code,
                d.message,
                d.help.map(|h| format!("\n  help: {h}")).unwrap_or_default()
            );
        }
    }
}

/// Runs `tariff test`.
pub fn run_tests(paths: &[PathBuf]) -> ExitCode {
    let files = match collect_rule_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for f in &files {
        let Some(model) = load_model(f) else {
            failed += 1;
            continue;
        };
        for (ex, rule) in &model.examples {
            match crate::examples::run_example(&model, ex) {
                Ok(()) => {
                    passed += 1;
                    println!("ok      {rule}  {}", ex.name.node);
                }
                Err(problems) => {
                    failed += 1;
                    println!("FAILED  {rule}  {}", ex.name.node);
                    for p in problems {
                        println!("        {p}");
                    }
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
