//! Parsing: rule-file text in, typed syntax tree ([`RuleFile`]) or diagnostics out.

use pest::Parser;
use pest::iterators::Pair;
use rust_decimal::Decimal;

use super::grammar::{Rule, TariffParser};
use crate::ast::*;
use crate::diag::Diag;

type P<'a> = Pair<'a, Rule>;

/// Parses a whole rule file.
pub fn parse_file(src: &str) -> Result<RuleFile, Vec<Diag>> {
    let pairs = TariffParser::parse(Rule::file, src).map_err(|e| vec![syntax_error(e, src)])?;
    let mut b = Builder { errors: Vec::new() };
    let mut products = Vec::new();
    for p in pairs.flatten().filter(|p| p.as_rule() == Rule::product) {
        products.push(b.product(p));
    }
    if b.errors.is_empty() {
        Ok(RuleFile { products })
    } else {
        Err(b.errors)
    }
}

fn is_kw(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_above
            | Rule::kw_account
            | Rule::kw_after
            | Rule::kw_alert
            | Rule::kw_alerts
            | Rule::kw_and
            | Rule::kw_assumed
            | Rule::kw_at
            | Rule::kw_balance
            | Rule::kw_before
            | Rule::kw_bill
            | Rule::kw_billed
            | Rule::kw_bills
            | Rule::kw_block
            | Rule::kw_by
            | Rule::kw_cap
            | Rule::kw_charge
            | Rule::kw_charged
            | Rule::kw_cite
            | Rule::kw_count
            | Rule::kw_counted
            | Rule::kw_currency
            | Rule::kw_daily
            | Rule::kw_day
            | Rule::kw_days
            | Rule::kw_dim
            | Rule::kw_disable
            | Rule::kw_distinct
            | Rule::kw_down
            | Rule::kw_draw
            | Rule::kw_drops
            | Rule::kw_each
            | Rule::kw_earliest
            | Rule::kw_edition
            | Rule::kw_else
            | Rule::kw_empty
            | Rule::kw_enable
            | Rule::kw_enabled
            | Rule::kw_enters
            | Rule::kw_even
            | Rule::kw_event
            | Rule::kw_example
            | Rule::kw_expect
            | Rule::kw_expiry
            | Rule::kw_fails
            | Rule::kw_falls
            | Rule::kw_final
            | Rule::kw_first
            | Rule::kw_flat
            | Rule::kw_for
            | Rule::kw_fractional
            | Rule::kw_free
            | Rule::kw_free_tier
            | Rule::kw_from
            | Rule::kw_graduated
            | Rule::kw_half
            | Rule::kw_hour
            | Rule::kw_hourly
            | Rule::kw_if
            | Rule::kw_in
            | Rule::kw_item
            | Rule::kw_lifecycle
            | Rule::kw_limit
            | Rule::kw_line
            | Rule::kw_max
            | Rule::kw_meter
            | Rule::kw_min
            | Rule::kw_minimum
            | Rule::kw_month
            | Rule::kw_monthly
            | Rule::kw_more
            | Rule::kw_needs
            | Rule::kw_no
            | Rule::kw_none
            | Rule::kw_of
            | Rule::kw_off
            | Rule::kw_on
            | Rule::kw_once
            | Rule::kw_opening
            | Rule::kw_optional
            | Rule::kw_or
            | Rule::kw_outstanding
            | Rule::kw_pack
            | Rule::kw_package
            | Rule::kw_packages
            | Rule::kw_paid
            | Rule::kw_param
            | Rule::kw_partial
            | Rule::kw_past
            | Rule::kw_payg
            | Rule::kw_per
            | Rule::kw_percent
            | Rule::kw_periods
            | Rule::kw_price
            | Rule::kw_priced
            | Rule::kw_product
            | Rule::kw_prorated
            | Rule::kw_purchase
            | Rule::kw_quantity
            | Rule::kw_quota
            | Rule::kw_reaches
            | Rule::kw_refilled
            | Rule::kw_refund
            | Rule::kw_refundable
            | Rule::kw_refuse
            | Rule::kw_refuses
            | Rule::kw_rejected
            | Rule::kw_remaining
            | Rule::kw_renew
            | Rule::kw_renewal
            | Rule::kw_replaced
            | Rule::kw_replaces
            | Rule::kw_resets
            | Rule::kw_resource
            | Rule::kw_round
            | Rule::kw_set
            | Rule::kw_settled
            | Rule::kw_size
            | Rule::kw_source
            | Rule::kw_state
            | Rule::kw_subject
            | Rule::kw_subjects
            | Rule::kw_switch
            | Rule::kw_then
            | Rule::kw_timezone
            | Rule::kw_to
            | Rule::kw_topup
            | Rule::kw_trigger
            | Rule::kw_unbilled
            | Rule::kw_unpaid
            | Rule::kw_until
            | Rule::kw_up
            | Rule::kw_usable
            | Rule::kw_usage
            | Rule::kw_utc
            | Rule::kw_valid
            | Rule::kw_validity
            | Rule::kw_volume
            | Rule::kw_when
            | Rule::kw_where
            | Rule::kw_whole
            | Rule::kw_year
    )
}

/// The children of a pair, keywords left out.
fn kids(p: P<'_>) -> Vec<P<'_>> {
    p.into_inner().filter(|c| !is_kw(c.as_rule())).collect()
}

fn span(p: &P<'_>) -> Span {
    let s = p.as_span();
    // A rule that ends in `?` or `*` can take in the blanks and comments after it.
    let mut t = s.as_str();
    loop {
        t = t.trim_end();
        let line_start = t.rfind('\n').map_or(0, |i| i + 1);
        if line_start > 0 && t[line_start..].trim_start().starts_with('#') {
            t = &t[..line_start];
            continue;
        }
        break;
    }
    Span::new(s.start(), s.start() + t.len())
}

/// Whether a direct child of `p` is the token `r` (keywords included).
fn has(p: &P<'_>, r: Rule) -> bool {
    p.clone().into_inner().any(|c| c.as_rule() == r)
}

fn ident(p: P<'_>) -> Ident {
    Spanned {
        node: p.as_str().to_string(),
        span: span(&p),
    }
}

/// Names for grammar rules in messages: `number`, not `tier_between`.
fn rule_name(r: &Rule) -> String {
    let s = format!("{r:?}");
    let s = s.strip_prefix("kw_").map(|k| format!("`{k}`")).unwrap_or(s);
    match s.as_str() {
        "ident" => "a name".into(),
        "number" => "a number".into(),
        "string" => "a quoted string".into(),
        "currency" => "a currency code (`USD`)".into(),
        "product_id" => "a product id".into(),
        "EOI" => "end of file".into(),
        "decl" => "a declaration".into(),
        "clock" => "a time of day (`08:00`)".into(),
        "date" => "a date (`2026-01-31`)".into(),
        "utc_offset" => "an offset (`+08:00`)".into(),
        other => other.replace('_', " "),
    }
}

fn syntax_error(e: pest::error::Error<Rule>, src: &str) -> Diag {
    use pest::error::{ErrorVariant, InputLocation};
    let at = match e.location {
        InputLocation::Pos(p) => Span::new(p, p),
        InputLocation::Span((a, b)) => Span::new(a, b),
    };
    let (message, help) = match &e.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut want: Vec<String> = positives.iter().map(rule_name).collect();
            want.sort();
            want.dedup();
            let help = if want.is_empty() {
                "check the declaration against docs/language.md".to_string()
            } else {
                format!("expected {}", join_or(&want))
            };
            // A name was expected and a reserved word stands there: say so.
            let reserved = want
                .iter()
                .any(|w| w == "a name")
                .then(|| src.get(at.start..))
                .flatten()
                .and_then(|rest| TariffParser::parse(Rule::keyword, rest).ok())
                .and_then(|mut p| p.next())
                .map(|p| p.as_str().to_string());
            match reserved {
                Some(word) => (
                    format!("`{word}` is a reserved word and cannot be used as a name"),
                    format!("choose another name, e.g. `{word}_1`, or `my_{word}`"),
                ),
                None if negatives.contains(&Rule::keyword) => {
                    ("a reserved word cannot be used as a name".to_string(), help)
                }
                None => ("unexpected input".to_string(), help),
            }
        }
        ErrorVariant::CustomError { message } => (message.clone(), String::new()),
    };
    Diag::error("tariff::parse::syntax", message)
        .label(at, "here")
        .help(help)
}

fn join_or(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n if n > 8 => format!("{}, or one of {} others", items[..6].join(", "), n - 6),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

struct Builder {
    errors: Vec<Diag>,
}

impl Builder {
    fn number(&mut self, p: P<'_>) -> Spanned<Decimal> {
        let text: String = p.as_str().chars().filter(|c| *c != '_').collect();
        let sp = span(&p);
        let node = match Decimal::from_str_exact(&text) {
            Ok(d) => d,
            Err(_) => {
                self.errors.push(
                    Diag::error(
                        "tariff::parse::number",
                        format!("`{}` cannot be held exactly", p.as_str()),
                    )
                    .label(sp, "this number")
                    .help("numbers hold at most 28 significant digits; use fewer digits"),
                );
                Decimal::ZERO
            }
        };
        Spanned { node, span: sp }
    }

    fn string(&mut self, p: P<'_>) -> Spanned<String> {
        let sp = span(&p);
        let inner = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        Spanned {
            node: inner.replace("\\\"", "\"").replace("\\\\", "\\"),
            span: sp,
        }
    }

    fn product(&mut self, p: P<'_>) -> Product {
        let sp = span(&p);
        let mut id = None;
        let mut name = None;
        let mut decls = Vec::new();
        for c in kids(p) {
            match c.as_rule() {
                Rule::product_id => id = Some(ident(c)),
                Rule::string => name = Some(self.string(c)),
                Rule::decl => decls.push(self.decl(c)),
                _ => {}
            }
        }
        Product {
            id: id.unwrap_or(Spanned {
                node: String::new(),
                span: sp,
            }),
            name,
            decls,
            span: sp,
        }
    }

    fn decl(&mut self, p: P<'_>) -> Decl {
        let mut kind = None;
        let mut notes = Vec::new();
        let mut sp = span(&p);
        for c in kids(p) {
            match c.as_rule() {
                Rule::cite => {
                    let mut k = kids(c).into_iter();
                    let source = ident(k.next().expect("grammar: cite source"));
                    let quote = self.string(k.next().expect("grammar: cite quote"));
                    notes.push(Note::Cite { source, quote });
                }
                Rule::assumed => {
                    let s = span(&c);
                    let reason = kids(c).into_iter().next().map(|r| self.string(r));
                    notes.push(Note::Assumed { reason, span: s });
                }
                _ => {
                    sp = span(&c);
                    kind = Some(self.decl_kind(c));
                }
            }
        }
        Decl {
            kind: kind.expect("grammar: decl has a body"),
            notes,
            span: sp,
        }
    }

    fn decl_kind(&mut self, p: P<'_>) -> DeclKind {
        let rule = p.as_rule();
        let sp = span(&p);
        let k = kids(p);
        match rule {
            Rule::currency_decl => {
                DeclKind::Currency(ident(k.into_iter().next().expect("grammar")))
            }
            Rule::timezone_decl => {
                let tz = match k.into_iter().next() {
                    None => TzSpec::Named("UTC".into()),
                    Some(c) if c.as_rule() == Rule::utc_offset => {
                        TzSpec::Offset(offset_secs(c.as_str()))
                    }
                    Some(c) => TzSpec::Named(self.string(c).node),
                };
                DeclKind::Timezone(Spanned { node: tz, span: sp })
            }
            Rule::source_decl => {
                let mut k = k.into_iter();
                let alias = ident(k.next().expect("grammar"));
                let file = self.string(k.next().expect("grammar"));
                DeclKind::Source { alias, file }
            }
            Rule::meter_decl => DeclKind::Meter(self.meter(k)),
            Rule::free_tier_decl => {
                let mut m = FreeTier {
                    name: dummy(sp),
                    quota: dummy_qty(sp),
                    selector: None,
                    lifecycle: None,
                };
                for (i, c) in k.into_iter().enumerate() {
                    match c.as_rule() {
                        Rule::ident if i == 0 => m.name = ident(c),
                        Rule::quantity => m.quota = self.quantity(c),
                        Rule::selector => m.selector = Some(self.selector(c)),
                        Rule::lifecycle_ref => m.lifecycle = Some(self.lifecycle_ref(c)),
                        _ => {}
                    }
                }
                DeclKind::FreeTier(m)
            }
            Rule::package_decl => DeclKind::Package(self.package(k, sp)),
            Rule::edition_decl => DeclKind::Edition(self.edition(k, sp)),
            Rule::pack_decl => DeclKind::Pack(self.pack(k, sp)),
            Rule::resource_decl => DeclKind::Resource(self.resource(k, sp)),
            Rule::price_decl => DeclKind::Price(self.price(k, sp)),
            Rule::draw_decl => DeclKind::Draw(self.draw(k, sp)),
            Rule::limit_decl => DeclKind::Limit(self.limit(k, sp)),
            Rule::param_decl => DeclKind::Param(self.param(k, sp)),
            Rule::bill_decl => {
                let mut k = k.into_iter();
                let name = ident(k.next().expect("grammar"));
                let schedule = self.schedule(k.next().expect("grammar"));
                let rounding = k.next().map(|r| self.rounding(r));
                DeclKind::Bill(BillDecl {
                    name,
                    schedule,
                    rounding,
                })
            }
            Rule::lifecycle_decl => DeclKind::Lifecycle(self.lifecycle(k, sp)),
            Rule::trigger_decl => DeclKind::Trigger(self.trigger(k, sp)),
            Rule::alert_decl => {
                let mut k = k.into_iter();
                let name = ident(k.next().expect("grammar"));
                let c = k.next().expect("grammar");
                let on = if c.as_rule() == Rule::fails {
                    AlertOn::Fails(ident(kids(c).into_iter().next().expect("grammar")))
                } else {
                    AlertOn::Watch(self.watch(c))
                };
                DeclKind::Alert(Alert { name, on })
            }
            Rule::example_decl => DeclKind::Example(self.example(k, sp)),
            _ => unreachable!("grammar: unknown declaration {rule:?}"),
        }
    }

    fn meter(&mut self, k: Vec<P<'_>>) -> Meter {
        let mut it = k.into_iter();
        let name = ident(it.next().expect("grammar"));
        let mut m = Meter {
            name,
            dims: Vec::new(),
            distinct: false,
            fractional: false,
        };
        for c in it {
            match c.as_rule() {
                Rule::dim => {
                    let mut d = kids(c).into_iter();
                    let dn = ident(d.next().expect("grammar"));
                    let vals = d.next().map(ident_list).unwrap_or_default();
                    m.dims.push((dn, vals));
                }
                Rule::distinct => m.distinct = true,
                Rule::fractional => m.fractional = true,
                _ => {}
            }
        }
        m
    }

    fn package(&mut self, k: Vec<P<'_>>, sp: Span) -> Package {
        let mut m = Package {
            name: dummy(sp),
            quota: dummy_qty(sp),
            selector: None,
            price: dummy_money(sp),
            valid: None,
            refundable: None,
            past_quota: None,
            lifecycle: None,
        };
        for (i, c) in k.into_iter().enumerate() {
            match c.as_rule() {
                Rule::ident if i == 0 => m.name = ident(c),
                Rule::quantity => m.quota = self.quantity(c),
                Rule::selector => m.selector = Some(self.selector(c)),
                Rule::money => m.price = self.money(c),
                Rule::valid => m.valid = Some(self.duration(first(c))),
                Rule::no_refund => {
                    m.refundable = Some(Spanned {
                        node: false,
                        span: span(&c),
                    })
                }
                Rule::refundable => {
                    m.refundable = Some(Spanned {
                        node: true,
                        span: span(&c),
                    })
                }
                Rule::past_quota => {
                    let s = span(&c);
                    let node = if first(c).as_rule() == Rule::payg {
                        PastQuota::Payg
                    } else {
                        PastQuota::Refuse
                    };
                    m.past_quota = Some(Spanned { node, span: s });
                }
                Rule::lifecycle_ref => m.lifecycle = Some(self.lifecycle_ref(c)),
                _ => {}
            }
        }
        m
    }

    fn edition(&mut self, k: Vec<P<'_>>, sp: Span) -> Edition {
        let mut m = Edition {
            name: dummy(sp),
            fee: dummy_money(sp),
            period: None,
            valid: None,
            cap: None,
            replaces: None,
            refundable: None,
            lifecycle: None,
        };
        for (i, c) in k.into_iter().enumerate() {
            match c.as_rule() {
                Rule::ident if i == 0 => m.name = ident(c),
                Rule::money => m.fee = self.money(c),
                Rule::period => m.period = Some(self.period(c)),
                Rule::valid => m.valid = Some(self.duration(first(c))),
                Rule::cap => {
                    let mut it = kids(c).into_iter();
                    let base = self.quantity(it.next().expect("grammar"));
                    let per_pack = match (it.next(), it.next()) {
                        (Some(q), Some(p)) => Some((self.quantity(q), ident(p))),
                        _ => None,
                    };
                    m.cap = Some(Cap { base, per_pack });
                }
                Rule::replaces => m.replaces = Some(ident(first(c))),
                Rule::no_refund => {
                    m.refundable = Some(Spanned {
                        node: false,
                        span: span(&c),
                    })
                }
                Rule::refundable => {
                    m.refundable = Some(Spanned {
                        node: true,
                        span: span(&c),
                    })
                }
                Rule::lifecycle_ref => m.lifecycle = Some(self.lifecycle_ref(c)),
                _ => {}
            }
        }
        m
    }

    fn pack(&mut self, k: Vec<P<'_>>, sp: Span) -> Pack {
        let mut m = Pack {
            name: dummy(sp),
            size: dummy_qty(sp),
            needs: None,
            minimum: None,
            tiers: None,
            refundable: None,
            lifecycle: None,
        };
        for (i, c) in k.into_iter().enumerate() {
            match c.as_rule() {
                Rule::ident if i == 0 => m.name = ident(c),
                Rule::quantity => m.size = self.quantity(c),
                Rule::needs => {
                    let mut it = kids(c).into_iter();
                    let a = ident(it.next().expect("grammar"));
                    let b = ident(it.next().expect("grammar"));
                    m.needs = Some((a, b));
                }
                Rule::minimum_units => m.minimum = Some(self.quantity(first(c))),
                Rule::purchase_tiers => {
                    let mut it = kids(c).into_iter();
                    let mode = self.tier_mode(it.next().expect("grammar"));
                    m.tiers = Some(self.tiers(mode, it.next().expect("grammar")));
                }
                Rule::no_refund => {
                    m.refundable = Some(Spanned {
                        node: false,
                        span: span(&c),
                    })
                }
                Rule::refundable => {
                    m.refundable = Some(Spanned {
                        node: true,
                        span: span(&c),
                    })
                }
                Rule::lifecycle_ref => m.lifecycle = Some(self.lifecycle_ref(c)),
                _ => {}
            }
        }
        m
    }

    fn resource(&mut self, k: Vec<P<'_>>, sp: Span) -> Resource {
        let mut m = Resource {
            name: dummy(sp),
            fee: dummy_money(sp),
            period: Duration {
                count: Spanned {
                    node: Decimal::ONE,
                    span: sp,
                },
                unit: CalUnit::Month,
                span: sp,
            },
            prorated: false,
            billed: None,
            rounding: None,
            lifecycle: None,
        };
        for (i, c) in k.into_iter().enumerate() {
            match c.as_rule() {
                Rule::ident if i == 0 => m.name = ident(c),
                Rule::money => m.fee = self.money(c),
                Rule::period => m.period = self.period(c),
                Rule::prorated => m.prorated = true,
                Rule::billed => m.billed = Some(self.schedule(first(c))),
                Rule::rounding => m.rounding = Some(self.rounding(c)),
                Rule::lifecycle_ref => m.lifecycle = Some(self.lifecycle_ref(c)),
                _ => {}
            }
        }
        m
    }

    fn price(&mut self, k: Vec<P<'_>>, _sp: Span) -> Price {
        let mut it = k.into_iter();
        let name = ident(it.next().expect("grammar"));
        let body_pair = it.next().expect("grammar");
        let rule = body_pair.as_rule();
        let mut b = kids(body_pair).into_iter().peekable();
        let body = match rule {
            Rule::unit_price => {
                let price = self.money(b.next().expect("grammar"));
                let meter = ident(b.next().expect("grammar"));
                let selector = b.next().map(|s| self.selector(s));
                PriceBody::Unit {
                    price,
                    meter,
                    selector,
                }
            }
            Rule::block_price => {
                let price = self.money(b.next().expect("grammar"));
                let block = self.quantity(b.next().expect("grammar"));
                let selector = b.next().map(|s| self.selector(s));
                PriceBody::Block {
                    price,
                    block,
                    selector,
                }
            }
            Rule::percent_price => {
                let pc = b.next().expect("grammar");
                let percent = self.number(first(pc));
                let meter = ident(b.next().expect("grammar"));
                let mut selector = None;
                let mut fixed = None;
                for c in b {
                    match c.as_rule() {
                        Rule::selector => selector = Some(self.selector(c)),
                        Rule::money => fixed = Some(self.money(c)),
                        _ => {}
                    }
                }
                PriceBody::Percent {
                    percent,
                    meter,
                    selector,
                    fixed,
                }
            }
            Rule::tiered_price => {
                let meter = ident(b.next().expect("grammar"));
                let selector = if b.peek().map(|c| c.as_rule()) == Some(Rule::selector) {
                    b.next().map(|s| self.selector(s))
                } else {
                    None
                };
                let mode = self.tier_mode(b.next().expect("grammar"));
                let basis = self.basis(b.next().expect("grammar"));
                let table = self.tiers(mode, b.next().expect("grammar"));
                PriceBody::Tiered {
                    meter,
                    selector,
                    basis,
                    table,
                }
            }
            _ => unreachable!("grammar: price body"),
        };
        let mut bounds = Vec::new();
        for c in it {
            let s = span(&c);
            let is_min = c.as_rule() == Rule::min_charge;
            let mut ck = kids(c).into_iter();
            let amount = self.money(ck.next().expect("grammar"));
            let per = ck.next().map(|p| self.period(p));
            bounds.push(ChargeBound {
                is_min,
                amount,
                per,
                span: s,
            });
        }
        Price { name, body, bounds }
    }

    fn basis(&mut self, p: P<'_>) -> Basis {
        let s = span(&p);
        let mut k = kids(p).into_iter();
        match k.next() {
            Some(c) if c.as_rule() == Rule::calendar_unit => {
                let period = cal_unit(c.as_str());
                let meter = ident(k.next().expect("grammar"));
                let selector = k.next().map(|x| self.selector(x));
                Basis::Volume {
                    period,
                    meter,
                    selector,
                    span: s,
                }
            }
            _ => Basis::Event(s),
        }
    }

    fn tier_mode(&mut self, p: P<'_>) -> Spanned<TierMode> {
        let node = if p.as_str().starts_with("graduated") {
            TierMode::Graduated
        } else {
            TierMode::Volume
        };
        Spanned {
            node,
            span: span(&p),
        }
    }

    fn tiers(&mut self, mode: Spanned<TierMode>, p: P<'_>) -> TierTable {
        let s = span(&p);
        let mut tiers = Vec::new();
        for t in kids(p) {
            let ts = span(&t);
            let mut k = kids(t).into_iter();
            let range_p = first(k.next().expect("grammar"));
            let rr = range_p.as_rule();
            let mut rk = kids(range_p).into_iter();
            let range = match rr {
                Rule::tier_first => TierRange::First(self.quantity(rk.next().expect("grammar"))),
                Rule::tier_upto => TierRange::UpTo(self.quantity(rk.next().expect("grammar"))),
                Rule::tier_above => TierRange::Above(self.quantity(rk.next().expect("grammar"))),
                Rule::tier_or_more => TierRange::OrMore(self.quantity(rk.next().expect("grammar"))),
                _ => {
                    let a = self.number(rk.next().expect("grammar"));
                    TierRange::Between(a, self.quantity(rk.next().expect("grammar")))
                }
            };
            let price_p = k.next().expect("grammar");
            let ps = span(&price_p);
            let is_flat = has(&price_p, Rule::kw_flat);
            let mut pk = kids(price_p).into_iter();
            let price = match pk.next() {
                None => TierPrice::Free(ps),
                Some(m) => {
                    let money = self.money(m);
                    match pk.next() {
                        Some(u) => TierPrice::PerUnit(money, ident(u)),
                        None if is_flat => TierPrice::Flat(money),
                        None => TierPrice::Flat(money),
                    }
                }
            };
            let flat = k.next().map(|m| self.money(m));
            tiers.push(Tier {
                range,
                price,
                flat,
                span: ts,
            });
        }
        TierTable {
            mode,
            tiers,
            span: s,
        }
    }

    fn draw(&mut self, k: Vec<P<'_>>, _sp: Span) -> Draw {
        let mut it = k.into_iter().peekable();
        let meter = ident(it.next().expect("grammar"));
        let selector = if it.peek().map(|c| c.as_rule()) == Some(Rule::selector) {
            it.next().map(|s| self.selector(s))
        } else {
            None
        };
        let sources = it
            .map(|s| {
                let inner = first(s);
                match inner.as_rule() {
                    Rule::all_packages => DrawSource::Packages(span(&inner)),
                    Rule::payg => DrawSource::Payg(span(&inner)),
                    _ => DrawSource::Named(ident(inner)),
                }
            })
            .collect();
        Draw {
            meter,
            selector,
            sources,
        }
    }

    fn limit(&mut self, k: Vec<P<'_>>, _sp: Span) -> Limit {
        let mut it = k.into_iter();
        let tp = it.next().expect("grammar");
        let enable = tp.clone().into_inner().next().map(|x| x.as_rule()) == Some(Rule::kw_enable);
        let mut tk = kids(tp).into_iter();
        let target = if enable {
            LimitTarget::Enable(ident(tk.next().expect("grammar")))
        } else {
            let m = ident(tk.next().expect("grammar"));
            LimitTarget::Usage(m, tk.next().map(|s| self.selector(s)))
        };
        let amount = self.amount(first(it.next().expect("grammar")));
        let per_p = it.next().expect("grammar");
        let per = Spanned {
            node: cal_unit(per_p.as_str()),
            span: span(&per_p),
        };
        let partial = it.next().map(|m| Spanned {
            node: m.as_str() == "partial",
            span: span(&m),
        });
        Limit {
            target,
            amount,
            per,
            partial,
        }
    }

    fn amount(&mut self, p: P<'_>) -> Amount {
        match p.as_rule() {
            Rule::quantity => Amount::Quantity(self.quantity(p)),
            Rule::number => Amount::Number(self.number(p)),
            _ => Amount::Param(ident(p)),
        }
    }

    fn param(&mut self, k: Vec<P<'_>>, _sp: Span) -> Param {
        let mut it = k.into_iter();
        let name = ident(it.next().expect("grammar"));
        let mut m = Param {
            name,
            default: None,
            ty: None,
            optional: false,
        };
        for c in it {
            match c.as_rule() {
                Rule::value => m.default = Some(self.value(c)),
                Rule::param_type => {
                    let s = span(&c);
                    let node = match c.as_str() {
                        "switch" => ParamType::Switch,
                        "item" => ParamType::Item,
                        "percent" => ParamType::Percent,
                        _ => ParamType::Unit(ident(first(c))),
                    };
                    m.ty = Some(Spanned { node, span: s });
                }
                Rule::optional => m.optional = true,
                _ => {}
            }
        }
        m
    }

    fn value(&mut self, p: P<'_>) -> Spanned<Value> {
        let s = span(&p);
        let c = first(p);
        let node = match c.as_rule() {
            Rule::on => Value::Switch(true),
            Rule::off => Value::Switch(false),
            Rule::none => Value::None,
            Rule::percent => Value::Percent(self.number(first(c)).node),
            Rule::quantity => Value::Quantity(self.quantity(c)),
            Rule::money => Value::Money(self.money(c)),
            Rule::number => Value::Number(self.number(c).node),
            _ => Value::Name(c.as_str().to_string()),
        };
        Spanned { node, span: s }
    }

    fn schedule(&mut self, p: P<'_>) -> Spanned<Schedule> {
        let s = span(&p);
        let c = first(p);
        let node = match c.as_rule() {
            Rule::hourly => Schedule::Hourly,
            Rule::daily => Schedule::Daily(clock_secs(first(c).as_str())),
            _ => {
                let mut k = kids(c).into_iter();
                let day = self.number(k.next().expect("grammar"));
                let clock = clock_secs(k.next().expect("grammar").as_str());
                let day = u32::try_from(day.node.trunc().mantissa()).unwrap_or(u32::MAX);
                Schedule::Monthly(day, clock)
            }
        };
        Spanned { node, span: s }
    }

    fn rounding(&mut self, p: P<'_>) -> Rounding {
        let s = span(&p);
        let per_bill = has(&p, Rule::kw_bill);
        let mut k = kids(p).into_iter();
        let step = self.number(k.next().expect("grammar"));
        let mode_p = k.next().expect("grammar");
        let half = has(&mode_p, Rule::kw_half);
        let mode = match (half, has(&mode_p, Rule::kw_up), has(&mode_p, Rule::kw_even)) {
            (true, true, _) => RoundMode::HalfUp,
            (true, _, true) => RoundMode::HalfEven,
            (true, _, _) => RoundMode::HalfDown,
            (false, true, _) => RoundMode::Up,
            _ => RoundMode::Down,
        };
        Rounding {
            step,
            mode,
            per_bill,
            span: s,
        }
    }

    fn lifecycle_ref(&mut self, p: P<'_>) -> Ident {
        ident(first(p))
    }

    fn lifecycle(&mut self, k: Vec<P<'_>>, _sp: Span) -> Lifecycle {
        let mut it = k.into_iter();
        let name = ident(it.next().expect("grammar"));
        let mut lc = Lifecycle {
            name,
            states: Vec::new(),
            transitions: Vec::new(),
        };
        for c in it {
            if c.as_rule() == Rule::state_decl {
                let mut sk = kids(c).into_iter();
                let name = ident(sk.next().expect("grammar"));
                let attrs = sk
                    .map(|a| {
                        let s = span(&a);
                        let node = match first(a).as_rule() {
                            Rule::attr_usable => StateAttr::Usable,
                            Rule::attr_refuses => StateAttr::RefusesUsage,
                            Rule::attr_final => StateAttr::Final,
                            Rule::attr_drops => StateAttr::DropsQuota,
                            Rule::attr_resets => StateAttr::ResetsCount,
                            _ => StateAttr::Billed,
                        };
                        Spanned { node, span: s }
                    })
                    .collect();
                lc.states.push(StateDecl { name, attrs });
            } else {
                let ts = span(&c);
                let mut tk = kids(c).into_iter();
                let from = ident_list(tk.next().expect("grammar"));
                let to = ident(tk.next().expect("grammar"));
                let on_p = first(tk.next().expect("grammar"));
                let os = span(&on_p);
                let on = match on_p.as_rule() {
                    Rule::at_expiry => On::AtExpiry,
                    Rule::at_once => On::AtOnce,
                    Rule::after => On::After(self.duration(first(on_p))),
                    Rule::on_renew => On::Renew,
                    Rule::on_purchase => On::Purchase,
                    Rule::on_replaced => On::Replaced,
                    Rule::on_enable => On::Enable,
                    Rule::on_disable => On::Disable,
                    Rule::when_empty => On::Empty,
                    Rule::when_refilled => On::Refilled,
                    Rule::on_unpaid => On::UnpaidBill,
                    Rule::on_settled => On::BillsSettled,
                    _ => {
                        let mut ek = kids(on_p).into_iter();
                        let a = ident(ek.next().expect("grammar"));
                        let b = ident(ek.next().expect("grammar"));
                        On::Enters(a, b)
                    }
                };
                let from_renewal = tk.next().map(|r| Spanned {
                    node: has(&r, Rule::kw_renewal),
                    span: span(&r),
                });
                lc.transitions.push(Transition {
                    from,
                    to,
                    on: Spanned { node: on, span: os },
                    from_renewal,
                    span: ts,
                });
            }
        }
        lc
    }

    fn trigger(&mut self, k: Vec<P<'_>>, sp: Span) -> Trigger {
        let mut it = k.into_iter();
        let name = ident(it.next().expect("grammar"));
        let mut t = Trigger {
            name,
            watches: Vec::new(),
            condition: None,
            purchase: dummy(sp),
            else_alert: None,
        };
        let mut seen_action = false;
        for c in it {
            match c.as_rule() {
                Rule::watch => t.watches.push(self.watch(c)),
                Rule::action => {
                    t.purchase = ident(first(c));
                    seen_action = true;
                }
                Rule::ident if seen_action => t.else_alert = Some(ident(c)),
                Rule::ident => t.condition = Some(ident(c)),
                _ => {}
            }
        }
        t
    }

    fn watch(&mut self, p: P<'_>) -> Watch {
        let c = first(p);
        let s = span(&c);
        let text_of_quota = has(&c, Rule::kw_quota);
        let rule = c.as_rule();
        let mut k = kids(c).into_iter().peekable();
        match rule {
            Rule::remaining_falls => {
                let each = k.peek().map(|x| x.as_rule()) == Some(Rule::each_package);
                if each {
                    k.next();
                }
                let selector = if k.peek().map(|x| x.as_rule()) == Some(Rule::selector) {
                    k.next().map(|x| self.selector(x))
                } else {
                    None
                };
                let threshold = self.threshold(k.next().expect("grammar"));
                Watch::RemainingFalls {
                    selector,
                    threshold,
                    each,
                    of_quota: text_of_quota,
                    span: s,
                }
            }
            Rule::before_expiry => {
                let lead = self.duration(k.next().expect("grammar"));
                let selector = k.next().map(|x| self.selector(x));
                Watch::BeforeExpiry {
                    lead,
                    selector,
                    span: s,
                }
            }
            _ => {
                let meter = ident(k.next().expect("grammar"));
                let threshold = self.threshold(k.next().expect("grammar"));
                Watch::CountReaches {
                    meter,
                    threshold,
                    span: s,
                }
            }
        }
    }

    fn threshold(&mut self, p: P<'_>) -> Threshold {
        let c = first(p);
        match c.as_rule() {
            Rule::percent => Threshold::Percent(self.number(first(c))),
            Rule::quantity => Threshold::Quantity(self.quantity(c)),
            _ => Threshold::Param(ident(c)),
        }
    }

    fn example(&mut self, k: Vec<P<'_>>, _sp: Span) -> Example {
        let mut it = k.into_iter();
        let name = self.string(it.next().expect("grammar"));
        let mut ex = Example {
            name,
            events: Vec::new(),
            until: None,
            opening: None,
            expects: Vec::new(),
        };
        for c in it {
            match c.as_rule() {
                Rule::ex_event => {
                    let es = span(&c);
                    let mut ek = kids(c).into_iter().peekable();
                    let at = local_time(&mut ek);
                    let action = self.ex_action(ek.next().expect("grammar"));
                    ex.events.push(ExEvent {
                        at,
                        action,
                        span: es,
                    });
                }
                Rule::ex_until => {
                    let mut ek = kids(c).into_iter().peekable();
                    ex.until = Some(local_time(&mut ek));
                }
                Rule::ex_opening => ex.opening = Some(self.money(first(c))),
                Rule::expect => ex.expects.push(self.expect(first(c))),
                _ => {}
            }
        }
        ex
    }

    fn ex_action(&mut self, p: P<'_>) -> ExAction {
        let rule = p.as_rule();
        let mut k = kids(p).into_iter().peekable();
        let opt_num = |b: &mut Self, k: &mut std::iter::Peekable<std::vec::IntoIter<P<'_>>>| {
            if k.peek().map(|x| x.as_rule()) == Some(Rule::number) {
                k.next().map(|n| b.number(n))
            } else {
                None
            }
        };
        match rule {
            Rule::ex_usage => {
                let quantity = self.quantity(k.next().expect("grammar"));
                let mut dims = None;
                let mut subject = None;
                let mut subjects = None;
                for c in k {
                    match c.as_rule() {
                        Rule::selector => dims = Some(self.selector(c)),
                        Rule::subject_range => {
                            let mut r = kids(c).into_iter();
                            let prefix = self.string(r.next().expect("grammar"));
                            let a = self.number(r.next().expect("grammar"));
                            let b = self.number(r.next().expect("grammar"));
                            subjects = Some((prefix, a, b));
                        }
                        _ => subject = Some(self.string(c)),
                    }
                }
                ExAction::Usage {
                    quantity,
                    dims,
                    subject,
                    subjects,
                }
            }
            Rule::ex_purchase => {
                let quantity = opt_num(self, &mut k);
                let item = ident(k.next().expect("grammar"));
                let periods = k.next().map(|n| self.number(n));
                ExAction::Purchase {
                    quantity,
                    item,
                    periods,
                }
            }
            Rule::ex_renew => {
                let target = ident(k.next().expect("grammar"));
                let periods = k.next().map(|n| self.number(n));
                ExAction::Renew { target, periods }
            }
            Rule::ex_enable => {
                let n = opt_num(self, &mut k);
                ExAction::Enable(n, ident(k.next().expect("grammar")))
            }
            Rule::ex_disable => {
                let n = opt_num(self, &mut k);
                ExAction::Disable(n, ident(k.next().expect("grammar")))
            }
            Rule::ex_topup => ExAction::Topup(self.money(k.next().expect("grammar"))),
            _ => {
                let name = ident(k.next().expect("grammar"));
                let v = self.value(k.next().expect("grammar"));
                ExAction::Set(name, v)
            }
        }
    }

    fn expect(&mut self, p: P<'_>) -> Expect {
        let rule = p.as_rule();
        let mut k = kids(p).into_iter();
        match rule {
            Rule::exp_money => {
                let t = k.next().expect("grammar");
                let node = match t.as_str() {
                    "charged" => Total::Charged,
                    "paid" => Total::Paid,
                    "outstanding" => Total::Outstanding,
                    "unbilled" => Total::Unbilled,
                    _ => Total::Balance,
                };
                let total = Spanned {
                    node,
                    span: span(&t),
                };
                Expect::Total(total, self.money(k.next().expect("grammar")))
            }
            Rule::exp_remaining => {
                let s = ident(k.next().expect("grammar"));
                Expect::Remaining(s, self.number(k.next().expect("grammar")))
            }
            Rule::exp_state => {
                let s = ident(k.next().expect("grammar"));
                Expect::State(s, ident(k.next().expect("grammar")))
            }
            Rule::exp_rejected => Expect::Rejected(self.number(k.next().expect("grammar"))),
            Rule::exp_alerts => {
                let s = ident(k.next().expect("grammar"));
                Expect::Alerts(s, self.number(k.next().expect("grammar")))
            }
            Rule::exp_charge => {
                let s = ident(k.next().expect("grammar"));
                let mut m = k.next().expect("grammar");
                let negative = m.as_rule() == Rule::minus;
                if negative {
                    m = k.next().expect("grammar");
                }
                let mut money = self.money(m);
                if negative {
                    money.amount.node = -money.amount.node;
                }
                Expect::Charge(s, money)
            }
            Rule::exp_count => {
                let s = ident(k.next().expect("grammar"));
                Expect::Count(s, self.number(k.next().expect("grammar")))
            }
            _ => Expect::Bills(self.number(k.next().expect("grammar"))),
        }
    }

    fn quantity(&mut self, p: P<'_>) -> Quantity {
        let mut k = kids(p).into_iter();
        let value = self.number(k.next().expect("grammar"));
        let unit = ident(k.next().expect("grammar"));
        Quantity { value, unit }
    }

    fn money(&mut self, p: P<'_>) -> Money {
        let mut k = kids(p).into_iter();
        let amount = self.number(k.next().expect("grammar"));
        let currency = ident(k.next().expect("grammar"));
        Money { amount, currency }
    }

    fn duration(&mut self, p: P<'_>) -> Duration {
        let s = span(&p);
        let mut k = kids(p).into_iter();
        let count = self.number(k.next().expect("grammar"));
        let unit = cal_unit(k.next().expect("grammar").as_str());
        Duration {
            count,
            unit,
            span: s,
        }
    }

    fn period(&mut self, p: P<'_>) -> Duration {
        let s = span(&p);
        let k = kids(p);
        if k.len() == 2 {
            let mut k = k.into_iter();
            let count = self.number(k.next().expect("grammar"));
            let unit = cal_unit(k.next().expect("grammar").as_str());
            Duration {
                count,
                unit,
                span: s,
            }
        } else {
            let unit = k
                .into_iter()
                .next()
                .map(|u| cal_unit(u.as_str()))
                .unwrap_or(CalUnit::Month);
            Duration {
                count: Spanned {
                    node: Decimal::ONE,
                    span: s,
                },
                unit,
                span: s,
            }
        }
    }

    fn selector(&mut self, p: P<'_>) -> Selector {
        let s = span(&p);
        let tests = kids(p)
            .into_iter()
            .map(|t| {
                let is_list = has(&t, Rule::kw_in);
                let mut k = kids(t).into_iter();
                let dim = ident(k.next().expect("grammar"));
                let v = k.next().expect("grammar");
                let values = if v.as_rule() == Rule::ident_list {
                    ident_list(v)
                } else {
                    vec![ident(v)]
                };
                Test {
                    dim,
                    values,
                    is_list,
                }
            })
            .collect();
        Selector { tests, span: s }
    }
}

fn first(p: P<'_>) -> P<'_> {
    kids(p).into_iter().next().expect("grammar: a child")
}

fn ident_list(p: P<'_>) -> Vec<Ident> {
    kids(p).into_iter().map(ident).collect()
}

fn local_time(k: &mut std::iter::Peekable<std::vec::IntoIter<P<'_>>>) -> Spanned<LocalTime> {
    let d = k.next().expect("grammar: date");
    let mut s = span(&d);
    let date = d.as_str().to_string();
    let clock = if k.peek().map(|x| x.as_rule()) == Some(Rule::clock) {
        k.next().map(|c| {
            s.end = span(&c).end;
            c.as_str().to_string()
        })
    } else {
        None
    };
    Spanned {
        node: LocalTime { date, clock },
        span: s,
    }
}

fn cal_unit(s: &str) -> CalUnit {
    if s.starts_with("hour") {
        CalUnit::Hour
    } else if s.starts_with("day") {
        CalUnit::Day
    } else if s.starts_with("year") {
        CalUnit::Year
    } else {
        CalUnit::Month
    }
}

fn offset_secs(s: &str) -> i32 {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let h: i32 = s[1..3].parse().unwrap_or(0);
    let m: i32 = s[4..6].parse().unwrap_or(0);
    sign * (h * 3600 + m * 60)
}

/// Seconds after midnight of `HH:MM[:SS]` (unchecked: the checker validates ranges).
pub(crate) fn clock_secs(s: &str) -> u32 {
    let mut parts = s.split(':').map(|x| x.parse::<u32>().unwrap_or(0));
    let h = parts.next().unwrap_or(0);
    let m = parts.next().unwrap_or(0);
    let sec = parts.next().unwrap_or(0);
    h * 3600 + m * 60 + sec
}

fn dummy(sp: Span) -> Ident {
    Spanned {
        node: String::new(),
        span: sp,
    }
}

fn dummy_qty(sp: Span) -> Quantity {
    Quantity {
        value: Spanned {
            node: Decimal::ZERO,
            span: sp,
        },
        unit: dummy(sp),
    }
}

fn dummy_money(sp: Span) -> Money {
    Money {
        amount: Spanned {
            node: Decimal::ZERO,
            span: sp,
        },
        currency: dummy(sp),
    }
}
