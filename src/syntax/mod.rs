//! Syntax: the pest grammar and the builder of the typed tree.

pub mod grammar;
mod parser;

pub use parser::parse_file;
