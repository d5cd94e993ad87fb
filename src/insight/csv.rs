//! CSV forms of the report tables (RFC 4180: comma-separated, CRLF line ends, a field with a
//! comma, quote or line break quoted with its quotes doubled). A field that a spreadsheet
//! would run as a formula (starting with `=`, `+`, `-` or `@`) is prefixed with `'`.

use super::desk::{DeskReport, Figures, Row};
use super::{ArticleReport, DrillRow, GapReport};

/// One CSV table.
pub struct Table {
    lines: String,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        let mut table = Table {
            lines: String::new(),
        };
        table.row(headers.iter().map(|header| header.to_string()));
        table
    }

    fn row(&mut self, fields: impl IntoIterator<Item = String>) {
        let mut first = true;
        for field in fields {
            if !first {
                self.lines.push(',');
            }
            first = false;
            self.lines.push_str(&escape(&field));
        }
        self.lines.push_str("\r\n");
    }

    pub fn into_string(self) -> String {
        self.lines
    }
}

fn escape(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err() {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

const FIGURE_HEADERS: [&str; 21] = [
    "conversations",
    "contained",
    "containment",
    "handoffs",
    "handoff_rate",
    "bridged",
    "tickets",
    "served",
    "lost",
    "transfers",
    "queue_p50_ms",
    "queue_p90_ms",
    "first_response_p50_ms",
    "first_response_p90_ms",
    "handling_p50_ms",
    "handling_p90_ms",
    "ratings",
    "satisfaction",
    "ratings_1_2",
    "ratings_3",
    "ratings_4_5",
];

fn figure_fields(figures: &Figures) -> Vec<String> {
    let counts = figures.rating_counts;
    vec![
        figures.conversations.to_string(),
        figures.contained.to_string(),
        format!("{:.4}", figures.containment),
        figures.handoffs.to_string(),
        format!("{:.4}", figures.handoff_rate),
        figures.bridged.to_string(),
        figures.tickets.to_string(),
        figures.served.to_string(),
        figures.lost.to_string(),
        figures.transfers.to_string(),
        opt(figures.queue_p50_ms),
        opt(figures.queue_p90_ms),
        opt(figures.first_response_p50_ms),
        opt(figures.first_response_p90_ms),
        opt(figures.handling_p50_ms),
        opt(figures.handling_p90_ms),
        figures.ratings.to_string(),
        opt(figures.satisfaction.map(|s| format!("{s:.2}"))),
        (counts[0] + counts[1]).to_string(),
        counts[2].to_string(),
        (counts[3] + counts[4]).to_string(),
    ]
}

/// The tables of the desk report, by name: `days`, `channels`, `groups`, `projects`,
/// `attendants`, `close_reasons`, `presence`.
pub const DESK_TABLES: [&str; 7] = [
    "days",
    "channels",
    "groups",
    "projects",
    "attendants",
    "close_reasons",
    "presence",
];

/// One table of the desk report; `None` for an unknown name.
pub fn desk_table(report: &DeskReport, name: &str) -> Option<String> {
    let rows = |dimension: &str, rows: &[Row]| {
        let mut headers = vec![dimension];
        headers.extend(FIGURE_HEADERS);
        let mut table = Table::new(&headers);
        for row in rows {
            let mut fields = vec![row.key.clone()];
            fields.extend(figure_fields(&row.figures));
            table.row(fields);
        }
        table.into_string()
    };
    Some(match name {
        "days" => rows("day", &report.by_day),
        "channels" => rows("channel", &report.by_channel),
        "groups" => rows("group", &report.by_group),
        "projects" => rows("project", &report.by_project),
        "attendants" => rows("attendant", &report.by_attendant),
        "close_reasons" => {
            let mut table = Table::new(&["reason", "conversations"]);
            for (reason, count) in &report.close_reasons {
                table.row([reason.clone(), count.to_string()]);
            }
            table.into_string()
        }
        "presence" => {
            let mut table =
                Table::new(&["attendant", "online_ms", "paused_ms", "paused_by_reason"]);
            for time in &report.attendants_time {
                let reasons: Vec<String> = time
                    .paused_by_reason
                    .iter()
                    .map(|(reason, ms)| format!("{reason}={ms}"))
                    .collect();
                table.row([
                    time.attendant.clone(),
                    time.online_ms.to_string(),
                    time.paused_ms.to_string(),
                    reasons.join(";"),
                ]);
            }
            table.into_string()
        }
        _ => return None,
    })
}

/// The gap clusters as CSV (examples joined with ` | `, empty when hidden).
pub fn gaps_table(report: &GapReport) -> String {
    let mut table = Table::new(&[
        "key",
        "language",
        "label",
        "count",
        "first_half",
        "second_half",
        "fallback",
        "ambiguous",
        "no_hit",
        "answered",
        "tickets",
        "handoffs",
        "articles_sent",
        "unresolved",
        "dismissed",
        "examples",
    ]);
    for cluster in &report.clusters {
        let reason = |name: &str| cluster.reasons.get(name).copied().unwrap_or(0).to_string();
        let tally = |map: &std::collections::BTreeMap<String, usize>| {
            map.iter()
                .map(|(key, count)| format!("{key}={count}"))
                .collect::<Vec<_>>()
                .join(";")
        };
        table.row([
            cluster.key.clone(),
            cluster.language.clone(),
            cluster.label.clone(),
            cluster.count.to_string(),
            cluster.first_half.to_string(),
            cluster.second_half.to_string(),
            reason("fallback"),
            reason("ambiguous"),
            reason("no_hit"),
            reason("answered"),
            tally(&cluster.tickets),
            tally(&cluster.handoffs),
            tally(&cluster.articles_sent),
            cluster.unresolved.to_string(),
            cluster.dismissed.to_string(),
            cluster.examples.join(" | "),
        ]);
    }
    table.into_string()
}

/// The articles' figures as CSV.
pub fn articles_table(report: &ArticleReport) -> String {
    let mut table = Table::new(&[
        "article_id",
        "title",
        "shown",
        "opened",
        "viewed",
        "followed_by_ticket",
        "followed_by_handoff",
        "settled",
    ]);
    for article in &report.articles {
        table.row([
            article.article_id.clone(),
            article.title.clone(),
            article.shown.to_string(),
            article.opened.to_string(),
            article.viewed.to_string(),
            article.followed_by_ticket.to_string(),
            article.followed_by_handoff.to_string(),
            format!("{:.4}", article.settled),
        ]);
    }
    table.into_string()
}

/// A drill-down's conversations as CSV.
pub fn drill_table(rows: &[DrillRow]) -> String {
    let mut table = Table::new(&[
        "id",
        "opened_at",
        "channel",
        "language",
        "group",
        "project",
        "attendant",
        "contained",
        "handoff",
        "lost",
        "ticket",
        "transfers",
        "queue_ms",
        "first_response_ms",
        "close_reason",
        "rating",
    ]);
    for row in rows {
        table.row([
            row.id.clone(),
            opt(row.opened_at),
            opt(row.channel.clone()),
            opt(row.language.clone()),
            opt(row.group.clone()),
            opt(row.project.clone()),
            opt(row.attendant.clone()),
            row.contained.to_string(),
            row.handoff.to_string(),
            row.lost.to_string(),
            row.ticket.to_string(),
            row.transfers.to_string(),
            opt(row.queue_ms),
            opt(row.first_response_ms),
            opt(row.close_reason.clone()),
            opt(row.rating),
        ]);
    }
    table.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_it_and_defuses_formulas() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("=cmd()"), "'=cmd()");
        assert_eq!(escape("-12.5"), "-12.5");
    }
}
