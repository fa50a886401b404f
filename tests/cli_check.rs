//! `tariff check` from the command line: output formats, exit codes, `--deny warnings`,
//! `--assumptions`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check")
        .join(name)
        .display()
        .to_string()
}

fn sources() -> String {
    fixture("sources")
}

fn tariff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tariff"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs tariff")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exit_codes() {
    let ok = fixture("ok_everything.tariff");
    let err = fixture("err_unknown_meter.tariff");
    let warn = fixture("warn_unused_param.tariff");
    let src = sources();
    assert_eq!(code(&tariff(&["check", &ok, "--sources", &src])), 0);
    assert_eq!(code(&tariff(&["check", &err, "--sources", &src])), 1);
    assert_eq!(code(&tariff(&["check", &warn, "--sources", &src])), 0);
    assert_eq!(
        code(&tariff(&[
            "check",
            &warn,
            "--sources",
            &src,
            "--deny",
            "warnings"
        ])),
        1
    );
    assert_eq!(
        code(&tariff(&[
            "check",
            &ok,
            "--sources",
            &src,
            "--deny",
            "warnings"
        ])),
        0
    );
    assert_eq!(code(&tariff(&["check", "no/such/file.tariff"])), 2);
    assert_eq!(code(&tariff(&["check", &ok, "--format", "yaml"])), 2);
    assert_eq!(code(&tariff(&["check"])), 2);
}

#[test]
fn human_format_goes_to_stderr_with_a_summary() {
    let o = tariff(&["check", &fixture("err_unknown_meter.tariff")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tariff::check::unknown_meter"), "{err}");
    assert!(err.contains("did you mean `email`?"), "{err}");
    assert!(
        err.contains("checked 1 file(s): 1 error(s), 0 warning(s)"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn json_format_is_one_object_per_line() {
    let o = tariff(&[
        "check",
        &fixture("err_unknown_param.tariff"),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&o));
    for v in &lines {
        for key in [
            "code", "severity", "file", "line", "column", "message", "help",
        ] {
            assert!(v.get(key).is_some(), "missing `{key}` in {v}");
        }
        assert!(
            v["file"]
                .as_str()
                .unwrap()
                .ends_with("err_unknown_param.tariff")
        );
    }
    let err = lines
        .iter()
        .find(|v| v["severity"] == "error")
        .expect("an error");
    assert_eq!(err["code"], "tariff::check::unknown_param");
    assert_eq!(err["message"], "unknown param `daly_limit`");
    assert_eq!(err["help"], "did you mean `daily_limit`?");
    assert_eq!(
        (err["line"].as_u64(), err["column"].as_u64()),
        (Some(27), Some(16))
    );
    let warn = lines
        .iter()
        .find(|v| v["severity"] == "warning")
        .expect("a warning");
    assert_eq!(warn["code"], "tariff::lint::unused_param");
}

#[test]
fn json_format_is_empty_for_a_clean_file() {
    let o = tariff(&[
        "check",
        &fixture("ok_everything.tariff"),
        "--format",
        "json",
        "--sources",
        &sources(),
    ]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "");
}

#[test]
fn github_format_is_an_annotation_per_line() {
    let o = tariff(&[
        "check",
        &fixture("err_unknown_param.tariff"),
        "--format",
        "github",
    ]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().any(|l| l.starts_with("::error file=")
        && l.contains(
            ",line=27,col=16,title=tariff::check::unknown_param::unknown param `daly_limit`"
        )));
    assert!(
        lines.iter().any(|l| l.starts_with("::warning file=")
            && l.contains("title=tariff::lint::unused_param::"))
    );
}

#[test]
fn directories_are_walked() {
    let dir = std::env::temp_dir().join(format!("tariff-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::copy(fixture("ok_minimal.tariff"), dir.join("a.tariff")).unwrap();
    std::fs::copy(fixture("err_bad_date.tariff"), dir.join("sub/b.tariff")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a rule file").unwrap();
    let o = tariff(&["check", dir.to_str().unwrap(), "--format", "json"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("tariff::check::bad_date") && out.contains("b.tariff"),
        "{out}"
    );
}

#[test]
fn assumptions_are_listed_with_positions() {
    let f = fixture("ok_everything.tariff");
    let o = tariff(&["check", &f, "--assumptions", "--sources", &sources()]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("{f}:11:3: assumed: meter call (no source prices calls)"),
            format!("{f}:16:3: assumed: package plan_5k_capped: 5000 sms for 190 CNY"),
        ],
    );
}

#[test]
fn citations_use_the_sources_directory() {
    let f = fixture("ok_cited.tariff");
    // Without the directory, the documents are missing: a warning, not an error.
    let o = tariff(&["check", &f, "--format", "json"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("tariff::lint::source_not_found"));
    assert_eq!(code(&tariff(&["check", &f, "--deny", "warnings"])), 1);
    assert_eq!(
        code(&tariff(&[
            "check",
            &f,
            "--sources",
            &sources(),
            "--deny",
            "warnings"
        ])),
        0
    );
    let bad = fixture("err_citation_not_found.tariff");
    assert_eq!(code(&tariff(&["check", &bad, "--sources", &sources()])), 1);
}

#[test]
fn a_byte_order_mark_is_not_part_of_a_rule_file() {
    let dir = std::env::temp_dir().join(format!("tariff-cli-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bom.tariff");
    let text = std::fs::read_to_string(format!(
        "{}/rules/tencent-ses.tariff",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
    let o = tariff(&["check", path.to_str().unwrap(), "--sources", &sources()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}
