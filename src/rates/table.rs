//! The report as a table for people (comfy-table: CJK-width aware) and as CSV for spreadsheets.

use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};

use super::{RateReport, RateRow};

const HEADER: [&str; 13] = [
    "分组",
    "受理",
    "评价",
    "响应率",
    "解决率",
    "满意率",
    "综合得分",
    "按时签收率",
    "按时办结率",
    "重办率",
    "退单率",
    "未联系上",
    "派单",
];

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn cells(row: &RateRow, label: String) -> Vec<String> {
    let c = &row.counts;
    vec![
        label,
        c.received.to_string(),
        c.evaluated.to_string(),
        percent(row.response_rate),
        percent(row.solved_rate),
        percent(row.satisfied_rate),
        row.score
            .map(|s| format!("{s:.1}"))
            .unwrap_or_else(|| "—".into()),
        percent(row.on_time_sign_rate),
        percent(row.on_time_close_rate),
        percent(row.rehandle_rate),
        percent(row.objection_rate),
        c.unreachable.to_string(),
        c.dispatched.to_string(),
    ]
}

/// A table for the terminal; `name` turns a group key (a unit id) into what people call it.
pub fn to_table(report: &RateReport, name: &dyn Fn(&str) -> String) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADER);
    for row in &report.rows {
        table.add_row(cells(row, name(&row.group)));
    }
    table.add_row(cells(&report.total, report.total.group.clone()));
    for column in table.column_iter_mut().skip(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    format!(
        "{} 至 {}\n{table}\n直接答复率 {}（知识库直接答复 {} / 咨询 {}）",
        report.period.from,
        report.period.to,
        percent(report.direct_answer_rate),
        report.kb_answered,
        report.consultations
    )
}

/// CSV with one line per group and a 合计 line; rates as fractions (0.933), empty when there
/// is nothing to divide by.
pub fn to_csv(report: &RateReport, name: &dyn Fn(&str) -> String) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "group",
        "name",
        "received",
        "dispatched",
        "evaluated",
        "response_rate",
        "solved_rate",
        "satisfied_rate",
        "score",
        "on_time_sign_rate",
        "on_time_close_rate",
        "rehandle_rate",
        "objection_rate",
        "unreachable",
        "direct_answer_rate",
    ])?;
    let fraction = |r: Option<f64>| r.map(|r| format!("{r:.4}")).unwrap_or_default();
    let total = std::iter::once((&report.total, report.total.group.clone()));
    let rows = report.rows.iter().map(|r| (r, name(&r.group)));
    for (row, label) in rows.chain(total) {
        let c = &row.counts;
        let direct = if row.group == report.total.group {
            fraction(report.direct_answer_rate)
        } else {
            String::new()
        };
        out.write_record([
            row.group.clone(),
            label,
            c.received.to_string(),
            c.dispatched.to_string(),
            c.evaluated.to_string(),
            fraction(row.response_rate),
            fraction(row.solved_rate),
            fraction(row.satisfied_rate),
            row.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
            fraction(row.on_time_sign_rate),
            fraction(row.on_time_close_rate),
            fraction(row.rehandle_rate),
            fraction(row.objection_rate),
            c.unreachable.to_string(),
            direct,
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
