//! The pest parser generated from `grammar/tariff.pest`.
#![allow(missing_docs)]

/// Parser for the tariff language; `Rule` names the grammar's rules.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/tariff.pest"]
pub struct TariffParser;
