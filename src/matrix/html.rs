//! The matrix as HTML: self-contained (inline CSS and SVG, no script, no
//! external asset), readable in light and dark themes and in print. Marks
//! are inline SVG shapes, not emoji: they render with any font installed.

use super::model::{Cell, Group, Matrix, Verdict};
use std::fmt::Write as _;

/// Text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The style of every rolegrid page.
pub const CSS: &str = "\
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d0d7de;--head:#f6f8fa;\
--allowed:#dafbe1;--denied:#ffebe9;--conditional:#fff8c5;--yes:#1a7f37;--no:#cf222e;--some:#9a6700;--none:#8c959f}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;--head:#161b22;\
--allowed:#12261e;--denied:#2d1619;--conditional:#2e2a14;--yes:#3fb950;--no:#f85149;--some:#d29922;--none:#6e7681}}
body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;margin:2rem;color:var(--fg);background:var(--bg)}
h1{font-size:1.5rem}h2{font-size:1.3rem;margin-top:2.5rem}h3{font-size:1.1rem;margin-top:1.5rem}
p.legend,p.summary{color:var(--muted)}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid var(--line);padding:.35rem .7rem;vertical-align:top}
th{background:var(--head);text-align:left}
td.action{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
td.cell{text-align:center}td.number{text-align:right}
td.allowed{background:var(--allowed)}td.denied{background:var(--denied)}
td.conditional{background:var(--conditional);text-align:left;max-width:22rem}
svg.mark{width:1em;height:1em;vertical-align:-.15em}
svg.mark.allowed{color:var(--yes)}svg.mark.denied{color:var(--no)}
svg.mark.conditional{color:var(--some)}svg.mark.untested{color:var(--none)}
.condition{font-size:.9em}
@media print{body{margin:0}h2{break-before:page}table{break-inside:avoid}}
";

/// The class of a verdict (CSS, and what a test reads back).
fn class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Conditional => "conditional",
        Verdict::Untested => "untested",
    }
}

/// A verdict's mark: an inline SVG shape in the verdict's colour, with its
/// name for screen readers.
pub fn mark(verdict: Verdict) -> String {
    let (label, shape) = match verdict {
        Verdict::Allowed => (
            "allowed",
            r#"<path d="M3 8.5l3.2 3.2L13 4.8" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>"#,
        ),
        Verdict::Denied => (
            "denied",
            r#"<path d="M4 4l8 8M12 4l-8 8" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>"#,
        ),
        Verdict::Conditional => (
            "allowed under a condition",
            r#"<circle cx="8" cy="8" r="5.5" fill="currentColor"/>"#,
        ),
        Verdict::Untested => (
            "not asked",
            r#"<path d="M4 8h8" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>"#,
        ),
    };
    format!(
        r#"<svg class="mark {}" viewBox="0 0 16 16" role="img" aria-label="{label}"><title>{label}</title>{shape}</svg>"#,
        class(verdict)
    )
}

fn short_type(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

fn cell(cell: &Cell) -> String {
    let class = class(cell.verdict);
    let title = format!("{} of {} requests allowed", cell.allowed, cell.requests);
    match (&cell.verdict, &cell.condition) {
        (Verdict::Conditional, Some(condition)) => format!(
            "<td class=\"cell {class}\" title=\"{title}\">{} <span class=\"condition\">{}</span></td>",
            mark(cell.verdict),
            escape(condition)
        ),
        (verdict, _) => format!(
            "<td class=\"cell {class}\" title=\"{title}\">{}</td>",
            mark(*verdict)
        ),
    }
}

fn group_table(out: &mut String, matrix: &Matrix, group: &Group, heading: &str) {
    let _ = writeln!(
        out,
        "<{heading}>{}</{heading}>\n<table>\n<thead><tr><th>action</th>{}</tr></thead>\n<tbody>",
        escape(short_type(&group.resource_type)),
        matrix
            .roles
            .iter()
            .map(|r| format!("<th>{}</th>", escape(&r.id)))
            .collect::<String>()
    );
    for row in &group.rows {
        let _ = writeln!(
            out,
            "<tr><td class=\"action\">{}</td>{}</tr>",
            escape(&row.action_id),
            row.cells.iter().map(cell).collect::<String>()
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The legend of a matrix: each mark it uses, with its meaning.
pub fn legend(matrix: &Matrix) -> String {
    let untested = matrix
        .groups
        .iter()
        .flat_map(|g| &g.rows)
        .flat_map(|r| &r.cells)
        .any(|c| c.verdict == Verdict::Untested);
    let mut text = format!(
        "{} allowed, {} denied, {} allowed only under the condition given",
        mark(Verdict::Allowed),
        mark(Verdict::Denied),
        mark(Verdict::Conditional)
    );
    if untested {
        let _ = write!(
            text,
            ", {} not asked (no such resource in the fixture)",
            mark(Verdict::Untested)
        );
    }
    text
}

/// The matrix's tables (one per resource type, headed `heading`) and notes.
pub fn section(matrix: &Matrix, heading: &str) -> String {
    let mut out = String::new();
    for group in &matrix.groups {
        group_table(&mut out, matrix, group, heading);
    }
    if !matrix.notes.is_empty() {
        let _ = writeln!(out, "<{heading}>Notes</{heading}>\n<ul>");
        for note in &matrix.notes {
            let _ = writeln!(out, "<li>{}</li>", escape(note));
        }
        out.push_str("</ul>\n");
    }
    out
}

/// A whole page: `title` as its title and heading, then `body` (HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n",
        title = escape(title)
    )
}

/// The page of one matrix.
pub(super) fn matrix_page(matrix: &Matrix) -> String {
    let body = format!(
        "<p class=\"legend\">Computed by <code>rolegrid matrix</code> from the policies: {}.</p>\n{}",
        legend(matrix),
        section(matrix, "h2")
    );
    page(
        &format!("{}: effective permissions by role", matrix.product),
        &body,
    )
}
