//! Bytes as a rule file: parsing, checking and compiling never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tariff::check::CheckOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let diags = tariff::cli::check_text(text, &CheckOptions::default());
    for d in &diags {
        // Every label points inside the text, so that it can be rendered.
        for (span, _) in &d.labels {
            assert!(span.start <= span.end && span.end <= text.len(), "{d:?}");
        }
    }
    if let Ok(file) = tariff::parse_file(text) {
        let _ = tariff::model::compile(&file, text, "fuzz.tariff");
    }
});
