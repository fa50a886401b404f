#[test]
fn smoke() {
    let src = std::fs::read_to_string("rules/tencent-ses.tariff").unwrap();
    match tariff::parse_file(&src) {
        Ok(f) => assert_eq!(f.products.len(), 1),
        Err(e) => panic!("{:?}", e),
    }
}
