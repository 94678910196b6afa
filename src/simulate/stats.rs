//! Pearson's chi-square goodness-of-fit test of an observed split against intended shares.

/// The p-value of `observed` counts against `shares` (any scale; normalised here), or `None`
/// when there is nothing to test (fewer than two categories with a share, no observations).
/// A count in a category whose share is zero makes the split impossible: p = 0.
pub fn chi_square_p_value(observed: &[u64], shares: &[f64]) -> Option<f64> {
    if observed.len() != shares.len() {
        return None;
    }
    let impossible = observed
        .iter()
        .zip(shares)
        .any(|(&o, &s)| s <= 0.0 && o > 0);
    if impossible {
        return Some(0.0);
    }
    let total_share: f64 = shares.iter().filter(|s| **s > 0.0).sum();
    let n: u64 = observed.iter().sum();
    let categories = shares.iter().filter(|s| **s > 0.0).count();
    if n == 0 || categories < 2 {
        return None;
    }
    let statistic: f64 = observed
        .iter()
        .zip(shares)
        .filter(|(_, &share)| share > 0.0)
        .map(|(&o, &share)| {
            let expected = n as f64 * share / total_share;
            (o as f64 - expected).powi(2) / expected
        })
        .sum();
    if statistic <= 0.0 {
        // A perfect fit (the gamma function takes no zero).
        return Some(1.0);
    }
    let degrees = (categories - 1) as f64;
    statrs::function::gamma::checked_gamma_ur(degrees / 2.0, statistic / 2.0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_the_chi_square_table() {
        // 1 degree of freedom: chi² = 3.841 at p = 0.05 (50/50 over 1,000: 531 vs 469 → 3.844).
        let p = chi_square_p_value(&[531, 469], &[50.0, 50.0]).unwrap();
        assert!((p - 0.0500).abs() < 0.001, "{p}");
        // A perfect split.
        assert_eq!(chi_square_p_value(&[500, 500], &[1.0, 1.0]), Some(1.0));
        // 70/30 observed against 50/50 over 10,000 visitors: far below 0.001.
        assert!(chi_square_p_value(&[7000, 3000], &[50.0, 50.0]).unwrap() < 1e-9);
        // 2 degrees of freedom: p = exp(-chi²/2); 120/100/80 against thirds gives chi² = 8.
        let p = chi_square_p_value(&[120, 100, 80], &[1.0, 1.0, 1.0]).unwrap();
        assert!((p - (-4.0f64).exp()).abs() < 1e-9, "{p}");
        assert_eq!(chi_square_p_value(&[0, 0, 0], &[1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn nothing_to_test_and_impossible_counts() {
        assert_eq!(chi_square_p_value(&[10], &[100.0]), None);
        assert_eq!(chi_square_p_value(&[5, 5], &[100.0, 0.0]), Some(0.0));
        assert_eq!(chi_square_p_value(&[5, 5], &[1.0]), None);
    }
}
