//! Helpers shared by the integration tests.
#![allow(dead_code)]

use tariff::driver::{Options, Run, Stop};
use tariff::eval::report::Report;
use tariff::model::{Model, compile};

/// Parses and compiles rule text; panics with the diagnostics if it does not.
pub fn model(text: &str, name: &str) -> Model {
    let file = tariff::parse_file(text).unwrap_or_else(|d| panic!("{name} does not parse: {d:?}"));
    compile(&file, text, name).unwrap_or_else(|d| panic!("{name} does not compile: {d:?}"))
}

/// Evaluates a trace given as text.
pub fn eval(m: &Model, trace: &str, opts: Options) -> Result<Report, Stop> {
    let mut run = Run::new(m, opts);
    for (i, line) in trace.lines().enumerate() {
        run.line(line, i as u64 + 1)?;
    }
    run.finish()
}
