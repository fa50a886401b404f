//! `tariff fmt`: every rule file and fixture formats stably without changing its meaning,
//! and snapshots of the layout of messy inputs.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tariff::ast::RuleFile;
use tariff::fmt::format_source;

fn tariff_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            tariff_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "tariff") {
            out.push(p);
        }
    }
}

/// Sets every span to 0..0: plain `Span` fields (unlike `Spanned`) take part in `==`.
fn zero_spans(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if m.len() == 2 && m.contains_key("start") && m.contains_key("end") {
                m.insert("start".into(), 0.into());
                m.insert("end".into(), 0.into());
            }
            m.values_mut().for_each(zero_spans);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(zero_spans),
        _ => {}
    }
}

/// The tree with its spans cleared, for comparing what two files say.
fn without_spans(f: &RuleFile) -> RuleFile {
    let mut v = serde_json::to_value(f).unwrap();
    zero_spans(&mut v);
    serde_json::from_value(v).unwrap()
}

/// Formats `src` twice and checks the result is stable, means the same and keeps every `#`.
fn check_round_trip(name: &str, src: &str) -> Result<String, String> {
    let Ok(ast) = tariff::parse_file(src) else {
        return Err(format!("{name}: does not parse"));
    };
    let once = format_source(src).map_err(|e| format!("{name}: {e:?}"))?;
    let reparsed = tariff::parse_file(&once)
        .map_err(|e| format!("{name}: output does not parse: {e:?}\n{once}"))?;
    if without_spans(&reparsed) != without_spans(&ast) {
        return Err(format!("{name}: formatting changed the meaning\n{once}"));
    }
    let twice = format_source(&once).map_err(|e| format!("{name}: {e:?}"))?;
    if twice != once {
        return Err(format!(
            "{name}: not idempotent\n--- once\n{once}\n--- twice\n{twice}"
        ));
    }
    // Comments are kept verbatim, strings and `pkg#1` too: the count of `#` cannot change.
    if once.matches('#').count() != src.matches('#').count() {
        return Err(format!("{name}: a comment was lost\n{once}"));
    }
    Ok(once)
}

#[test]
fn every_rule_file_and_fixture_round_trips() {
    let mut files = Vec::new();
    tariff_files(Path::new("rules"), &mut files);
    tariff_files(Path::new("tests/fixtures"), &mut files);
    files.sort();
    let mut checked = 0;
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        if tariff::parse_file(&src).is_err() {
            continue; // syntax-error fixtures
        }
        if let Err(e) = check_round_trip(&f.display().to_string(), &src) {
            panic!("{e}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} files checked");
}

#[test]
fn rules_are_formatted() {
    let mut files = Vec::new();
    tariff_files(Path::new("rules"), &mut files);
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        assert_eq!(
            format_source(&src).unwrap(),
            src,
            "{} is not formatted: run `tariff fmt rules/`",
            f.display()
        );
    }
}

#[test]
fn layout_snapshots() {
    insta::glob!("fixtures/fmt/*.tariff", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        insta::assert_snapshot!(format_source(&src).unwrap());
    });
}

#[test]
fn syntax_errors_come_back_as_diagnostics() {
    let diags = format_source("product p {\n  currency\n}\n").unwrap_err();
    assert_eq!(diags[0].code, "tariff::parse::syntax");
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(format_source("").unwrap(), "");
    assert_eq!(
        format_source("  # just a note  \n\n#another").unwrap(),
        "# just a note\n#another\n"
    );
}

#[test]
fn numbers_are_grouped_and_keep_their_digits() {
    let out =
        format_source("product p { param a = 1234567.500 email param b = 0123 param c = 12_34 }")
            .unwrap();
    assert!(out.contains("param a = 1_234_567.500 email"), "{out}");
    assert!(out.contains("param b = 123\n"), "{out}");
    assert!(out.contains("param c = 1_234\n"), "{out}");
}

#[test]
fn hash_in_a_subject_or_string_is_not_a_comment() {
    let src = "product p { example \"a # b\" { expect remaining pkg#1 = 0 } }";
    let out = format_source(src).unwrap();
    assert!(
        out.contains("example \"a # b\" {\n    expect remaining pkg#1 = 0\n  }"),
        "{out}"
    );
}

/// The positions of single spaces outside strings, on lines without a comment.
fn spaces(src: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in src.split_inclusive('\n') {
        if !line.contains('#') {
            let mut in_string = false;
            for (i, c) in line.char_indices() {
                match c {
                    '"' => in_string = !in_string,
                    ' ' if !in_string => out.push(at + i),
                    _ => {}
                }
            }
        }
        at += line.len();
    }
    out
}

const GAPS: [&str; 5] = ["   ", "\n", "\n\n      ", "\t", " \n "];

fn perturb(src: &str, edits: &[(prop::sample::Index, usize)], comments: bool) -> String {
    let pos = spaces(src);
    let mut repl: Vec<Option<String>> = vec![None; pos.len()];
    for (n, (i, k)) in edits.iter().enumerate() {
        let gap = match (comments, k % 2) {
            (false, _) => GAPS[k % GAPS.len()].to_string(),
            (true, 0) => format!("\n# note {n}\n"),
            (true, _) => format!(" # note {n}\n"),
        };
        repl[i.index(pos.len())] = Some(gap);
    }
    let mut out = String::new();
    let mut last = 0;
    for (p, r) in pos.iter().zip(repl) {
        if let Some(r) = r {
            out.push_str(&src[last..*p]);
            out.push_str(&r);
            last = p + 1;
        }
    }
    out.push_str(&src[last..]);
    out
}

/// Files whose every space outside strings and comment lines may be perturbed.
fn samples() -> impl Strategy<Value = String> {
    let files = [
        "rules/tencent-ses.tariff",
        "tests/fixtures/fmt/options.tariff",
    ];
    prop::sample::select(files.map(|f| std::fs::read_to_string(f).unwrap()).to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whitespace between tokens does not matter: the layout is the same.
    #[test]
    fn whitespace_does_not_change_the_layout(
        src in samples(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..5usize), 0..60),
    ) {
        let messy = perturb(&src, &edits, false);
        prop_assert_eq!(format_source(&messy).unwrap(), format_source(&src).unwrap());
    }

    /// Comments anywhere between tokens are kept, and the output is stable.
    #[test]
    fn comments_anywhere_are_kept(
        src in samples(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..2usize), 0..12),
    ) {
        let messy = perturb(&src, &edits, true);
        let out = check_round_trip("perturbed", &messy).map_err(TestCaseError::fail)?;
        for n in 0..edits.len() {
            let note = format!("# note {n}\n");
            prop_assert_eq!(out.matches(&note).count(), messy.matches(&note).count());
        }
    }
}
