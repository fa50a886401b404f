//! `tariff eval` from the command line: exit codes, the first bad line, and `--jobs`.

use std::process::Command;

fn tariff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tariff"))
}

fn write_trace(name: &str, lines: &[String]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tariff-cli-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn multi_account_lines(bad_at: Option<usize>) -> Vec<String> {
    (0..3000)
        .map(|i| {
            if Some(i) == bad_at {
                return r#"{"at":"2026-01-01T00:00:00+08:00","type":"usage","meter":"sms"}"#.to_string();
            }
            let secs = i * 97;
            let (d, h, m) = (1 + secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
            format!(
                r#"{{"at":"2026-01-{d:02}T{h:02}:{m:02}:{:02}+08:00","type":"usage","meter":"email","quantity":{},"account":"acct-{}"}}"#,
                secs % 60,
                i % 9 + 1,
                i % 17
            )
        })
        .collect()
}

#[test]
fn jobs_do_not_change_the_report() {
    let mut lines = multi_account_lines(Some(1500));
    lines.insert(
        10,
        r#"{"at":"2026-01-01T00:16:10+08:00","type":"topup","amount":"1","account":"acct-3"}"#
            .into(),
    );
    let p = write_trace("multi.jsonl", &lines);
    let run = |jobs: &str| {
        let out = tariff()
            .args(["eval", "rules/tencent-ses.tariff"])
            .arg(&p)
            .args(["--format", "json", "--keep-going", "--jobs", jobs])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("3"));
    let report: serde_json::Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(report["accounts"].as_array().unwrap().len(), 17);
    assert_eq!(report["invalid"][0]["line"], 1502);
}

#[test]
fn the_first_bad_line_stops_the_run() {
    let mut lines = multi_account_lines(Some(2000));
    lines[700] = "{not json".into();
    let p = write_trace("bad.jsonl", &lines);
    for jobs in ["1", "2"] {
        let out = tariff()
            .args(["eval", "rules/tencent-ses.tariff"])
            .arg(&p)
            .args(["--jobs", jobs])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "no report on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("tariff::trace::invalid_line"), "{err}");
        assert!(err.contains(":701:"), "names line 701: {err}");
    }
}

#[test]
fn command_line_errors_exit_2() {
    let out = tariff()
        .args([
            "eval",
            "rules/tencent-ses.tariff",
            "traces/example.jsonl",
            "--until",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tariff()
        .args([
            "eval",
            "rules/tencent-ses.tariff",
            "traces/example.jsonl",
            "--jobs",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tariff().args(["eval"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn until_is_inclusive_and_later_events_are_counted() {
    let out = tariff()
        .args([
            "eval",
            "rules/tencent-ses.tariff",
            "traces/example.jsonl",
            "--format",
            "json",
            "--until",
            "2026-01-03T09:00:00+08:00",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["after_until"], 1);
    assert_eq!(report["accounts"][0]["rejections"][0]["quantity"], "2000");
}

/// Runs `tariff eval` on the trace `p`, fed through a pipe that pauses for a second after the
/// first 100 lines (so reading outlasts the half second before progress shows); with
/// `terminal`, stderr is a terminal (`script` gives it one). Returns what stderr received.
fn eval_paused(p: &std::path::Path, jobs: &str, terminal: bool) -> String {
    let bin = env!("CARGO_BIN_EXE_tariff");
    let p = p.display();
    let pipeline = format!(
        "(head -n 100 '{p}'; sleep 1; tail -n +101 '{p}') | '{bin}' eval rules/tencent-ses.tariff - --format json --jobs {jobs} >/dev/null"
    );
    let out = if terminal {
        // stdout of `script` is what the terminal showed: here, only stderr.
        Command::new("script")
            .args(["-qec", &pipeline, "/dev/null"])
            .output()
            .expect("`script` (util-linux) runs a command on a terminal")
    } else {
        Command::new("sh").args(["-c", &pipeline]).output().unwrap()
    };
    assert!(out.status.success(), "{out:?}");
    if terminal {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

#[test]
fn progress_shows_on_a_terminal_and_nowhere_else() {
    let p = write_trace("progress.jsonl", &multi_account_lines(None));
    for jobs in ["1", "2"] {
        let shown = eval_paused(&p, jobs, true);
        assert!(
            shown.contains(" events read, ") && shown.contains(" events/s"),
            "{jobs} jobs: {shown:?}"
        );
        // The line is wiped at the end, leaving the terminal as it was.
        assert!(shown.ends_with("\r\x1b[2K"), "{jobs} jobs: {shown:?}");
        assert_eq!(eval_paused(&p, jobs, false), "", "{jobs} jobs");
    }
}
