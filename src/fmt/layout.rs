//! The canonical layout: the typed tree printed as indented lines, each tied to the
//! source offset where its item starts (so comments can find their place).

use super::comments::{Kw, Starts};
use super::text::{self, *};
use crate::ast::*;

/// One printed line of code.
pub(super) struct Line {
    /// Indentation level (two spaces each).
    pub indent: usize,
    /// The code.
    pub text: String,
    /// Source offset of the first token printed on the line.
    pub anchor: usize,
    /// Source offset past the item when the line prints a whole item (a comment inside
    /// it goes before the line), else `anchor`.
    pub end: usize,
    /// Indentation of comments placed just before the line.
    pub inner: usize,
}

/// A line of output.
pub(super) enum Out {
    Blank,
    Code(Line),
}

/// Prints every product of `f`.
pub(super) fn file(f: &RuleFile, starts: &Starts) -> Vec<Out> {
    let mut p = Printer {
        out: Vec::new(),
        starts,
    };
    for (i, prod) in f.products.iter().enumerate() {
        if i > 0 {
            p.out.push(Out::Blank);
        }
        p.product(prod);
    }
    p.out
}

struct Printer<'a> {
    out: Vec<Out>,
    starts: &'a Starts,
}

/// Declarations of one group sit together; a blank line separates groups.
fn group(k: &DeclKind) -> u8 {
    match k {
        DeclKind::Currency(_) | DeclKind::Timezone(_) | DeclKind::Source { .. } => 0,
        DeclKind::Meter(_) => 1,
        DeclKind::FreeTier(_) => 2,
        DeclKind::Package(_) => 3,
        DeclKind::Edition(_) => 4,
        DeclKind::Pack(_) => 5,
        DeclKind::Resource(_) => 6,
        DeclKind::Price(_) => 7,
        DeclKind::Draw(_) => 8,
        DeclKind::Limit(_) => 9,
        DeclKind::Param(_) => 10,
        DeclKind::Bill(_) => 11,
        DeclKind::Lifecycle(_) => 12,
        DeclKind::Trigger(_) => 13,
        DeclKind::Alert(_) => 14,
        DeclKind::Example(_) => 15,
    }
}

/// Declarations printed over several lines get a blank line on each side.
fn is_block(k: &DeclKind) -> bool {
    match k {
        DeclKind::Lifecycle(_) | DeclKind::Example(_) => true,
        DeclKind::Pack(p) => p.tiers.is_some(),
        DeclKind::Price(p) => matches!(p.body, PriceBody::Tiered { .. }),
        _ => false,
    }
}

fn opt<T>(v: &Option<T>, f: impl FnOnce(&T) -> String) -> String {
    v.as_ref().map(f).unwrap_or_default()
}

fn lifecycle_ref(l: &Option<Ident>) -> String {
    opt(l, |l| format!(", lifecycle {}", l.node))
}

fn refund(r: &Option<Spanned<bool>>) -> String {
    opt(r, |r| {
        if r.node {
            ", refundable".into()
        } else {
            ", no refund".into()
        }
    })
}

fn bound(b: &ChargeBound) -> String {
    let kind = if b.is_min { "min" } else { "max" };
    let per = b.per.as_ref().map_or_else(|| "event".to_string(), period);
    format!(", {kind} {} per {per}", money(&b.amount))
}

impl Printer<'_> {
    /// A line printing the item at `span`.
    fn item(&mut self, indent: usize, text: String, span: Span) {
        let end = self.starts.token_end(span.end).max(span.start);
        self.out.push(Out::Code(Line {
            indent,
            text,
            anchor: span.start,
            end,
            inner: indent,
        }));
    }

    /// A line printing the start of an item (a block's head).
    fn line(&mut self, indent: usize, text: String, anchor: usize) {
        self.item(indent, text, Span::new(anchor, anchor));
    }

    /// A closing brace line: comments before it belong inside the block.
    fn close(&mut self, indent: usize, text: String, anchor: usize) {
        self.out.push(Out::Code(Line {
            indent,
            text,
            anchor,
            end: anchor,
            inner: indent + 1,
        }));
    }

    fn product(&mut self, p: &Product) {
        let head = match &p.name {
            Some(n) => format!("product {} {} {{", p.id.node, string(&n.node)),
            None => format!("product {} {{", p.id.node),
        };
        self.line(0, head, p.span.start);
        let mut prev: Option<(u8, bool)> = None;
        for d in &p.decls {
            let (g, b) = (group(&d.kind), is_block(&d.kind));
            if let Some((pg, pb)) = prev
                && (pg != g || pb || b)
            {
                self.out.push(Out::Blank);
            }
            self.decl(d);
            prev = Some((g, b));
        }
        self.close(0, "}".into(), p.span.end.saturating_sub(1));
    }

    fn decl(&mut self, d: &Decl) {
        let at = d.span.start;
        let end = d.span.end.saturating_sub(1);
        let text = match &d.kind {
            DeclKind::Currency(c) => format!("currency {}", c.node),
            DeclKind::Timezone(tz) => format!("timezone {}", timezone(&tz.node)),
            DeclKind::Source { alias, file } => {
                format!("source {} = {}", alias.node, string(&file.node))
            }
            DeclKind::Meter(m) => meter(m),
            DeclKind::FreeTier(f) => format!(
                "free_tier {}: {}{} once per account{}",
                f.name.node,
                quantity(&f.quota),
                selector(&f.selector),
                lifecycle_ref(&f.lifecycle)
            ),
            DeclKind::Package(p) => package(p),
            DeclKind::Edition(e) => edition(e),
            DeclKind::Pack(p) => {
                let head = pack(p);
                match &p.tiers {
                    Some(t) => {
                        let head = format!(
                            "{head}, priced by purchase size {} {{",
                            tier_mode(t.mode.node)
                        );
                        self.table(head, t, "", at);
                        return self.notes(&d.notes);
                    }
                    None => head,
                }
            }
            DeclKind::Resource(r) => resource(r),
            DeclKind::Price(p) => {
                let bounds: String = p.bounds.iter().map(bound).collect();
                match &p.body {
                    PriceBody::Tiered {
                        meter,
                        selector: sel,
                        basis,
                        table,
                    } => {
                        let basis = match basis {
                            Basis::Volume {
                                period: u,
                                meter: m,
                                selector: s,
                                ..
                            } => {
                                format!("{} volume of {}{}", u.name(), m.node, selector(s))
                            }
                            Basis::Event(_) => "event quantity".into(),
                        };
                        let head = format!(
                            "price {}: {}{}, {} by {basis} {{",
                            p.name.node,
                            meter.node,
                            selector(sel),
                            tier_mode(table.mode.node)
                        );
                        self.table(head, table, &bounds, at);
                        return self.notes(&d.notes);
                    }
                    body => format!("price {}: {}{bounds}", p.name.node, price_body(body)),
                }
            }
            DeclKind::Draw(dr) => {
                let src: Vec<String> = dr
                    .sources
                    .iter()
                    .map(|s| match s {
                        DrawSource::Packages(_) => "packages by earliest expiry".to_string(),
                        DrawSource::Payg(_) => "payg".into(),
                        DrawSource::Named(n) => n.node.clone(),
                    })
                    .collect();
                format!(
                    "draw {}{}: {}",
                    dr.meter.node,
                    selector(&dr.selector),
                    src.join(", then ")
                )
            }
            DeclKind::Limit(l) => limit(l),
            DeclKind::Param(p) => param(p),
            DeclKind::Bill(b) => {
                format!(
                    "bill {}: {}{}",
                    b.name.node,
                    schedule(&b.schedule.node),
                    opt(&b.rounding, |r| format!(", {}", rounding(r)))
                )
            }
            DeclKind::Lifecycle(l) => {
                self.line(1, format!("lifecycle {} {{", l.name.node), at);
                let mut items: Vec<(Span, String)> = l
                    .states
                    .iter()
                    .map(|s| (self.start(Kw::State, s.name.span.start), text::state(s)))
                    .chain(l.transitions.iter().map(|t| (t.span, transition(t))))
                    .collect();
                self.block(&mut items, end);
                return self.notes(&d.notes);
            }
            DeclKind::Trigger(t) => {
                let watches: Vec<String> = t.watches.iter().map(watch).collect();
                format!(
                    "trigger {}: when {}{}, purchase {} from balance{}",
                    t.name.node,
                    watches.join(" or "),
                    opt(&t.condition, |c| format!(", if {}", c.node)),
                    t.purchase.node,
                    opt(&t.else_alert, |a| format!(", else alert {}", a.node))
                )
            }
            DeclKind::Alert(a) => match &a.on {
                AlertOn::Watch(w) => format!("alert {}: when {}", a.name.node, watch(w)),
                AlertOn::Fails(t) => format!("alert {}: when {} fails", a.name.node, t.node),
            },
            DeclKind::Example(e) => {
                self.line(1, format!("example {} {{", string(&e.name.node)), at);
                let mut items: Vec<(Span, String)> =
                    e.events.iter().map(|ev| (ev.span, event(ev))).collect();
                if let Some(u) = &e.until {
                    items.push((self.start(Kw::Until, u.span.start), until(&u.node)));
                }
                if let Some(m) = &e.opening {
                    items.push((
                        self.start(Kw::Opening, m.amount.span.start),
                        format!("opening balance {}", money(m)),
                    ));
                }
                items.extend(
                    e.expects
                        .iter()
                        .map(|x| (self.start(Kw::Expect, expect_pos(x)), expect(x))),
                );
                self.block(&mut items, end);
                return self.notes(&d.notes);
            }
        };
        self.item(1, text, d.span);
        self.notes(&d.notes);
    }

    /// Entries of a lifecycle or an example, in source order, then the closing brace.
    fn block(&mut self, items: &mut [(Span, String)], end: usize) {
        items.sort_by_key(|i| i.0.start);
        for (sp, text) in items.iter_mut() {
            self.item(2, std::mem::take(text), *sp);
        }
        self.close(1, "}".into(), end);
    }

    /// An entry whose keyword the tree does not span: its start, found from `pos` inside it.
    fn start(&self, kw: Kw, pos: usize) -> Span {
        let s = self.starts.of(kw, pos);
        Span::new(s, s)
    }

    fn table(&mut self, head: String, t: &TierTable, after: &str, at: usize) {
        self.line(1, head, at);
        for tier in &t.tiers {
            self.item(2, text::tier(tier), tier.span);
        }
        self.close(1, format!("}}{after}"), t.span.end.saturating_sub(1));
    }

    fn notes(&mut self, notes: &[Note]) {
        for n in notes {
            let sp = match n {
                Note::Cite { source, quote } => {
                    Span::new(self.starts.of(Kw::Cite, source.span.start), quote.span.end)
                }
                Note::Assumed { span, .. } => *span,
            };
            self.item(2, note(n), sp);
        }
    }
}

fn meter(m: &Meter) -> String {
    let mut opts: Vec<String> = m
        .dims
        .iter()
        .map(|(d, v)| format!("dim {} ({})", d.node, idents(v)))
        .collect();
    if m.distinct {
        opts.push("counted by distinct subject".into());
    }
    if m.fractional {
        opts.push("fractional".into());
    }
    if opts.is_empty() {
        format!("meter {}", m.name.node)
    } else {
        format!("meter {}: {}", m.name.node, opts.join(", "))
    }
}

fn package(p: &Package) -> String {
    let past = opt(&p.past_quota, |q| match q.node {
        PastQuota::Payg => ", past quota payg".into(),
        PastQuota::Refuse => ", past quota refuse".into(),
    });
    format!(
        "package {}: {}{} for {}{}{}{past}{}",
        p.name.node,
        quantity(&p.quota),
        selector(&p.selector),
        money(&p.price),
        opt(&p.valid, |v| format!(", valid {}", duration(v))),
        refund(&p.refundable),
        lifecycle_ref(&p.lifecycle)
    )
}

fn edition(e: &Edition) -> String {
    let cap = opt(&e.cap, |c| {
        let extra = opt(&c.per_pack, |(q, p)| {
            format!(" + {} per {}", quantity(q), p.node)
        });
        format!(", cap {}{extra}", quantity(&c.base))
    });
    format!(
        "edition {}: {}{}{}{cap}{}{}{}",
        e.name.node,
        money(&e.fee),
        opt(&e.period, |p| format!(" per {}", period(p))),
        opt(&e.valid, |v| format!(", valid {}", duration(v))),
        opt(&e.replaces, |r| format!(", replaces {}", r.node)),
        refund(&e.refundable),
        lifecycle_ref(&e.lifecycle)
    )
}

/// A pack without its tier table (printed last, as a block).
fn pack(p: &Pack) -> String {
    format!(
        "pack {}: {} each{}{}{}{}",
        p.name.node,
        quantity(&p.size),
        opt(&p.needs, |(i, s)| format!(", needs {} {}", i.node, s.node)),
        opt(&p.minimum, |m| format!(", minimum {}", quantity(m))),
        refund(&p.refundable),
        lifecycle_ref(&p.lifecycle)
    )
}

fn resource(r: &Resource) -> String {
    format!(
        "resource {}: {} per {}{}{}{}{}",
        r.name.node,
        money(&r.fee),
        period(&r.period),
        if r.prorated {
            ", prorated by days enabled"
        } else {
            ""
        },
        opt(&r.billed, |b| format!(", billed {}", schedule(&b.node))),
        opt(&r.rounding, |x| format!(", {}", rounding(x))),
        lifecycle_ref(&r.lifecycle)
    )
}

/// A one-line price body (tiered prices are printed as blocks).
fn price_body(b: &PriceBody) -> String {
    match b {
        PriceBody::Unit {
            price,
            meter,
            selector: s,
        } => format!("{} per {}{}", money(price), meter.node, selector(s)),
        PriceBody::Block {
            price,
            block,
            selector: s,
        } => {
            format!(
                "{} per block of {}{}",
                money(price),
                quantity(block),
                selector(s)
            )
        }
        PriceBody::Percent {
            percent: pc,
            meter,
            selector: s,
            fixed,
        } => format!(
            "{} of {}{}{}",
            percent(&pc.node),
            meter.node,
            selector(s),
            opt(fixed, |m| format!(" + {}", money(m)))
        ),
        PriceBody::Tiered { meter, .. } => meter.node.clone(),
    }
}

fn limit(l: &Limit) -> String {
    let target = match &l.target {
        LimitTarget::Usage(m, s) => format!("{}{}", m.node, selector(s)),
        LimitTarget::Enable(r) => format!("enable {}", r.node),
    };
    let amount = match &l.amount {
        Amount::Quantity(q) => quantity(q),
        Amount::Number(n) => number(&n.node),
        Amount::Param(p) => p.node.clone(),
    };
    let mode = opt(&l.partial, |p| {
        if p.node {
            ", partial".into()
        } else {
            ", whole".into()
        }
    });
    format!("limit {target}: {amount} per {}{mode}", l.per.node.name())
}

fn param(p: &Param) -> String {
    if let Some(v) = &p.default {
        return format!("param {} = {}", p.name.node, value(&v.node));
    }
    let ty = opt(&p.ty, |t| match &t.node {
        ParamType::Switch => ": switch".into(),
        ParamType::Item => ": item".into(),
        ParamType::Percent => ": percent".into(),
        ParamType::Unit(u) => format!(": {}", u.node),
    });
    let optional = if p.optional { ", optional" } else { "" };
    format!("param {}{ty}{optional}", p.name.node)
}
