//! The matrix as Markdown and terminal tables (HTML: [`super::html`]). Only formatting here.

use super::model::{Cell, Group, Matrix, Verdict};
use comfy_table::{Cell as TableCell, ColumnConstraint, ContentArrangement, Table, Width, presets};
use std::fmt::Write as _;

/// Columns a text needs at the least: its longest word (emoji are two wide).
fn longest_word(text: &str) -> usize {
    text.split_whitespace()
        .map(unicode_width::UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

/// Columns a table column takes at the least: its widest unbreakable text,
/// two of padding and one border.
fn column_floor<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    texts.map(longest_word).max().unwrap_or(0) + 3
}

/// The roles split into runs whose table fits in `width` (a run holds one
/// role at least, however wide).
fn role_chunks(matrix: &Matrix, group: &Group, width: u16) -> Vec<std::ops::Range<usize>> {
    let actions = column_floor(
        std::iter::once("action").chain(group.rows.iter().map(|r| r.action_id.as_str())),
    ) + 1;
    let texts: Vec<Vec<String>> = group
        .rows
        .iter()
        .map(|row| row.cells.iter().map(Cell::text).collect())
        .collect();
    let floors: Vec<usize> = matrix
        .roles
        .iter()
        .enumerate()
        .map(|(i, role)| {
            column_floor(
                std::iter::once(role.id.as_str()).chain(
                    texts
                        .iter()
                        .filter_map(|row| row.get(i))
                        .map(String::as_str),
                ),
            )
        })
        .collect();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut used = actions;
    for (i, floor) in floors.iter().enumerate() {
        if i > start && used + floor > usize::from(width) {
            chunks.push(start..i);
            start = i;
            used = actions;
        }
        used += floor;
    }
    if start < floors.len() || chunks.is_empty() {
        chunks.push(start..floors.len());
    }
    chunks
}

/// One terminal table of a group: the action column and `roles`.
fn table_of(matrix: &Matrix, group: &Group, roles: std::ops::Range<usize>, width: u16) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    let mut header = vec![TableCell::new("action")];
    header.extend(
        matrix
            .roles
            .get(roles.clone())
            .unwrap_or_default()
            .iter()
            .map(|r| TableCell::new(&r.id)),
    );
    table.set_header(header);
    for row in &group.rows {
        let mut cells = vec![TableCell::new(&row.action_id)];
        cells.extend(
            row.cells
                .get(roles.clone())
                .unwrap_or_default()
                .iter()
                .map(|c| TableCell::new(c.text())),
        );
        table.add_row(cells);
    }
    // no column narrower than its longest word: words are never cut
    let mut constraints = vec![ColumnConstraint::ContentWidth];
    for (i, role) in matrix
        .roles
        .iter()
        .enumerate()
        .skip(roles.start)
        .take(roles.len())
    {
        let floor = column_floor(
            std::iter::once(role.id.as_str()).chain(
                group
                    .rows
                    .iter()
                    .filter_map(|r| r.cells.get(i))
                    .map(|c| c.text())
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            ),
        );
        constraints.push(ColumnConstraint::LowerBoundary(Width::Fixed(
            u16::try_from(floor.saturating_sub(1)).unwrap_or(u16::MAX),
        )));
    }
    table.set_constraints(constraints);
    table
}

fn short_type(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

fn has_untested(matrix: &Matrix) -> bool {
    matrix
        .groups
        .iter()
        .flat_map(|g| &g.rows)
        .flat_map(|r| &r.cells)
        .any(|c| c.verdict == Verdict::Untested)
}

fn legend(matrix: &Matrix) -> String {
    let mut text = String::from("✅ allowed, ❌ denied, 🟡 allowed only under the condition given");
    if has_untested(matrix) {
        text.push_str(", – not asked (no such resource in the fixture)");
    }
    text
}

fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '*' => out.push_str("\\*"),
            '\\' => out.push_str("\\\\"),
            // `<` only starts HTML before a letter, `/`, `!` or `?`
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("\\<");
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Markdown: a legend, then per resource type a heading and a table.
pub(super) fn markdown(matrix: &Matrix) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- generated by `rolegrid matrix --product {} --format markdown` from the policies -->",
        matrix.product
    );
    let _ = writeln!(
        out,
        "Effective permissions of **{}** by role: {}.",
        markdown_escape(&matrix.product),
        legend(matrix)
    );
    for group in &matrix.groups {
        let _ = writeln!(
            out,
            "\n#### {}\n",
            markdown_escape(short_type(&group.resource_type))
        );
        out.push_str("| action |");
        for role in &matrix.roles {
            let _ = write!(out, " {} |", markdown_escape(&role.id));
        }
        out.push_str("\n| :--- |");
        for _ in &matrix.roles {
            out.push_str(" :---: |");
        }
        out.push('\n');
        for row in &group.rows {
            let _ = write!(out, "| `{}` |", row.action_id.replace('`', "'"));
            for cell in &row.cells {
                let _ = write!(out, " {} |", markdown_escape(&cell.text()));
            }
            out.push('\n');
        }
    }
    if !matrix.notes.is_empty() {
        out.push_str("\nNotes:\n\n");
        for note in &matrix.notes {
            let _ = writeln!(out, "- {}", markdown_escape(note));
        }
    }
    out
}

/// Terminal tables, one per resource type, at most `width` columns wide:
/// cells wrap between words, never inside one, and when the roles do not
/// fit side by side they are split over several tables (each repeating the
/// action column).
pub(super) fn human(matrix: &Matrix, width: u16) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: effective permissions by role ({} requests asked)",
        matrix.product, matrix.requests
    );
    for group in &matrix.groups {
        let _ = writeln!(out, "\n{}", short_type(&group.resource_type));
        for roles in role_chunks(matrix, group, width) {
            let _ = writeln!(out, "{}", table_of(matrix, group, roles, width));
        }
    }
    let _ = writeln!(out, "\n{}", legend(matrix));
    for note in &matrix.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}
