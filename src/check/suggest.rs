//! "Did you mean" suggestions for misspelt names.

/// Bounds the work on hostile files: long names and huge namespaces get no suggestion.
const MAX_LEN: usize = 64;
/// At most this many names are compared with a misspelt one.
pub(crate) const MAX_CANDIDATES: usize = 2_000;

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let n = name.chars().count();
    if n == 0 || n > MAX_LEN {
        return None;
    }
    let limit = (n / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates.into_iter().take(MAX_CANDIDATES) {
        let m = c.chars().count();
        if m > MAX_LEN || m.abs_diff(n) > limit || c == name {
            continue;
        }
        let d = strsim::osa_distance(name, c);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `a, b, c`, shortened past a few names.
pub(crate) fn list(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    let mut s = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("emial", ["email", "sms"]), Some("email"));
        assert_eq!(did_you_mean("emal", ["email", "sms"]), Some("email"));
        assert_eq!(did_you_mean("zzz", ["email", "sms"]), None);
        assert_eq!(did_you_mean("", ["a"]), None);
    }
}
