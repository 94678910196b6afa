//! The time: the wall clock in milliseconds, ISO-8601 text, and the civil calendar.

/// The wall clock in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the epoch as an ISO 8601 UTC timestamp.
pub fn iso8601(ms: i64) -> String {
    let mut text = String::with_capacity(24);
    write_iso8601(&mut text, ms);
    text
}

/// Appends [`iso8601`]`(ms)` to `out` without an allocation of its own.
pub fn write_iso8601(out: &mut String, ms: i64) {
    let secs = ms.div_euclid(1000);
    let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        of_day / 3600,
        (of_day % 3600) / 60,
        of_day % 60,
        ms.rem_euclid(1000),
    );
    if !(0..=9999).contains(&y) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z"
        );
        return;
    }
    // Digit by digit: the formatter costs thousands of instructions a line in a request log.
    let mut text = *b"0000-00-00T00:00:00.000Z";
    for (at, value, width) in [
        (0, y, 4),
        (5, m, 2),
        (8, d, 2),
        (11, h, 2),
        (14, min, 2),
        (17, s, 2),
        (20, milli, 3),
    ] {
        let mut rest = value;
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// Days since 1970-01-01 to (year, month 1–12, day), after H. Hinnant's algorithm.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month 1–12, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An instant given as ISO-8601 / RFC 3339 (`2026-12-24T10:00:00Z`, `2026-12-24T11:00+01:00`)
/// or as milliseconds since the epoch; a time without an offset is UTC.
pub fn parse_instant(text: &str) -> Result<i64, String> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .or_else(|_| {
            time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc())
        });
    match parsed {
        Ok(t) => Ok((t.unix_timestamp_nanos() / 1_000_000) as i64),
        Err(_) => Err(format!(
            "{text:?} is not a time: give ISO-8601 (2026-12-24T10:00:00Z, 2026-12-24T11:00+01:00) or ms since the epoch"
        )),
    }
}

#[cfg(test)]
mod parse_tests {
    use super::{civil_from_days, iso8601, parse_instant};

    #[test]
    fn timestamps_are_written_as_the_formatter_writes_them() {
        let formatted = |ms: i64| {
            let secs = ms.div_euclid(1000);
            let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                of_day / 3600,
                (of_day % 3600) / 60,
                of_day % 60,
                ms.rem_euclid(1000)
            )
        };
        let mut samples = vec![0, -1, 1, 999, 1000, 951_782_400_000, 253_402_300_799_999];
        samples.extend([
            253_402_300_800_000,
            -62_167_219_200_000,
            -62_167_219_200_001,
        ]);
        let mut ms: i64 = -70_000_000_000_000;
        while ms < 300_000_000_000_000 {
            samples.push(ms);
            ms += 987_654_321_017;
        }
        for ms in samples {
            assert_eq!(iso8601(ms), formatted(ms), "{ms}");
        }
        assert_eq!(iso8601(1_764_412_345_678), "2025-11-29T10:32:25.678Z");
    }

    #[test]
    fn instants_parse_as_iso_8601_or_epoch_ms() {
        assert_eq!(parse_instant("1764144000000"), Ok(1_764_144_000_000));
        assert_eq!(parse_instant("2025-11-26T08:00:00Z"), Ok(1_764_144_000_000));
        assert_eq!(
            parse_instant("2025-11-26T09:00:00+01:00"),
            Ok(1_764_144_000_000)
        );
        assert_eq!(parse_instant("2025-11-26T08:00"), Ok(1_764_144_000_000));
        assert!(parse_instant("next tuesday")
            .unwrap_err()
            .contains("ISO-8601"));
    }
}
