//! tariff: a billing-rules language. Parse rule files, check them, and evaluate them over
//! usage traces, exactly.
#![warn(missing_docs)]

pub mod ast;
pub mod check;
pub mod cli;
pub mod diag;
pub mod driver;
mod evalcmd;
pub mod fmt;
pub mod r#gen;
pub mod syntax;

pub use syntax::parse_file;
pub mod eval;
pub mod examples;
pub mod model;
pub mod parallel;
mod scan;
pub mod time;
pub mod trace;
