//! Timestamps in the three formats Bitbucket uses (REFERENCE §1), and a parser for the
//! datetimes BBQL accepts.

/// Microseconds per second.
pub const MICROS: i64 = 1_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds of a UTC date and time.
pub fn unix(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    days_from_civil(y, mo, d) * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)
}

fn date_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Core API style: `2018-09-20T12:49:08.541926+00:00` from Unix microseconds.
pub fn iso_micros(micros: i64) -> String {
    format!(
        "{}.{:06}+00:00",
        date_time(micros.div_euclid(MICROS)),
        micros.rem_euclid(MICROS)
    )
}

/// Pipelines style: `2020-11-03T22:14:50.671Z` from Unix microseconds.
pub fn iso_millis_z(micros: i64) -> String {
    format!(
        "{}.{:03}Z",
        date_time(micros.div_euclid(MICROS)),
        micros.rem_euclid(MICROS) / 1000
    )
}

/// Commit style: no fraction, the author's offset, e.g. `2012-07-16T21:37:54+02:00`.
pub fn iso_offset(unix_secs: i64, offset_minutes: i32) -> String {
    let local = unix_secs + i64::from(offset_minutes) * 60;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.abs();
    format!("{}{sign}{:02}:{:02}", date_time(local), off / 60, off % 60)
}

/// Parses an ISO 8601 datetime as BBQL and Bitbucket write them (`2015-03-04`,
/// `2015-03-04T14:08:59.123+02:00`, `…Z`; UTC if no offset) into Unix microseconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo as u32, d as u32) * 86_400;
    let mut micros = 0i64;
    let mut i = 10;
    if i < b.len() && (b[i] == b'T' || b[i] == b' ') {
        let h = num(i + 1, 2)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        let mi = num(i + 4, 2)?;
        secs += h * 3600 + mi * 60;
        i += 6;
        if b.get(i) == Some(&b':') {
            secs += num(i + 1, 2)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                let frac = &s[start..end];
                if frac.is_empty() {
                    return None;
                }
                let mut digits: String = frac.chars().take(6).collect();
                while digits.len() < 6 {
                    digits.push('0');
                }
                micros = digits.parse().ok()?;
                i = end;
            }
        }
    }
    match b.get(i) {
        None => {}
        Some(b'Z') if i + 1 == b.len() => {}
        Some(&c) if (c == b'+' || c == b'-') && b.len() == i + 6 && b[i + 3] == b':' => {
            let off = num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60;
            secs -= if c == b'+' { off } else { -off };
        }
        _ => return None,
    }
    Some(secs * MICROS + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = unix(2020, 11, 3, 22, 14, 50);
        assert_eq!(
            iso_millis_z(t * MICROS + 671_000),
            "2020-11-03T22:14:50.671Z"
        );
        assert_eq!(
            iso_micros(t * MICROS + 541_926),
            "2020-11-03T22:14:50.541926+00:00"
        );
        assert_eq!(iso_offset(t, 120), "2020-11-04T00:14:50+02:00");
        assert_eq!(iso_offset(t, -300), "2020-11-03T17:14:50-05:00");
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1000, 0, 59, 60, 365, 11_000, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses() {
        let t = unix(2015, 3, 4, 12, 8, 59) * MICROS + 123_000;
        assert_eq!(parse_datetime("2015-03-04T14:08:59.123+02:00"), Some(t));
        assert_eq!(parse_datetime("2015-03-04T12:08:59.123Z"), Some(t));
        assert_eq!(
            parse_datetime("2015-03-04"),
            Some(unix(2015, 3, 4, 0, 0, 0) * MICROS)
        );
        assert_eq!(parse_datetime("2015-3-4"), None);
        assert_eq!(parse_datetime("hello"), None);
    }
}
