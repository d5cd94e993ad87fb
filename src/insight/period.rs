//! A report's period: from when to when, and in which time zone its days are counted.
//! `since` and `until` take a span back from now (`7d`, `24h`, `2w`), a date (`2026-11-01`,
//! the start of that day in the zone for `since`, the end of it for `until`) or a timestamp
//! (`2026-11-01T12:00:00Z`). The zone is an IANA name (`America/Sao_Paulo`), UTC by default.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Longest period a report covers.
pub const MAX_DAYS: i64 = 400;

/// Why a period was refused (`invalid_period`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PeriodError(pub String);

/// `[since_ms, until_ms)` and the zone of its days.
#[derive(Debug, Clone)]
pub struct Period {
    pub since_ms: i64,
    pub until_ms: i64,
    pub zone: TimeZone,
    pub zone_name: String,
    /// When the period was asked for: a period may end in the future (a date counts whole),
    /// and nothing has happened after now.
    pub now_ms: i64,
}

impl Period {
    /// Reads `since` (default the last 7 days), `until` (default now) and `tz` (default UTC).
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        tz: Option<&str>,
        now_ms: i64,
    ) -> Result<Period, PeriodError> {
        let zone_name = tz
            .map(str::trim)
            .filter(|tz| !tz.is_empty())
            .unwrap_or("UTC");
        let zone = TimeZone::get(zone_name)
            .map_err(|_| PeriodError(format!("unknown time zone {zone_name:?}")))?;
        let since_ms = match since.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => point(text, &zone, now_ms, false)?,
            None => now_ms - 7 * 86_400_000,
        };
        let until_ms = match until.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => point(text, &zone, now_ms, true)?,
            None => now_ms,
        };
        if until_ms <= since_ms {
            return Err(PeriodError("the period ends before it starts".into()));
        }
        if until_ms - since_ms > MAX_DAYS * 86_400_000 {
            return Err(PeriodError(format!(
                "a report covers at most {MAX_DAYS} days"
            )));
        }
        Ok(Period {
            now_ms,
            since_ms,
            until_ms,
            zone,
            zone_name: zone_name.to_string(),
        })
    }

    /// The day (`YYYY-MM-DD`, in the period's zone) of `at_ms`.
    pub fn day_of(&self, at_ms: i64) -> String {
        match Timestamp::from_millisecond(at_ms) {
            Ok(at) => at.to_zoned(self.zone.clone()).date().to_string(),
            Err(_) => String::new(),
        }
    }

    /// Every day the period touches, in order.
    pub fn days(&self) -> Vec<String> {
        let first = self.day_of(self.since_ms);
        let last = self.day_of(self.until_ms - 1);
        let (Ok(mut day), Ok(last)) = (first.parse::<Date>(), last.parse::<Date>()) else {
            return Vec::new();
        };
        let mut days = Vec::new();
        while day <= last {
            days.push(day.to_string());
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        days
    }

    /// The middle of the period (for trends).
    pub fn midpoint_ms(&self) -> i64 {
        self.since_ms + (self.until_ms - self.since_ms) / 2
    }

    /// The period's bounds as RFC 3339 timestamps in its zone.
    pub fn bounds(&self) -> (String, String) {
        let show = |ms: i64| {
            Timestamp::from_millisecond(ms)
                .map(|at| {
                    at.to_zoned(self.zone.clone())
                        .strftime("%Y-%m-%dT%H:%M:%S%:z")
                        .to_string()
                })
                .unwrap_or_default()
        };
        (show(self.since_ms), show(self.until_ms))
    }
}

/// One end of a period; a date is the start of its day, or its end when `end`.
fn point(text: &str, zone: &TimeZone, now_ms: i64, end: bool) -> Result<i64, PeriodError> {
    let refuse = || {
        PeriodError(format!(
            "{text:?} is not a period: use a span back from now (7d, 24h, 2w), a date \
             (2026-11-01) or a timestamp (2026-11-01T12:00:00Z)"
        ))
    };
    if let Some(amount) = text
        .strip_suffix(['d', 'h', 'w'])
        .and_then(|number| number.parse::<i64>().ok())
    {
        let unit = match text.chars().last() {
            Some('h') => 3_600_000,
            Some('w') => 7 * 86_400_000,
            _ => 86_400_000,
        };
        if !(0..=MAX_DAYS * 24).contains(&amount) {
            return Err(refuse());
        }
        return Ok(now_ms - amount * unit);
    }
    if let Ok(date) = text.parse::<Date>() {
        let day = if end {
            date.checked_add(1.day()).map_err(|_| refuse())?
        } else {
            date
        };
        return day
            .to_zoned(zone.clone())
            .map(|zoned| zoned.timestamp().as_millisecond())
            .map_err(|_| refuse());
    }
    text.parse::<Timestamp>()
        .map(|at| at.as_millisecond())
        .map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_979_200_000; // 2025-12-06T00:00:00Z

    #[test]
    fn spans_dates_and_zones() {
        let week = Period::parse(Some("7d"), None, None, NOW).unwrap();
        assert_eq!(week.until_ms - week.since_ms, 7 * 86_400_000);
        let november = Period::parse(
            Some("2025-11-01"),
            Some("2025-11-30"),
            Some("America/Sao_Paulo"),
            NOW,
        )
        .unwrap();
        // Midnight in São Paulo is 03:00 UTC.
        assert_eq!(november.since_ms, 1_761_966_000_000);
        assert_eq!(november.days().len(), 30);
        assert_eq!(november.day_of(november.since_ms), "2025-11-01");
        assert_eq!(november.day_of(november.until_ms - 1), "2025-11-30");
    }

    #[test]
    fn refuses_what_is_not_a_period() {
        for (since, until, tz) in [
            (Some("yesterday"), None, None),
            (Some("7d"), None, Some("Mars/Olympus")),
            (Some("2025-12-01"), Some("2025-11-01"), None),
            (Some("900d"), None, None),
        ] {
            assert!(
                Period::parse(since, until, tz, NOW).is_err(),
                "{since:?} {tz:?}"
            );
        }
    }
}
