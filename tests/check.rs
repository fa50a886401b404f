//! The checker against the fixture corpus: `err_*` files fail, `warn_*` files only warn,
//! `ok_*` files are clean, and every diagnostic is snapshotted as a person reads it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tariff::check::CheckOptions;
use tariff::cli::check_text;
use tariff::diag::{Diag, Report, Severity};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

fn opts() -> CheckOptions {
    CheckOptions {
        source_dirs: vec![fixtures().join("sources")],
    }
}

fn render(name: &str, text: &str, diags: &[Diag]) -> String {
    if diags.is_empty() {
        return "(no diagnostics)\n".into();
    }
    diags
        .iter()
        .map(|d| Report::new(d.clone(), name, text).render_plain(80))
        .collect::<Vec<_>>()
        .join("\n")
}

fn codes(diags: &[Diag]) -> BTreeSet<&'static str> {
    diags.iter().map(|d| d.code).collect()
}

#[test]
fn fixtures_snapshot_and_classify() {
    let mut count = 0;
    insta::glob!("fixtures/check/*.tariff", |path| {
        count += 1;
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let diags = check_text(&text, &opts());
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if name.starts_with("err_") {
            assert!(
                errors > 0,
                "{name}: expected an error, got {:?}",
                codes(&diags)
            );
        } else if name.starts_with("warn_") {
            assert!(
                errors == 0 && !diags.is_empty(),
                "{name}: expected only warnings, got {:?}",
                codes(&diags)
            );
        } else {
            assert!(
                name.starts_with("ok_"),
                "{name}: fixtures are err_*, warn_* or ok_*"
            );
            assert!(
                diags.is_empty(),
                "{name}: expected no diagnostics, got {:?}",
                codes(&diags)
            );
        }
        for d in &diags {
            assert!(!d.labels.is_empty(), "{name}: `{}` has no label", d.code);
            assert!(d.help.is_some(), "{name}: `{}` has no help", d.code);
            assert!(
                !d.message.contains('\n'),
                "{name}: `{}` message is not one line",
                d.code
            );
        }
        insta::with_settings!({ description => text.trim_end(), omit_expression => true }, {
            insta::assert_snapshot!(render(&name, &text, &diags));
        });
    });
    assert!(count >= 50, "only {count} fixtures");
}

/// Every failing fixture shows a diagnostic no other fixture shows alone. The parser has one
/// code for every syntax error, so its fixtures are exempt.
#[test]
fn each_err_fixture_is_a_distinct_diagnostic() {
    let mut seen: BTreeMap<BTreeSet<&'static str>, String> = BTreeMap::new();
    let mut errs = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("err_") || name.starts_with("warn_")) || !name.ends_with(".tariff") {
            continue;
        }
        errs += usize::from(name.starts_with("err_"));
        let text = std::fs::read_to_string(&path).unwrap();
        let set = codes(&check_text(&text, &opts()));
        if set.iter().all(|c| c.starts_with("tariff::parse::")) {
            continue;
        }
        if let Some(other) = seen.insert(set.clone(), name.clone()) {
            panic!("{name} and {other} both report exactly {set:?}");
        }
    }
    assert!(errs >= 45, "only {errs} err_* fixtures");
}

fn check_src(src: &str) -> BTreeSet<&'static str> {
    codes(&check_text(src, &opts()))
}

/// A valid product around `body`.
fn product(body: &str) -> String {
    format!(
        "product p {{\n currency USD\n timezone UTC\n meter email\n meter user\n price payg: 1 USD per email\n\
         resource r0: 1 USD per month, lifecycle l\n lifecycle l {{ state a: usable\n state b: final\n a -> b at expiry }}\n{body}\n}}\n"
    )
}

#[test]
fn variants_of_fixture_diagnostics() {
    let cases: &[(&str, &str)] = &[
        ("timezone +15:00", "tariff::check::bad_timezone"),
        ("timezone -08:75", "tariff::check::bad_timezone"),
        ("bill usage: daily at 24:00", "tariff::check::bad_clock"),
        (
            "bill usage: monthly on day 0 at 08:00",
            "tariff::check::bad_day",
        ),
        (
            "limit email: 10 user per day",
            "tariff::check::unit_mismatch",
        ),
        (
            "param lim = 10 user\n limit email: lim per day",
            "tariff::check::unit_mismatch",
        ),
        (
            "price t: email, graduated by event quantity { first 10 user: 1 USD per email\n above 10 email: free }",
            "tariff::check::unit_mismatch",
        ),
        (
            "package k: 5 email for 1 USD, lifecycle l\n pack pk: 10 user each, lifecycle l, priced by purchase size graduated { 1 to 5 users: 1 USD per pk\n 6 pks or more: 1 USD per pk }",
            "tariff::check::unit_mismatch",
        ),
        (
            "package k: 5 email for 1 USD, valid 0 days, lifecycle l",
            "tariff::check::non_positive",
        ),
        (
            "price blk: 5 USD per block of 0 email",
            "tariff::check::non_positive",
        ),
        (
            "pack pk: 0 user each, lifecycle l",
            "tariff::check::non_positive",
        ),
        (
            "resource r: 1 USD per month, round to 0.000 up per line, lifecycle l",
            "tariff::check::bad_rounding",
        ),
        (
            "lifecycle m { state x: usable\n x -> x when k enters y }",
            "tariff::check::unknown_item",
        ),
        (
            "package k: 5 email for 1 USD, lifecycle l\n lifecycle m { state x: usable\n x -> x when k enters z }",
            "tariff::check::unknown_state",
        ),
        (
            "example \"e\" { 2026-01-01 usage 5 email where color = red\n expect bills = 0 }",
            "tariff::check::unknown_dim",
        ),
        (
            "example \"e\" { 2026-01-01 25:00 usage 5 email\n expect bills = 0 }",
            "tariff::check::bad_clock",
        ),
        (
            "example \"e\" { 2026-13-01 usage 5 email\n expect bills = 0 }",
            "tariff::check::bad_date",
        ),
        (
            "example \"e\" { 2026-01-01 usage 5 sms\n expect bills = 0 }",
            "tariff::check::unknown_meter",
        ),
        (
            "example \"e\" { 2026-01-01 topup 5 EUR\n expect bills = 0 }",
            "tariff::check::currency_mismatch",
        ),
        (
            "example \"e\" { 2026-01-01 renew nothing#2\n expect bills = 0 }",
            "tariff::check::unknown_item",
        ),
        (
            "example \"e\" { 2026-01-01 usage 5 email\n expect alerts nope = 1 }",
            "tariff::check::unknown_alert",
        ),
        (
            "lifecycle service { state up\n state down: final\n up -> down on unpaid bill }\n example \"e\" { 2026-01-01 usage 5 email\n expect state service = gone }",
            "tariff::check::unknown_state",
        ),
        (
            "param p = 10 email\n limit email: p per day\n example \"e\" { 2026-01-01 set p = on\n expect bills = 0 }",
            "tariff::check::param_type_mismatch",
        ),
        (
            "param plan = payg\n trigger t: when 1 days before expiry of packages, purchase plan from balance",
            "tariff::check::not_purchasable",
        ),
        (
            "draw email: payg, then payg",
            "tariff::check::duplicate_draw_source",
        ),
        (
            "draw email: nothing_here, then payg",
            "tariff::check::unknown_item",
        ),
        (
            "free_tier f: 5 email once per account, lifecycle nope\n draw email: f, then payg",
            "tariff::check::unknown_lifecycle",
        ),
    ];
    for (body, code) in cases {
        let src = if body.starts_with("timezone") {
            product("").replacen("timezone UTC", body, 1)
        } else {
            product(body)
        };
        let got = check_src(&src);
        assert!(got.contains(code), "`{body}`: expected {code}, got {got:?}");
    }
    assert!(
        check_src(&product("")).is_empty(),
        "{:?}",
        check_src(&product(""))
    );
}

#[test]
fn misspelt_names_get_suggestions() {
    let diags = check_text(&product("limit emial: 5 email per day"), &opts());
    let d = diags
        .iter()
        .find(|d| d.code == "tariff::check::unknown_meter")
        .expect("unknown meter");
    assert_eq!(d.help.as_deref(), Some("did you mean `email`?"));
    assert_eq!(d.message, "unknown meter `emial`");
}

#[test]
fn every_problem_in_one_run() {
    let src = product(
        "limit emial: 5 email per day\n price payg: 2 EUR per email\n bill usage: daily at 24:00\n \
         example \"e\" { 2026-02-30 usage 5 email\n expect bills = 0 }",
    );
    let got = check_src(&src);
    for code in [
        "tariff::check::unknown_meter",
        "tariff::check::duplicate_price",
        "tariff::check::currency_mismatch",
        "tariff::check::bad_clock",
        "tariff::check::bad_date",
    ] {
        assert!(got.contains(code), "expected {code} in {got:?}");
    }
}

#[test]
fn hostile_files_do_not_panic_or_crawl() {
    // 10,000 declarations, each misspelt or duplicated.
    let mut body = String::new();
    for i in 0..10_000 {
        body.push_str(&format!(
            "meter m{i}\n limit mx{i}: 5 m{i} per day\n param p{} = 5 m{i}\n",
            i % 100
        ));
    }
    let start = std::time::Instant::now();
    let diags = check_text(&product(&body), &opts());
    assert!(diags.len() > 10_000);
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());

    // Huge numbers everywhere.
    let big = "79_228_162_514_264_337_593_543_950_335";
    let src = product(&format!(
        "package k: {big} email for {big} USD, valid {big} years, lifecycle l\n \
         price t: email, graduated by event quantity {{ first {big} email: {big} USD per email\n {big} email or more: free\n 0 to {big} email: free }}\n \
         bill b: monthly on day {big} at 99:99\n \
         lifecycle m {{ state x: usable\n x -> x after {big} hours }}\n \
         example \"e\" {{ 9999-99-99 99:99:99 usage {big} email\n until 0000-00-00\n expect remaining k#79228162514264337593543950335 = {big} }}"
    ));
    let got = check_src(&src);
    assert!(got.contains("tariff::check::duration_too_long"), "{got:?}");
    assert!(got.contains("tariff::check::bad_day"), "{got:?}");

    // Arbitrary text never panics.
    for s in [
        "",
        "}",
        "product",
        "product p {",
        "product p { meter }",
        "\u{0}\u{ffff}",
        "product p { lifecycle l { a -> b on renew } }",
    ] {
        let _ = check_text(s, &opts());
    }
}

#[test]
fn assumptions_are_listed() {
    let text = std::fs::read_to_string(fixtures().join("ok_everything.tariff")).unwrap();
    let file = tariff::parse_file(&text).unwrap();
    let got: Vec<String> = tariff::check::assumptions(&file)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        got,
        vec![
            "meter call (no source prices calls)".to_string(),
            "package plan_5k_capped: 5000 sms for 190 CNY".to_string()
        ]
    );
}
