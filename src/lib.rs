//! tariff: a billing-rules language. Parse rule files, check them, and evaluate them over
//! usage traces, exactly.

pub mod ast;
pub mod diag;
pub mod syntax;

pub use syntax::parse_file;
