//! Syntax: the pest grammar and the builder of the typed tree.

pub mod grammar;
mod parser;

pub(crate) use parser::clock_secs;
pub use parser::parse_file;
