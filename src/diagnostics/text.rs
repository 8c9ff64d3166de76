//! Text for messages: error chains, shortened quotes of the input, chains
//! of names, and numbers Cedar cannot hold.

/// A message with its causes, as Cedar nests the useful part in `source()`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// The name closest to `unknown` by edit distance, then by name: the same
/// choice every time among equally close names.
pub(crate) fn closest_name(names: impl Iterator<Item = String>, unknown: &str) -> Option<String> {
    names.min_by(|a, b| {
        strsim::levenshtein(a, unknown)
            .cmp(&strsim::levenshtein(b, unknown))
            .then_with(|| a.cmp(b))
    })
}

/// Names of a chain for a message: the first three and the last two.
pub(crate) fn chain_text(names: &[String]) -> String {
    if names.len() <= 6 {
        return names.join(" → ");
    }
    let head = names
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(" → ");
    let tail = names
        .iter()
        .skip(names.len() - 2)
        .cloned()
        .collect::<Vec<_>>()
        .join(" → ");
    format!("{head} → … ({} more) … → {tail}", names.len() - 5)
}

/// A number Cedar cannot hold: the path to it, its text, and whether it is
/// a whole number (too large) rather than a fraction.
struct BadNumber {
    path: String,
    text: String,
    whole: bool,
}

/// Finds the first number in `value` that is not a 64-bit integer. Cedar's
/// own error for one is "data did not match any variant of untagged enum".
pub(crate) fn bad_number(value: &serde_json::Value, path: &str) -> Option<(String, String, bool)> {
    find_bad_number(value, path).map(|b| (b.path, b.text, b.whole))
}

fn find_bad_number(value: &serde_json::Value, path: &str) -> Option<BadNumber> {
    match value {
        serde_json::Value::Number(n) if n.as_i64().is_none() => {
            let whole = n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0);
            Some(BadNumber {
                path: path.to_owned(),
                text: n.to_string(),
                whole,
            })
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_bad_number(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            find_bad_number(item, &path)
        }),
        _ => None,
    }
}

/// Why a number is not a Long, for messages.
pub(crate) fn bad_number_reason(text: &str, whole: bool) -> String {
    if whole {
        format!(
            "{text} is out of range for a Long ({} to {})",
            i64::MIN,
            i64::MAX
        )
    } else {
        format!("{text} is not a whole number, and Cedar's numbers (Long) are")
    }
}

/// Longest message rolegrid builds from an error that may quote the input.
const MAX_MESSAGE: usize = 1_000;

/// Cuts a message that quotes a huge piece of input (a 1 MB string, say)
/// down to [`MAX_MESSAGE`] bytes, saying how much was left out.
pub(crate) fn shorten(message: String) -> String {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    let mut cut = MAX_MESSAGE;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    let left = message.len() - cut;
    format!(
        "{}… [{left} more bytes]",
        message.get(..cut).unwrap_or_default()
    )
}
