//! The report as a person reads it: one self-contained HTML file (inline CSS, SVG charts drawn in
//! Rust, nothing fetched), Markdown, and CSV of the numbers. Templates live in `reports/`
//! (Simplified Chinese) and are compiled into the binary.

use std::collections::BTreeMap;

use minijinja::{Environment, context};
use serde::Serialize;

use super::Report;
use super::charts::{ChartError, Series, bars, lines};

const HTML: &str = include_str!("../../../reports/report.html");
const MARKDOWN: &str = include_str!("../../../reports/report.md");

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("report template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("report CSV: {0}")]
    Csv(String),
}

/// One drawn chart and the names of its series (the page and the tests read both).
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: &'static str,
    pub series: Vec<String>,
    pub svg: String,
}

fn top<T>(items: &[T], n: usize) -> &[T] {
    &items[..items.len().min(n)]
}

/// Every chart of the report, in page order.
pub fn charts(report: &Report) -> Result<Vec<Chart>, RenderError> {
    let mut out = Vec::new();
    let chart = |id, names: &[&str], svg: Result<String, ChartError>| {
        Ok::<_, RenderError>(Chart {
            id,
            series: names.iter().map(|s| s.to_string()).collect(),
            svg: svg?,
        })
    };
    let volume_title = if report.kind == super::PeriodKind::Daily {
        "分时来件量"
    } else {
        "每日来件量"
    };
    out.push(chart(
        "volume",
        &["来件量"],
        lines(
            volume_title,
            &report.volume_labels,
            &[Series {
                name: "来件量",
                values: &report.volume,
            }],
        ),
    )?);
    for (id, title, counts) in [
        ("channel", "各渠道来件量", &report.by_channel),
        ("category", "诉求类型分布", &report.by_category),
        ("district", "各区来件量", &report.by_district),
    ] {
        let labels: Vec<String> = counts.iter().map(|c| c.name.clone()).collect();
        let values: Vec<u64> = counts.iter().map(|c| c.count).collect();
        out.push(chart(
            id,
            &["工单量"],
            bars(
                title,
                &labels,
                &[Series {
                    name: "工单量",
                    values: &values,
                }],
            ),
        )?);
    }
    let units = top(&report.rates.rows, 15);
    let labels: Vec<String> = units.iter().map(|r| r.name.clone()).collect();
    let tickets: Vec<u64> = units.iter().map(|r| r.tickets).collect();
    let overdue: Vec<u64> = units.iter().map(|r| r.overdue).collect();
    out.push(chart(
        "units",
        &["工单量", "超期"],
        bars(
            "承办单位工单量与超期",
            &labels,
            &[
                Series {
                    name: "工单量",
                    values: &tickets,
                },
                Series {
                    name: "超期",
                    values: &overdue,
                },
            ],
        ),
    )?);
    let matters = top(&report.top_matters, 5);
    let series: Vec<Series<'_>> = matters
        .iter()
        .map(|m| Series {
            name: &m.matter,
            values: &m.series,
        })
        .collect();
    let names: Vec<&str> = matters.iter().map(|m| m.matter.as_str()).collect();
    out.push(chart(
        "matters",
        &names,
        lines("主要诉求事项趋势", &report.trend_labels, &series),
    )?);
    Ok(out)
}

fn environment() -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.add_template("report.html", HTML)?;
    env.add_template("report.md", MARKDOWN)?;
    env.add_filter("pct", |v: Option<f64>| match v {
        Some(v) if v > 0.0 => format!("+{v:.1}%"),
        Some(v) => format!("{v:.1}%"),
        None => "—".to_string(),
    });
    env.add_filter("rate", |v: Option<f64>| match v {
        Some(v) => format!("{:.1}%", v * 100.0),
        None => "—".to_string(),
    });
    Ok(env)
}

/// The self-contained HTML report.
pub fn html(report: &Report) -> Result<String, RenderError> {
    let charts: BTreeMap<&str, Chart> = charts(report)?.into_iter().map(|c| (c.id, c)).collect();
    let env = environment()?;
    Ok(env
        .get_template("report.html")?
        .render(context! { r => report, charts => charts })?)
}

/// The report's numbers and lists as Markdown.
pub fn markdown(report: &Report) -> Result<String, RenderError> {
    let env = environment()?;
    Ok(env
        .get_template("report.md")?
        .render(context! { r => report })?)
}

/// The numbers as CSV rows: section, name, count, share or change.
pub fn csv(report: &Report) -> Result<String, RenderError> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let e = |e: ::csv::Error| RenderError::Csv(e.to_string());
    w.write_record(["section", "name", "value", "extra"])
        .map_err(e)?;
    let mut row = |section: &str, name: &str, value: String, extra: String| {
        w.write_record([section, name, &value, &extra]).map_err(e)
    };
    row(
        "total",
        "工单总量",
        report.total.to_string(),
        report.previous_total.to_string(),
    )?;
    for (section, counts) in [
        ("channel", &report.by_channel),
        ("category", &report.by_category),
        ("district", &report.by_district),
    ] {
        for c in counts {
            row(
                section,
                &c.name,
                c.count.to_string(),
                format!("{:.1}", c.share),
            )?;
        }
    }
    for (label, v) in report.volume_labels.iter().zip(&report.volume) {
        row("volume", label, v.to_string(), String::new())?;
    }
    for u in &report.rates.rows {
        row(
            "unit_tickets",
            &u.name,
            u.tickets.to_string(),
            u.answered.to_string(),
        )?;
        row(
            "unit_overdue",
            &u.name,
            u.overdue.to_string(),
            String::new(),
        )?;
    }
    row(
        "overdue",
        "超期未办结",
        report.overdue.open.to_string(),
        String::new(),
    )?;
    row(
        "overdue",
        "超期办结",
        report.overdue.answered_late.to_string(),
        String::new(),
    )?;
    for m in &report.top_matters {
        let trend = m
            .series
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        row("matter", &m.matter, m.count.to_string(), trend)?;
    }
    for h in &report.hotspots {
        let name = format!("{} {}{}", h.cluster, h.district, h.street);
        row("hotspot", &name, h.tickets.to_string(), h.matter.clone())?;
    }
    for g in &report.gaps {
        let kind = match g.kind {
            crate::governance::gaps::GapKind::New => "新增",
            crate::governance::gaps::GapKind::Improve => "完善",
        };
        row(
            "knowledge_gap",
            &g.subject,
            g.citizens.to_string(),
            kind.to_string(),
        )?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| RenderError::Csv(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RenderError::Csv(e.to_string()))
}
