//! Reading a YAML list of plain data straight from the YAML parser's events.
//!
//! Most of serde-saphyr's time on large files is its deserializer layer;
//! its parser, granit-parser, produces the events in a fraction of it
//! (BENCHMARKS.md has the figures). Entity and expectation files are lists of mappings, sequences, strings, integers
//! and booleans, for which the events say everything: [`read_list`] builds
//! the values from granit-parser's events, with serde-saphyr's parser
//! options and its rules for untagged scalars, and gives up (`None`, and
//! the caller asks serde-saphyr) on anything else: an error, a tag, an
//! anchor or alias, a null, a float, a scalar whose type is not plain from
//! its text (`True`, `0x1F`, `1_000`, `inf`, `012`, ...), a key that is not
//! a plain string, a repeated key, a second document, or a file near the
//! YAML limits. So values, item positions and every error are serde-saphyr's;
//! the tests (`plain_yaml/tests.rs`) compare both readers on the shipped
//! models, generated stores and files written to hit each rule.

use granit_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::ops::Range;

/// The items of the YAML list `text`, each with the byte range serde-saphyr
/// gives for its start (before the store clips it to its line), or `None`
/// where serde-saphyr must read the file.
pub(crate) fn read_list(
    text: &str,
    budget: &serde_saphyr::Budget,
) -> Option<Vec<(Value, Range<usize>)>> {
    let mut reader = Reader {
        parser: Parser::new_from_str_with_options(text, parser_options(budget)),
        // well inside serde-saphyr's budget, which then never decides
        max_nodes: budget.max_nodes / 2,
        max_depth: budget.max_depth / 2,
        nodes: 0,
    };
    reader.consume(|e| matches!(e, Event::StreamStart))?;
    reader.consume(|e| matches!(e, Event::DocumentStart(_, None)))?;
    let (first, _) = reader.next()?;
    let Event::SequenceStart(_, 0, None) = first else {
        return None;
    };
    let mut items = Vec::new();
    loop {
        let (event, span) = reader.next()?;
        if matches!(event, Event::SequenceEnd) {
            break;
        }
        let start = span.start.byte_offset()?;
        let len = span.end.byte_offset()?.saturating_sub(start);
        items.push((reader.value(event, 1)?, start..start + len));
    }
    reader.consume(|e| matches!(e, Event::DocumentEnd))?;
    reader.consume(|e| matches!(e, Event::StreamEnd))?;
    Some(items)
}

/// granit-parser's options as serde-saphyr sets them for `budget`.
fn parser_options(budget: &serde_saphyr::Budget) -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    options.emit_comments = true;
    options.max_buffered_comment_events = budget.max_buffered_comment_events;
    options.flow_nesting_limit = budget.flow_nesting_limit;
    options.block_nesting_limit = options
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    options
}

struct Reader<'t> {
    parser: Parser<'t, granit_parser::StrInput<'t>>,
    max_nodes: usize,
    max_depth: usize,
    nodes: usize,
}

impl<'t> Reader<'t> {
    /// The next event but comments, counted as a node; `None` at an error
    /// or the limit.
    fn next(&mut self) -> Option<(Event<'t>, Span)> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return None;
        }
        loop {
            match self.parser.next_event()?.ok()? {
                (Event::Comment(..), _) => {}
                event => return Some(event),
            }
        }
    }

    /// Consumes the next event if `is` it.
    fn consume(&mut self, is: impl Fn(&Event<'t>) -> bool) -> Option<()> {
        let (event, _) = self.next()?;
        is(&event).then_some(())
    }

    /// The value of the node `event` starts, `depth` levels down.
    fn value(&mut self, event: Event<'t>, depth: usize) -> Option<Value> {
        if depth > self.max_depth {
            return None;
        }
        match event {
            Event::Scalar(text, style, 0, None) => scalar(text, style),
            Event::SequenceStart(_, 0, None) => {
                let mut items = Vec::new();
                loop {
                    let (event, _) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        return Some(Value::Array(items));
                    }
                    items.push(self.value(event, depth + 1)?);
                }
            }
            Event::MappingStart(_, 0, None) => {
                let mut map = Map::new();
                loop {
                    let (event, _) = self.next()?;
                    let key = match event {
                        Event::MappingEnd => return Some(Value::Object(map)),
                        Event::Scalar(text, style, 0, None) => key(text, style)?,
                        _ => return None,
                    };
                    let (event, _) = self.next()?;
                    let value = self.value(event, depth + 1)?;
                    if map.insert(key, value).is_some() {
                        // a repeated key: serde-saphyr's rule decides
                        return None;
                    }
                }
            }
            _ => None,
        }
    }
}

/// A mapping key: a quoted scalar, or a plain one that is a string.
fn key(text: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    match scalar(text, style)? {
        Value::String(key) => Some(key),
        _ => None,
    }
}

/// An untagged scalar as serde-saphyr reads it into a `serde_json::Value`
/// (strict booleans), where that is plain from the text: any non-plain
/// style is a string; a plain scalar is `true`/`false`, a decimal integer
/// without leading zeros, or a string starting with an ASCII letter that no
/// spelling of null, a boolean or a float can be. `None` for the rest.
fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.into_owned()));
    }
    match text.as_ref() {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if first.is_ascii_digit() || first == b'-' {
        return integer(&text).map(Value::Number);
    }
    if !first.is_ascii_alphabetic() || looks_typed(&text) {
        return None;
    }
    Some(Value::String(text.into_owned()))
}

/// A decimal integer without sign or leading zero (`0`, `42`), or a
/// negative one (`-7`), short enough for 64 bits.
fn integer(text: &str) -> Option<Number> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !plain || text == "-0" {
        return None;
    }
    if text.starts_with('-') {
        text.parse::<i64>().ok().map(Number::from)
    } else {
        text.parse::<u64>().ok().map(Number::from)
    }
}

/// Words serde-saphyr (with strict booleans) may take for something other
/// than a string, in any case: null, the booleans, and the float words Rust
/// and YAML know.
fn looks_typed(text: &str) -> bool {
    const WORDS: [&str; 6] = ["null", "true", "false", "inf", "infinity", "nan"];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests;
