//! A parseable rule file: formatting keeps its meaning and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tariff::ast::RuleFile;

/// The tree with every span zeroed (plain `span` fields compare by value).
fn unspanned(f: &RuleFile) -> RuleFile {
    fn zero(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                let is_span = o.len() == 2
                    && o.get("start").is_some_and(|x| x.is_u64())
                    && o.get("end").is_some_and(|x| x.is_u64());
                if is_span {
                    o.insert("start".into(), 0.into());
                    o.insert("end".into(), 0.into());
                } else {
                    o.values_mut().for_each(zero);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(zero),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(f).expect("the tree serialises");
    zero(&mut v);
    serde_json::from_value(v).expect("the tree deserialises")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(before) = tariff::parse_file(text) else {
        return;
    };
    let once = match tariff::fmt::format_source(text) {
        Ok(s) => s,
        Err(d) => panic!("a parseable file does not format: {d:?}"),
    };
    let after = match tariff::parse_file(&once) {
        Ok(f) => f,
        Err(d) => panic!("the formatted file does not parse: {d:?}\n---\n{once}"),
    };
    assert!(
        unspanned(&before) == unspanned(&after),
        "formatting changed the meaning\n--- input\n{text}\n--- formatted\n{once}"
    );
    let twice = tariff::fmt::format_source(&once).expect("formatted text formats");
    assert_eq!(once, twice, "formatting is not idempotent");
});
