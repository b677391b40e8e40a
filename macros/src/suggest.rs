//! "Did you mean …?" suggestions for misspelled names.

/// The optimal-string-alignment distance between `a` and `b`: insertions,
/// deletions, substitutions and swaps of two neighbouring characters each
/// cost one, so `stok_id` is one edit from `stock_id` and `PSOT` one from
/// `POST`.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The candidate closest to `wanted`, if it is close enough to be a likely
/// typo (about one edit in three characters). Ties go to the first candidate.
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = wanted.chars().count().div_ceil(3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (distance(wanted, candidate), candidate))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("stok_id", "stock_id"), 1);
        assert_eq!(distance("PSOT", "POST"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("批次", "批号"), 1);
    }

    #[test]
    fn suggestions() {
        let fields = ["stock_id", "stock_creator_mchid"];
        assert_eq!(closest("stok_id", fields), Some("stock_id"));
        assert_eq!(
            closest("stock_creator_mchd", fields),
            Some("stock_creator_mchid")
        );
        assert_eq!(closest("offset", fields), None);
        assert_eq!(closest("id", ["ab"]), None);
        assert_eq!(closest("PSOT", ["GET", "POST", "PUT"]), Some("POST"));
    }
}
