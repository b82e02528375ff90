//! The pictures of the pages, drawn on the server as inline SVG: bars per organisation, a stacked
//! bar, a weekly line. Labels are escaped; every bar can link to what is behind it.

use maud::{html, Markup};

/// One bar: its label, value out of `of`, where it links, and whether it is drawn in red.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub of: i64,
    pub href: String,
    pub alarm: bool,
}

/// Horizontal bars of shares (`value / of`), one row each, with the share written beside it.
pub fn share_bars(bars: &[Bar], title: &str) -> Markup {
    let row = 24;
    let label_w = 150;
    let bar_w = 360;
    let height = bars.len() as i64 * row + 8;
    html! {
        svg role="img" aria-label=(title) width=(label_w + bar_w + 130) height=(height)
            viewBox=(format!("0 0 {} {height}", label_w + bar_w + 130)) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (i, b) in bars.iter().enumerate() {
                @let y = i as i64 * row + 4;
                @let share = if b.of > 0 { b.value as f64 / b.of as f64 } else { 0.0 };
                @let w = (share.clamp(0.0, 1.0) * bar_w as f64).round() as i64;
                a href=(b.href) {
                    text x="0" y=(y + 15) { (clip(&b.label, 11)) }
                    rect x=(label_w) y=(y) width=(bar_w) height="18" fill="#e8edf2" {}
                    rect x=(label_w) y=(y) width=(w) height="18" fill=(if b.alarm { "#c53030" } else { "#2b6cb0" }) {
                        title { (b.label) "：" (super::format::count(b.value)) " / " (super::format::count(b.of)) }
                    }
                    text x=(label_w + bar_w + 6) y=(y + 15) {
                        (super::format::rate(b.value, b.of)) " (" (super::format::count(b.value)) "/" (super::format::count(b.of)) ")"
                    }
                }
            }
        }
    }
}

/// One part of a stacked bar.
pub struct Part {
    pub label: String,
    pub value: i64,
    pub href: String,
}

const PALETTE: [&str; 8] = [
    "#2f855a", "#2b6cb0", "#b7791f", "#6b46c1", "#c05621", "#2c7a7b", "#718096", "#b83280",
];

/// One bar split into its parts, with a legend under it.
pub fn stacked_bar(parts: &[Part], title: &str) -> Markup {
    let total: i64 = parts.iter().map(|p| p.value).sum();
    let width = 640.0;
    // Each part's start and width along the bar.
    let mut x = 0.0;
    let spans: Vec<(f64, f64)> = parts
        .iter()
        .map(|p| {
            let w = if total > 0 {
                p.value as f64 / total as f64 * width
            } else {
                0.0
            };
            let span = (x, w);
            x += w;
            span
        })
        .collect();
    let legend_rows = parts.len().div_ceil(3) as i64;
    let height = 40 + legend_rows * 20;
    html! {
        svg role="img" aria-label=(title) width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @if total == 0 {
                rect x="0" y="4" width=(width) height="24" fill="#e8edf2" {}
                text x="8" y="21" { "暂无数据" }
            }
            @for (i, (p, (x0, w))) in parts.iter().zip(spans.iter().copied()).enumerate() {
                @if w > 0.0 {
                    a href=(p.href) {
                        rect x=(format!("{x0:.1}")) y="4" width=(format!("{w:.1}")) height="24" fill=(PALETTE[i % PALETTE.len()]) {
                            title { (p.label) "：" (super::format::count(p.value)) }
                        }
                    }
                }
            }
            @for (i, p) in parts.iter().enumerate() {
                @let lx = (i % 3) as i64 * 215;
                @let ly = 44 + (i / 3) as i64 * 20;
                a href=(p.href) {
                    rect x=(lx) y=(ly - 10) width="12" height="12" fill=(PALETTE[i % PALETTE.len()]) {}
                    text x=(lx + 16) y=(ly) { (clip(&p.label, 8)) " " (super::format::count(p.value)) " (" (super::format::rate(p.value, total)) ")" }
                }
            }
        }
    }
}

/// One line of a weekly trend: its name and one value a week.
pub struct Series {
    pub label: String,
    pub values: Vec<i64>,
}

/// Lines over weeks, labelled by each week's first day, with a legend.
pub fn weekly_lines(weeks: &[String], series: &[Series], title: &str) -> Markup {
    let (w, h, left, bottom) = (640.0, 200.0, 48.0, 28.0);
    let top = 24.0;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = if weeks.len() > 1 {
        (w - left - 16.0) / (weeks.len() - 1) as f64
    } else {
        0.0
    };
    let y_of = |v: i64| top + (h - top - bottom) * (1.0 - v as f64 / max);
    html! {
        svg role="img" aria-label=(title) width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            line x1=(left) y1=(y_of(0)) x2=(w - 8.0) y2=(y_of(0)) stroke="#b8c2cc" {}
            text x="0" y=(y_of(0) + 4.0) { "0" }
            text x="0" y=(top + 4.0) { (super::format::count(max as i64)) }
            @for (i, label) in weeks.iter().enumerate() {
                @if i % 2 == 0 || weeks.len() <= 6 {
                    text x=(format!("{:.1}", left + i as f64 * step - 14.0)) y=(h - 8.0) { (label) }
                }
            }
            @for (k, s) in series.iter().enumerate() {
                @let points = s.values.iter().enumerate()
                    .map(|(i, v)| format!("{:.1},{:.1}", left + i as f64 * step, y_of(*v)))
                    .collect::<Vec<_>>().join(" ");
                polyline points=(points) fill="none" stroke=(PALETTE[k % PALETTE.len()]) stroke-width="2" {}
                @for (i, v) in s.values.iter().enumerate() {
                    circle cx=(format!("{:.1}", left + i as f64 * step)) cy=(format!("{:.1}", y_of(*v))) r="3" fill=(PALETTE[k % PALETTE.len()]) {
                        title { (s.label) " " (weeks.get(i).map(String::as_str).unwrap_or("")) "：" (super::format::count(*v)) }
                    }
                }
                rect x=(left + k as f64 * 120.0) y="4" width="12" height="12" fill=(PALETTE[k % PALETTE.len()]) {}
                text x=(left + k as f64 * 120.0 + 16.0) y="14" { (s.label) }
            }
        }
    }
}

/// A label cut to `n` characters with an ellipsis.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_in_pictures() {
        let svg = share_bars(
            &[Bar {
                label: "<script>".into(),
                value: 1,
                of: 2,
                href: "/x".into(),
                alarm: true,
            }],
            "t",
        )
        .into_string();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("#c53030"));
        assert!(svg.contains("50.0%"));
    }

    #[test]
    fn an_empty_stacked_bar_says_so() {
        assert!(stacked_bar(&[], "t").into_string().contains("暂无数据"));
    }
}
