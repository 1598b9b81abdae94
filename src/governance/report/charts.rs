//! SVG charts drawn in Rust with plotters' SVG backend. Text goes out as SVG `<text>` (plotters
//! without its `ttf` feature needs no font file, at build time or run time); the browser that
//! shows or prints the report draws the characters with its own CJK fonts.
//!
//! Each chart is a string of SVG markup, embedded as is in the HTML report and sent to the
//! dashboard.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

const FONT: &str = "sans-serif";
/// Blue, red, green, orange, purple, teal: readable in colour and distinguishable in grey print.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x5f, 0xa8),
    RGBColor(0xc6, 0x28, 0x28),
    RGBColor(0x2e, 0x7d, 0x32),
    RGBColor(0xef, 0x6c, 0x00),
    RGBColor(0x6a, 0x1b, 0x9a),
    RGBColor(0x00, 0x83, 0x8f),
];

/// One named series of values, one per label.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [u64],
}

#[derive(Debug, thiserror::Error)]
#[error("failed to draw the chart `{chart}`: {message}")]
pub struct ChartError {
    chart: String,
    message: String,
}

fn fail(chart: &str) -> impl Fn(String) -> ChartError + '_ {
    move |message| ChartError {
        chart: chart.to_string(),
        message,
    }
}

/// Width in pixels a label needs at `size` (CJK characters are about one em wide).
fn label_width(labels: &[String], size: u32) -> u32 {
    let widest = labels
        .iter()
        .map(|l| {
            l.chars()
                .map(|c| if c.is_ascii() { size / 2 + 1 } else { size })
                .sum::<u32>()
        })
        .max()
        .unwrap_or(0);
    widest + 12
}

/// What differs between the kinds of chart: canvas, margins, the room for axis labels.
struct Frame {
    size: (u32, u32),
    margin: u32,
    x_label_area: u32,
    y_label_area: u32,
}

/// Draws one chart on a white SVG canvas under `title`: `draw` gets the chart builder with the
/// frame's margins and label areas, sets its axes and draws the series. Returns the SVG markup.
fn chart(
    title: &str,
    frame: Frame,
    draw: impl FnOnce(ChartBuilder<'_, '_, SVGBackend<'_>>) -> Result<(), String>,
) -> Result<String, ChartError> {
    let err = fail(title);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, frame.size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, (FONT, 18))
            .margin(frame.margin)
            .x_label_area_size(frame.x_label_area)
            .y_label_area_size(frame.y_label_area);
        draw(builder).map_err(&err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// The largest value of any series, at least 1 (an empty chart still has an axis).
fn top(series: &[Series<'_>]) -> u64 {
    series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1)
}

/// Horizontal bars, one row per label, top to bottom in the order given. Later series are drawn
/// over earlier ones, thinner (e.g. 超期 over 工单量), so a part shows inside its whole.
pub fn bars(title: &str, labels: &[String], series: &[Series<'_>]) -> Result<String, ChartError> {
    let rows = labels.len().max(1);
    let max = top(series);
    let frame = Frame {
        size: (720, (70 + 26 * rows as u32).max(160)),
        margin: 10,
        x_label_area: 28,
        y_label_area: label_width(labels, 13),
    };
    chart(title, frame, |mut builder| {
        let mut chart = builder
            .build_cartesian_2d(
                0u64..max + max / 10 + 1,
                (0..rows as i32 - 1).into_segmented(),
            )
            .map_err(|e| e.to_string())?;
        // Row 0 is drawn at the bottom: label i sits on row rows-1-i.
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(r) => labels
                .get(rows.saturating_sub(1 + *r as usize))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows)
            .y_label_formatter(&label_of)
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, s) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let inset = 3 + 4 * k as u32;
            chart
                .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                    let row = (rows - 1 - i) as i32;
                    let mut bar = Rectangle::new(
                        [
                            (0, SegmentValue::Exact(row)),
                            (*v, SegmentValue::Exact(row + 1)),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(inset, inset, 0, 0);
                    bar
                }))
                .map_err(|e| e.to_string())?
                .label(s.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        if series.len() > 1 {
            legend(&mut chart)?;
        }
        Ok(())
    })
}

/// Lines over the labels (periods or days), one per series, with a legend.
pub fn lines(title: &str, labels: &[String], series: &[Series<'_>]) -> Result<String, ChartError> {
    let n = labels.len().max(1);
    let max = top(series);
    let frame = Frame {
        size: (720, 320),
        margin: 12,
        x_label_area: 30,
        y_label_area: 48,
    };
    chart(title, frame, |mut builder| {
        let mut chart = builder
            .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0u64..max + max / 8 + 1)
            .map_err(|e| e.to_string())?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&label_of)
            .label_style((FONT, 12))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, s) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points: Vec<(SegmentValue<i32>, u64)> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| (SegmentValue::CenterOf(i as i32), *v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        legend(&mut chart)
    })
}

fn legend<'a, 'b: 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_is_svg_with_a_bar_per_label_and_its_labels_as_text() {
        let labels = vec!["南山区".to_string(), "东城区".to_string()];
        let svg = bars(
            "各区来件量",
            &labels,
            &[Series {
                name: "工单量",
                values: &[30, 12],
            }],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            svg.contains("南山区") && svg.contains("东城区") && svg.contains("各区来件量"),
            "{svg}"
        );
        // Two bars in the first series' colour.
        assert_eq!(svg.matches(r##"fill="#1F5FA8""##).count(), 2, "{svg}");
    }

    #[test]
    fn a_line_chart_draws_one_line_per_series_with_a_legend() {
        let labels: Vec<String> = (1..=4).map(|i| format!("第{i}周")).collect();
        let svg = lines(
            "热点事项趋势",
            &labels,
            &[
                Series {
                    name: "停水",
                    values: &[1, 4, 2, 8],
                },
                Series {
                    name: "噪音扰民",
                    values: &[3, 3, 5, 2],
                },
            ],
        )
        .unwrap();
        // A four-point line per series (axes are thinner; legend samples have two points).
        let series_lines = svg
            .split("<polyline")
            .filter(|p| p.contains(r#"stroke-width="2""#))
            .filter_map(|p| p.split("points=\"").nth(1))
            .filter(|points| points.split(' ').filter(|x| x.contains(',')).count() == 4)
            .count();
        assert_eq!(series_lines, 2, "{svg}");
        assert!(svg.contains("停水") && svg.contains("噪音扰民"), "{svg}");
    }
}
