//! The shipped rule files: each passes `check` (with its sources) and its own examples.

use std::path::PathBuf;

use tariff::check::CheckOptions;

fn rule_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("rules")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tariff"))
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

#[test]
fn rule_files_pass_check() {
    let seeds = PathBuf::from("../shared/seeds");
    for f in rule_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut opts = CheckOptions {
            source_dirs: vec![PathBuf::from("rules")],
        };
        if seeds.is_dir() {
            opts.source_dirs.push(seeds.clone());
        }
        let mut diags = tariff::cli::check_text(&text, &opts);
        if !seeds.is_dir() {
            // Outside the workplace the cited pages are not beside the checkout.
            diags.retain(|d| d.code != "tariff::lint::source_not_found");
        }
        let shown: Vec<String> = diags
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        assert!(
            diags.is_empty(),
            "{} has diagnostics:\n{}",
            f.display(),
            shown.join("\n")
        );
    }
}

#[test]
fn rule_file_examples_pass() {
    for f in rule_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.display().to_string();
        let file = tariff::parse_file(&text).unwrap();
        let m = tariff::model::compile(&file, &text, &name).unwrap();
        assert!(
            m.examples.len() >= 8,
            "{name} has only {} examples",
            m.examples.len()
        );
        for (ex, rule) in &m.examples {
            if let Err(p) = tariff::examples::run_example(&m, ex) {
                panic!("{rule} `{}` fails:\n{}", ex.name.node, p.join("\n"));
            }
        }
    }
}
