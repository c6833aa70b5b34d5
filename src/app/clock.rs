//! Dates in UTC without a date crate: today's, and a moment as GitLab's API writes it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Today's date (UTC) as `YYYY-MM-DD`, for suppressions with an `until` day.
pub fn today() -> String {
    civil_date(days(seconds_since_epoch(SystemTime::now())))
}

/// The moment `ago` before now as `YYYY-MM-DDTHH:MM:SSZ` (UTC): GitLab's API timestamps of the
/// same moment compare equal on their first 19 characters, later ones greater.
pub fn timestamp_before_now(ago: Duration) -> String {
    let then = SystemTime::now().checked_sub(ago).unwrap_or(UNIX_EPOCH);
    timestamp(seconds_since_epoch(then))
}

fn seconds_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn days(seconds: u64) -> i64 {
    i64::try_from(seconds / 86_400).unwrap_or(0)
}

/// `seconds` after the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn timestamp(seconds: u64) -> String {
    let of_day = seconds % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        civil_date(days(seconds)),
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The `YYYY-MM-DD` date `days` days after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_since_the_epoch_become_civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_793), "2026-12-06");
        assert_eq!(civil_date(47_541), "2100-03-01");
    }

    #[test]
    fn timestamps_read_like_the_api_s() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(20_793 * 86_400 + 3_723), "2026-12-06T01:02:03Z");
        assert!(
            timestamp_before_now(Duration::from_secs(86_400))
                < timestamp_before_now(Duration::ZERO)
        );
    }
}
