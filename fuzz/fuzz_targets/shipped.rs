//! The four shipped rule files, compiled once: shared by the fuzz targets that evaluate.

use std::sync::OnceLock;

use tariff::model::{Model, compile};

const RULES: [(&str, &str); 4] = [
    (
        "aliyun-sms.tariff",
        include_str!("../../rules/aliyun-sms.tariff"),
    ),
    (
        "huawei-koomessage.tariff",
        include_str!("../../rules/huawei-koomessage.tariff"),
    ),
    (
        "tencent-ses.tariff",
        include_str!("../../rules/tencent-ses.tariff"),
    ),
    (
        "tencent-smop.tariff",
        include_str!("../../rules/tencent-smop.tariff"),
    ),
];

pub fn models() -> &'static [Model] {
    static M: OnceLock<Vec<Model>> = OnceLock::new();
    M.get_or_init(|| {
        RULES
            .iter()
            .map(|(name, text)| {
                let f = tariff::parse_file(text).expect("shipped rules parse");
                compile(&f, text, name).expect("shipped rules compile")
            })
            .collect()
    })
}
