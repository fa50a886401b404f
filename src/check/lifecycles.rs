//! Lifecycles: states, transitions, and the items that name them.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::*;
use crate::check::ctx::Ctx;
use crate::check::suggest::MAX_CANDIDATES;
use crate::check::values;
use crate::diag::Diag;

/// The lifecycle of the account's service: used by the account, not by items.
pub(crate) const SERVICE: &str = "service";

/// `lifecycle NAME` on an item: it must exist.
pub(crate) fn item_ref<'a>(cx: &mut Ctx<'a>, lc: &'a Ident) {
    if cx.lifecycles.contains(&lc.node) {
        cx.used.lifecycles.insert(lc.node.as_str());
        return;
    }
    let names: Vec<&str> = cx.lifecycles.names().take(MAX_CANDIDATES).collect();
    cx.unknown(
        "tariff::check::unknown_lifecycle",
        "lifecycle",
        lc,
        names,
        &format!("declare it with `lifecycle {} {{ state ... }}`", lc.node),
    );
}

/// The lifecycle whose states a subject named `name` goes through.
pub(crate) fn lifecycle_of<'a>(cx: &Ctx<'a>, name: &str) -> Option<&'a Lifecycle> {
    match cx.items.get(name) {
        Some(i) => i
            .lifecycle()
            .and_then(|lc| cx.lifecycles.get(&lc.node).copied()),
        None if name == SERVICE => cx.lifecycles.get(SERVICE).copied(),
        None => None,
    }
}

/// `STATE` must be a state of the lifecycle of the subject named `name` (when it has one).
pub(crate) fn state_of(cx: &mut Ctx<'_>, name: &str, state: &Ident) {
    let Some(lc) = lifecycle_of(cx, name) else {
        return;
    };
    if lc.states.iter().any(|s| s.name.node == state.node) {
        return;
    }
    let names: Vec<&str> = lc.states.iter().map(|s| s.name.node.as_str()).collect();
    let fix = format!(
        "lifecycle `{}` has the states: {}",
        lc.name.node,
        crate::check::suggest::list(&names)
    );
    cx.unknown(
        "tariff::check::unknown_state",
        &format!("state of `{name}`:"),
        state,
        names,
        &fix,
    );
}

/// A `lifecycle` declaration.
pub(crate) fn decl(cx: &mut Ctx<'_>, lc: &Lifecycle) {
    let mut states: BTreeMap<&str, &StateDecl> = BTreeMap::new();
    for s in &lc.states {
        if let Some(first) = states.get(s.name.node.as_str()) {
            cx.duplicate(
                "tariff::check::duplicate_state",
                "state",
                &s.name,
                first.name.span,
            );
        } else {
            states.insert(&s.name.node, s);
        }
    }
    if lc.states.is_empty() {
        cx.push(
            Diag::error(
                "tariff::check::no_states",
                format!("lifecycle `{}` has no states", lc.name.node),
            )
            .label(lc.name.span, "this lifecycle")
            .help("declare its states with `state NAME`; the first one is the initial state"),
        );
    }
    let mut leaves: BTreeMap<&str, Span> = BTreeMap::new();
    let mut entered: BTreeSet<&str> = BTreeSet::new();
    let state_names: Vec<&str> = states.keys().copied().collect();
    for t in &lc.transitions {
        for f in &t.from {
            if known_state(cx, lc, &states, &state_names, f) {
                leaves.entry(&f.node).or_insert(f.span);
            }
        }
        if known_state(cx, lc, &states, &state_names, &t.to) {
            entered.insert(&t.to.node);
        }
        transition_event(cx, t);
    }
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for (i, s) in lc.states.iter().enumerate() {
        let name = s.name.node.as_str();
        if !done.insert(name) {
            continue;
        }
        let is_final = s.attrs.iter().find(|a| a.node == StateAttr::Final);
        match (leaves.get(name), is_final) {
            (None, None) => cx.push(
                Diag::error(
                    "tariff::check::no_way_out",
                    format!("no way out of state `{name}`"),
                )
                .label(s.name.span, "no transition leaves this state")
                .help(format!(
                    "add a transition from `{name}`, or mark it `final` if it is the end"
                )),
            ),
            (Some(t), Some(f)) => cx.push(
                Diag::error(
                    "tariff::check::final_with_exit",
                    format!("final state `{name}` has a way out"),
                )
                .label(*t, "a transition leaves it")
                .label(f.span, "marked final here")
                .help("remove `final`, or remove the transition"),
            ),
            _ => {}
        }
        if i > 0 && !entered.contains(name) {
            cx.push(
                Diag::warning(
                    "tariff::lint::unreachable_state",
                    format!("state `{name}` is unreachable"),
                )
                .label(s.name.span, "no transition leads here")
                .help(format!(
                    "add a transition into `{name}`, or remove the state"
                )),
            );
        }
    }
}

fn known_state(
    cx: &mut Ctx<'_>,
    lc: &Lifecycle,
    states: &BTreeMap<&str, &StateDecl>,
    names: &[&str],
    s: &Ident,
) -> bool {
    if states.contains_key(s.node.as_str()) {
        return true;
    }
    let fix = format!(
        "declare it in lifecycle `{}` with `state {}`",
        lc.name.node, s.node
    );
    cx.unknown(
        "tariff::check::unknown_state",
        &format!("state of lifecycle `{}`:", lc.name.node),
        s,
        names.iter().copied(),
        &fix,
    );
    false
}

fn transition_event(cx: &mut Ctx<'_>, t: &Transition) {
    let renew = matches!(t.on.node, On::Renew);
    match (&t.from_renewal, renew) {
        (None, true) => cx.push(
            Diag::error(
                "tariff::check::renew_without_validity",
                "renewal does not say where validity starts",
            )
            .label(t.on.span, "this renewal")
            .help("add `, validity from renewal` (restart) or `, validity from expiry` (continue)"),
        ),
        (Some(v), false) => cx.push(
            Diag::error(
                "tariff::check::validity_without_renew",
                "`validity from` on a transition that is not a renewal",
            )
            .label(v.span, "only renewals restart validity")
            .help("remove `validity from ...`, or make the transition `on renew`"),
        ),
        _ => {}
    }
    match &t.on.node {
        On::After(d) => values::duration(cx, d, "a transition's delay"),
        On::Enters(item, state) => {
            if cx.items.contains(&item.node)
                || (item.node == SERVICE && cx.lifecycles.contains(SERVICE))
            {
                state_of(cx, &item.node, state);
            } else {
                cx.item(item);
            }
        }
        _ => {}
    }
}

/// Lifecycles that no item names (the account's `service` excepted).
pub(crate) fn unused(cx: &mut Ctx<'_>) {
    let unused: Vec<(String, Span)> = cx
        .lifecycles
        .iter()
        .filter(|(n, _, _)| *n != SERVICE && !cx.used.lifecycles.contains(n))
        .map(|(n, s, _)| (n.to_string(), s))
        .collect();
    for (n, s) in unused {
        cx.push(
            Diag::warning(
                "tariff::lint::unused_lifecycle",
                format!("lifecycle `{n}` is never used"),
            )
            .label(s, "no item names it")
            .help("name it on an item with `lifecycle NAME`, or remove it"),
        );
    }
}
