//! "Did you mean" suggestions for misspelt names.

/// Bounds the work on hostile files: long names and huge namespaces get no suggestion.
const MAX_LEN: usize = 64;
const MAX_CANDIDATES: usize = 2_000;

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
        let d = strsim::levenshtein(name, c);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("emial", ["email", "sms"]), Some("email"));
        assert_eq!(did_you_mean("zzz", ["email", "sms"]), None);
        assert_eq!(did_you_mean("", ["a"]), None);
    }
}
