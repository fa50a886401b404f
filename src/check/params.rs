//! Parameters: declarations, the type of value each holds, and whether each use fits it.

use crate::ast::*;
use crate::check::ctx::{Ctx, unit_is};
use crate::check::units;
use crate::diag::Diag;

/// What a parameter holds.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Holds<'a> {
    Switch,
    Percent,
    Quantity(&'a str),
    Money,
    Number,
    Item,
    /// A name that is not an item.
    Name(&'a str),
    /// `none`, or a type the checker already rejected.
    Anything,
}

impl Holds<'_> {
    fn describe(self) -> String {
        match self {
            Holds::Switch => "a switch".into(),
            Holds::Percent => "a percentage".into(),
            Holds::Quantity(u) => format!("a quantity of `{u}`"),
            Holds::Money => "an amount of money".into(),
            Holds::Number => "a number".into(),
            Holds::Item => "an item".into(),
            Holds::Name(n) => format!("the name `{n}`, which is not an item"),
            Holds::Anything => "anything".into(),
        }
    }
}

/// What a use of a parameter needs.
#[derive(Clone, Copy)]
pub(crate) enum Needs<'a> {
    Switch,
    Quantity(&'a str),
    Number,
    Item,
    /// A percentage, or a quantity (of this meter when known).
    Threshold(Option<&'a str>),
}

impl Needs<'_> {
    fn describe(self) -> String {
        match self {
            Needs::Switch => "a switch (`on` or `off`)".into(),
            Needs::Quantity(m) => format!("a quantity of `{m}`"),
            Needs::Number => "a number".into(),
            Needs::Item => "an item to purchase".into(),
            Needs::Threshold(_) => "a percentage or a quantity".into(),
        }
    }
}

/// What a value holds.
pub(crate) fn holds<'a>(cx: &Ctx<'a>, v: &'a Value) -> Holds<'a> {
    match v {
        Value::Switch(_) => Holds::Switch,
        Value::None => Holds::Anything,
        Value::Percent(_) => Holds::Percent,
        Value::Quantity(q) => cx
            .meter_of_unit(&q.unit.node)
            .map_or(Holds::Anything, |m| Holds::Quantity(&m.name.node)),
        Value::Money(_) => Holds::Money,
        Value::Number(_) => Holds::Number,
        Value::Name(n) if cx.items.get(n).is_some_and(|i| i.purchasable()) => Holds::Item,
        Value::Name(n) => Holds::Name(n),
    }
}

/// What a parameter holds, by its default or its declared type.
pub(crate) fn param_holds<'a>(cx: &Ctx<'a>, p: &'a Param) -> Holds<'a> {
    if let Some(d) = &p.default {
        return holds(cx, &d.node);
    }
    match p.ty.as_ref().map(|t| &t.node) {
        Some(ParamType::Switch) => Holds::Switch,
        Some(ParamType::Item) => Holds::Item,
        Some(ParamType::Percent) => Holds::Percent,
        Some(ParamType::Unit(u)) => cx
            .meter_of_unit(&u.node)
            .map_or(Holds::Anything, |m| Holds::Quantity(&m.name.node)),
        None => Holds::Anything,
    }
}

/// A `param` declaration on its own.
pub(crate) fn decl(cx: &mut Ctx<'_>, p: &Param) {
    if p.default.is_none() && !p.optional {
        cx.push(
            Diag::error("tariff::check::param_without_default", format!("param `{}` has no default", p.name.node))
                .label(p.name.span, "no default value")
                .help(format!(
                    "give a default (`param {} = VALUE`) or mark it optional (`param {}: TYPE, optional`)",
                    p.name.node, p.name.node
                )),
        );
    }
    if let Some(ty) = &p.ty
        && let ParamType::Unit(u) = &ty.node
        && cx.meter_of_unit(&u.node).is_none()
    {
        units::unknown_unit(
            cx,
            u,
            "a param's type is `switch`, `item`, `percent` or a meter name",
        );
    }
    if let Some(d) = &p.default {
        value(cx, &d.node);
    }
}

/// The literals inside a value.
pub(crate) fn value(cx: &mut Ctx<'_>, v: &Value) {
    match v {
        Value::Quantity(q) => {
            units::any_meter(cx, q);
        }
        Value::Money(m) => units::money(cx, m),
        _ => {}
    }
}

/// A use of parameter `name` where `needs` is expected; marks it used by the rules.
pub(crate) fn use_param<'a>(cx: &mut Ctx<'a>, name: &'a Ident, needs: Needs<'_>) {
    let Some(p) = cx.param(name, true) else {
        return;
    };
    let h = param_holds(cx, p);
    let ok = match (needs, h) {
        (_, Holds::Anything) => true,
        (Needs::Switch, Holds::Switch)
        | (Needs::Number, Holds::Number)
        | (Needs::Item, Holds::Item) => true,
        (Needs::Quantity(m), Holds::Quantity(u)) => m == u,
        (Needs::Threshold(_), Holds::Percent) => true,
        (Needs::Threshold(m), Holds::Quantity(u)) => m.is_none_or(|m| unit_is(u, m)),
        _ => false,
    };
    if ok {
        return;
    }
    let code = match (needs, h) {
        (Needs::Switch, _) => "tariff::check::not_a_switch",
        (Needs::Item, _) => "tariff::check::not_purchasable",
        (Needs::Quantity(_) | Needs::Threshold(_), Holds::Quantity(_)) => {
            "tariff::check::unit_mismatch"
        }
        _ => "tariff::check::param_type_mismatch",
    };
    let mut d = Diag::error(
        code,
        format!(
            "param `{}` holds {}, not {}",
            name.node,
            h.describe(),
            needs.describe()
        ),
    )
    .label(name.span, format!("{} expected here", needs.describe()));
    d = match (&p.default, &p.ty) {
        (Some(v), _) => d.label(v.span, "its default"),
        (None, Some(t)) => d.label(t.span, "its type"),
        _ => d.label(p.name.span, "declared here"),
    };
    let help = match needs {
        Needs::Switch => format!(
            "use a param declared `= on` or `= off` here, or change `{}`'s default",
            name.node
        ),
        Needs::Item => format!(
            "give `{}` a package, edition or pack as its default",
            name.node
        ),
        _ => format!("make `{}` hold {}", name.node, needs.describe()),
    };
    cx.push(d.help(help));
}

/// `set PARAM = VALUE` in an example: the value must fit what the param holds.
pub(crate) fn set_in_example<'a>(cx: &mut Ctx<'a>, name: &'a Ident, v: &'a Spanned<Value>) {
    value(cx, &v.node);
    let Some(p) = cx.param(name, false) else {
        return;
    };
    let want = param_holds(cx, p);
    let got = holds(cx, &v.node);
    let fits = want == got || matches!(want, Holds::Anything) || matches!(got, Holds::Anything);
    if !fits {
        cx.push(
            Diag::error(
                "tariff::check::param_type_mismatch",
                format!(
                    "param `{}` holds {}, not {}",
                    name.node,
                    want.describe(),
                    got.describe()
                ),
            )
            .label(v.span, "this value")
            .label(p.name.span, "declared here")
            .help(format!("set `{}` to {}", name.node, want.describe())),
        );
    }
}
