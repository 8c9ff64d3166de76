//! `rolegrid authorize`: decide one request from flags, or a stream of JSON Lines.

use super::names::{Names, json_argument};
use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{Format, ProblemsOut, report, stdout_problem, write_out};
use super::source::{Loaded, SourceArgs};
use cedar_policy::Entities;
use rolegrid::explain::{Explanation, explain};
use rolegrid::parallel::{PerThread, par_map};
use rolegrid::{
    Answer, Evaluator, Problem, ProblemKind, Problems, ReloadOutcome, RequestSpec, Snapshot,
    UidCache,
};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `rolegrid authorize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: SourceArgs,
    /// The principal: 'ImageKit::User::"alice"', or 'User::"alice"' in the product's namespace.
    #[arg(long, required_unless_present = "requests", value_name = "UID")]
    principal: Option<String>,
    /// The action: an id ('viewMedia') or a uid ('ImageKit::Action::"viewMedia"').
    #[arg(long, required_unless_present = "requests", value_name = "ACTION")]
    action: Option<String>,
    /// The resource: 'ImageKit::File::"logo"', or 'File::"logo"' in the product's namespace.
    #[arg(long, required_unless_present = "requests", value_name = "UID")]
    resource: Option<String>,
    /// The context: a JSON object inline, `@FILE`, or the path of a JSON file.
    #[arg(long, value_name = "JSON|@FILE")]
    context: Option<String>,
    /// JSON Lines of requests (`-` for stdin); one answer line per request, in order.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "action", "resource", "context"])]
    requests: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Explain each answer: every policy, whether its scope matched (principal,
    /// action, resource) and what its condition gave, and for a deny the
    /// permits that came closest.
    #[arg(long)]
    explain: bool,
    /// With --requests and --product: keep running, answer each line at once
    /// (flushed), and hot-reload the product when its files change.
    #[arg(long, requires_all = ["requests", "product"])]
    watch: bool,
}

impl Args {
    /// How answers are written.
    fn reply(&self) -> Reply {
        Reply {
            format: self.format,
            explain: self.explain,
        }
    }

    /// Where problems go besides stderr: with `--format json`, a JSON line
    /// on stdout (the output stays JSON Lines).
    pub(super) fn problems_out(&self) -> ProblemsOut {
        match self.format {
            Format::Json => ProblemsOut::JsonLine,
            Format::Human => ProblemsOut::Stderr,
        }
    }
}

/// Runs `rolegrid authorize`.
pub fn run(args: &Args) -> Outcome {
    if args.watch && args.requests.is_none() {
        return Err(Problem::new(ProblemKind::Usage, "--watch needs --requests")
            .with_help("--watch serves request lines: pass --requests FILE (or - for stdin)")
            .into());
    }
    let status = if args.watch
        && let Some(path) = &args.requests
    {
        run_watch(args, path)?
    } else {
        let loaded = args.source.load()?;
        match &args.requests {
            Some(path) => run_batch(args, &loaded, path)?,
            None => run_single(args, &loaded)?,
        }
    };
    Ok(Finished::with(status))
}

fn run_single(args: &Args, loaded: &Loaded) -> Result<ExitStatus, Problems> {
    let (Some(principal), Some(action), Some(resource)) =
        (&args.principal, &args.action, &args.resource)
    else {
        return Err(Problem::new(
            ProblemKind::Usage,
            "--principal, --action and --resource are required",
        )
        .into());
    };
    let names = Names::new(&loaded.snapshot);
    let mut problems = Problems::new();
    let mut take =
        |named: Result<cedar_policy::EntityUid, Problem>| named.map_err(|p| problems.push(p)).ok();
    let principal = take(names.entity("--principal", principal));
    let action = take(names.action(action));
    let resource = take(names.entity("--resource", resource));
    let context = args
        .context
        .as_deref()
        .map(|text| json_argument("--context", text))
        .transpose()
        .map_err(|p| problems.push(p))
        .ok();
    let (Some(principal), Some(action), Some(resource), Some(context)) =
        (principal, action, resource, context)
    else {
        return Err(problems);
    };
    for (flag, uid) in [("--principal", &principal), ("--resource", &resource)] {
        if let Some(note) = names.absent(flag, uid, loaded.entities()) {
            eprintln!("{note}");
        }
    }
    let request = loaded.snapshot.build_request(RequestSpec {
        principal,
        action,
        resource,
        context,
    })?;
    let text = if args.explain {
        let explanation = explain(&loaded.snapshot, &request, loaded.entities());
        match args.format {
            Format::Json => format!(
                "{}\n",
                serde_json::to_string(&explanation).unwrap_or_default()
            ),
            Format::Human => {
                human(&explanation.answer, loaded) + &explanation_text(&explanation, "  ")
            }
        }
    } else {
        let answer = loaded.snapshot.authorize_with(&request, loaded.entities());
        match args.format {
            Format::Json => format!("{}\n", answer.to_json_line()),
            Format::Human => human(&answer, loaded),
        }
    };
    write_out(&text)?;
    Ok(ExitStatus::Success)
}

/// The readable form of an explanation: each policy's part, then for a
/// deny the permits that came closest; every line led by `indent`.
fn explanation_text(explanation: &Explanation, indent: &str) -> String {
    let mut text = format!("{indent}why:\n");
    let width = explanation
        .policies
        .iter()
        .map(|p| p.id.len())
        .max()
        .unwrap_or(0);
    for policy in &explanation.policies {
        let place = policy
            .location
            .as_ref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        text.push_str(&format!(
            "{indent}  {:width$}  {:6}  {}{place}\n",
            policy.id,
            policy.effect,
            policy.summary()
        ));
    }
    let closest = explanation.closest_permits();
    if !closest.is_empty() {
        text.push_str(&format!("{indent}closest permits:\n"));
        for policy in closest {
            text.push_str(&format!("{indent}  {}: {}\n", policy.id, policy.summary()));
        }
    }
    text
}

/// The readable form of an answer: the decision, then why.
fn human(answer: &Answer, loaded: &Loaded) -> String {
    let mut text = String::from(if answer.is_allowed() {
        "ALLOW\n"
    } else {
        "DENY\n"
    });
    if answer.reasons().is_empty() {
        text.push_str("  no policy applies: denied by default\n");
    }
    for reason in answer.reasons() {
        match loaded.snapshot.policy_location(reason) {
            Some(location) => text.push_str(&format!("  because of {reason} ({location})\n")),
            None => text.push_str(&format!("  because of {reason}\n")),
        }
    }
    for error in answer.errors() {
        text.push_str(&format!("  error in {}: {}\n", error.policy, error.message));
    }
    text
}

/// One request line as read.
enum RequestLine {
    /// The line without its line end.
    Text(String),
    /// A line that is not UTF-8.
    NotUtf8,
    /// A line longer than this many bytes: its bytes were skipped, not kept.
    TooLong(u64),
}

impl RequestLine {
    fn is_blank(&self) -> bool {
        matches!(self, Self::Text(text) if text.trim().is_empty())
    }

    /// The bytes it holds.
    fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::NotUtf8 | Self::TooLong(_) => 0,
        }
    }
}

/// The input's lines, each at most `max_bytes` long (the store's largest
/// file, `--max-file-size`): of a longer line no more than that is held and
/// the rest is read past; it is given as [`RequestLine::TooLong`] so it can
/// be answered with an error.
fn request_lines(
    mut input: Box<dyn BufRead>,
    max_bytes: u64,
) -> impl Iterator<Item = std::io::Result<RequestLine>> {
    std::iter::from_fn(move || read_line(&mut *input, max_bytes).transpose())
}

/// Reads one line (`None` at the end of the input).
fn read_line(input: &mut dyn BufRead, max_bytes: u64) -> std::io::Result<Option<RequestLine>> {
    let mut bytes: Vec<u8> = Vec::new();
    // room for the line end and a `\r` before it
    let limit = max_bytes.saturating_add(2);
    let read = std::io::Read::take(&mut *input, limit).read_until(b'\n', &mut bytes)?;
    if read == 0 {
        return Ok(None);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    } else if u64::try_from(read).is_ok_and(|read| read == limit) {
        // stopped by the limit inside the line
        input.skip_until(b'\n')?;
        return Ok(Some(RequestLine::TooLong(max_bytes)));
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    if u64::try_from(bytes.len()).map_or(true, |length| length > max_bytes) {
        return Ok(Some(RequestLine::TooLong(max_bytes)));
    }
    Ok(Some(match String::from_utf8(bytes) {
        Ok(text) => RequestLine::Text(text),
        Err(_) => RequestLine::NotUtf8,
    }))
}

fn open_input(path: &Path) -> Result<Box<dyn BufRead>, Problems> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    std::fs::File::open(path)
        .map(|file| Box::new(std::io::BufReader::new(file)) as Box<dyn BufRead>)
        .map_err(|e| rolegrid::Problem::io(path, &e).into())
}

/// Answers one request line against one snapshot: the output line, and
/// whether the request was well-formed.
fn answer_line(
    cache: &mut UidCache,
    snapshot: &Snapshot,
    entities: &Entities,
    line: &RequestLine,
    number: usize,
    reply: Reply,
) -> (String, bool) {
    let parsed = match line {
        RequestLine::Text(line) => rolegrid::json::from_str(line)
            .map_err(|e| Problem::new(ProblemKind::Request, format!("not a JSON request: {e}"))),
        RequestLine::NotUtf8 => Err(Problem::new(
            ProblemKind::Request,
            "request line is not valid UTF-8",
        )),
        RequestLine::TooLong(max) => Err(Problem::new(
            ProblemKind::Limit,
            format!("request line is longer than {max} bytes (the limit is --max-file-size)"),
        )),
    };
    let value = match parsed {
        Ok(value) => value,
        Err(problem) => return failed_line(number, None, &problem, reply.format),
    };
    let tag = Tag {
        line: number,
        id: value.get("id"),
    };
    match RequestSpec::from_json_cached(&value, cache).and_then(|spec| snapshot.build_request(spec))
    {
        Ok(request) => {
            let text = if reply.explain {
                let explanation = explain(snapshot, &request, entities);
                match reply.format {
                    Format::Json => serde_json::to_string(&ExplainedLine {
                        tag,
                        explanation: &explanation,
                    })
                    .unwrap_or_default(),
                    Format::Human => {
                        let mut text = human_line(tag, &explanation.answer);
                        text.push('\n');
                        text.push_str(explanation_text(&explanation, "   ").trim_end());
                        text
                    }
                }
            } else {
                let answer = snapshot.authorize_with(&request, entities);
                match reply.format {
                    Format::Json => serde_json::to_string(&AnswerLine {
                        tag,
                        answer: &answer,
                    })
                    .unwrap_or_default(),
                    Format::Human => human_line(tag, &answer),
                }
            };
            (text, true)
        }
        Err(problem) => failed_line(number, tag.id, &problem, reply.format),
    }
}

/// How answers are written: the format, and whether each is explained.
#[derive(Debug, Clone, Copy)]
struct Reply {
    format: Format,
    explain: bool,
}

/// A human answer line: `3 (req-42): DENY (tenant-isolation)`, with errors.
fn human_line(tag: Tag<'_>, answer: &Answer) -> String {
    let reasons: Vec<&str> = answer.reasons().iter().map(AsRef::as_ref).collect();
    let mut text = format!(
        "{}: {}",
        tag.human(),
        if answer.is_allowed() { "ALLOW" } else { "DENY" }
    );
    if !reasons.is_empty() {
        text.push_str(&format!(" ({})", reasons.join(", ")));
    }
    for error in answer.errors() {
        text.push_str(&format!("; error in {}: {}", error.policy, error.message));
    }
    text
}

/// An explained answer line: the tag, then the explanation's JSON.
#[derive(serde::Serialize)]
struct ExplainedLine<'a> {
    #[serde(flatten)]
    tag: Tag<'a>,
    #[serde(flatten)]
    explanation: &'a Explanation,
}

/// Which request an answer line answers: its line number, and the `id` the
/// request line gave, if any.
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Tag<'a> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a serde_json::Value>,
}

impl Tag<'_> {
    /// `3`, or `3 (req-42)` with an id.
    fn human(&self) -> String {
        match self.id {
            Some(serde_json::Value::String(id)) => format!("{} ({id})", self.line),
            Some(id) => format!("{} ({id})", self.line),
            None => self.line.to_string(),
        }
    }
}

/// An answer line: `{"line", "id"?, "decision", "reasons", "errors"}`.
#[derive(serde::Serialize)]
struct AnswerLine<'a> {
    #[serde(flatten)]
    tag: Tag<'a>,
    #[serde(flatten)]
    answer: &'a Answer,
}

/// The answer line of a request that could not be decided, in `format`.
fn failed_line(
    number: usize,
    id: Option<&serde_json::Value>,
    problem: &Problem,
    format: Format,
) -> (String, bool) {
    let tag = Tag { line: number, id };
    let text = match format {
        Format::Json => error_line(tag, problem),
        Format::Human => format!("{}: error: {}", tag.human(), problem.message()),
    };
    (text, false)
}

/// Reads request lines and writes one answer line each, in order; `answer`
/// decides one line. Flushes after every line when `flush_each`.
fn answer_lines(
    input: Box<dyn BufRead>,
    max_line_bytes: u64,
    flush_each: bool,
    mut answer: impl FnMut(&RequestLine, usize) -> (String, bool),
) -> Result<ExitStatus, Problems> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut status = ExitStatus::Success;
    for (index, line) in request_lines(input, max_line_bytes).enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| unreadable_line(number, &e))?;
        if line.is_blank() {
            continue;
        }
        let (text, ok) = answer(&line, number);
        if !ok {
            status = ExitStatus::Error;
        }
        writeln!(out, "{text}").map_err(|e| stdout_problem(&e))?;
        if flush_each {
            out.flush().map_err(|e| stdout_problem(&e))?;
        }
    }
    out.flush().map_err(|e| stdout_problem(&e))?;
    Ok(status)
}

/// A request line could not be read.
fn unreadable_line(number: usize, e: &std::io::Error) -> Problems {
    Problem::new(
        ProblemKind::Io,
        format!("cannot read request line {number}: {e}"),
    )
    .into()
}

fn run_batch(args: &Args, loaded: &Loaded, path: &Path) -> Result<ExitStatus, Problems> {
    let input = open_input(path)?;
    let entities = loaded.entities();
    let max_line_bytes = args.source.load_options().limits.max_file_bytes;
    answer_lines_parallel(input, max_line_bytes, |cache, line, number| {
        answer_line(
            cache,
            &loaded.snapshot,
            entities,
            line,
            number,
            args.reply(),
        )
    })
}

/// Lines read and answered per round of [`answer_lines_parallel`].
const CHUNK_LINES: usize = 4096;

/// At most this many bytes of request lines are read into a chunk per pool
/// thread (a chunk always takes one line, however long): memory holds a few
/// lines of the maximum size, not [`CHUNK_LINES`] of them.
const CHUNK_BYTES_PER_THREAD: usize = 1 << 20;

/// Like [`answer_lines`] for files and pipes that need no per-line flush:
/// reads a chunk of lines, answers it on every core, writes the answers in order.
fn answer_lines_parallel(
    input: Box<dyn BufRead>,
    max_line_bytes: u64,
    answer: impl Fn(&mut UidCache, &RequestLine, usize) -> (String, bool) + Sync,
) -> Result<ExitStatus, Problems> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut status = ExitStatus::Success;
    let mut lines = request_lines(input, max_line_bytes).enumerate();
    // one uid cache per pool thread, kept across chunks
    let caches: PerThread<UidCache> = PerThread::default();
    let mut chunk: Vec<(usize, RequestLine)> = Vec::with_capacity(CHUNK_LINES);
    let budget = CHUNK_BYTES_PER_THREAD.saturating_mul(rolegrid::parallel::threads());
    loop {
        chunk.clear();
        let mut bytes = 0usize;
        for (index, line) in lines.by_ref() {
            match line {
                Ok(line) if line.is_blank() => {}
                Ok(line) => {
                    bytes = bytes.saturating_add(line.len());
                    chunk.push((index + 1, line));
                }
                Err(e) => return Err(unreadable_line(index + 1, &e)),
            }
            if chunk.len() == CHUNK_LINES || bytes >= budget {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let answered = par_map(
            &chunk,
            |_| 1,
            |(number, line)| caches.with(|cache| answer(cache, line, *number)),
        );
        for (text, ok) in answered {
            if !ok {
                status = ExitStatus::Error;
            }
            writeln!(out, "{text}").map_err(|e| stdout_problem(&e))?;
        }
    }
    out.flush().map_err(|e| stdout_problem(&e))?;
    Ok(status)
}

/// `--watch`: serve request lines from a hot-reloaded product, one answer per
/// line, flushed at once; reloads are reported on stderr.
fn run_watch(args: &Args, path: &Path) -> Result<ExitStatus, Problems> {
    let Some(product) = args.source.product.clone() else {
        return Err(Problem::new(ProblemKind::Usage, "--watch needs --product").into());
    };
    let evaluator = Arc::new(Evaluator::open_products(
        &args.source.store.root,
        std::slice::from_ref(&product),
        args.source.load_options(),
    )?);
    let extra = args.source.read_entity_files()?;
    let _watch = evaluator.watch(|event| match &event.outcome {
        ReloadOutcome::Failed(problems) => {
            eprintln!(
                "rolegrid: {}: reload failed; still answering with the last good snapshot",
                event.product
            );
            report(problems);
        }
        ReloadOutcome::Reverted {
            generation,
            problems,
        } => {
            eprintln!(
                "rolegrid: {}: reload failed soon after the last swap; answering with the last settled snapshot again (generation {generation})",
                event.product
            );
            report(problems);
        }
        _ => eprintln!("rolegrid: {event}"),
    })?;
    let input = open_input(path)?;
    let limits = args.source.load_options().limits;
    // extra entities are merged into each generation once, not per request;
    // a generation they do not fit is reported once, and its answers are errors
    let mut merged: Option<(u64, Result<Entities, Problem>)> = None;
    let mut cache = UidCache::default();
    answer_lines(input, limits.max_file_bytes, true, |line, number| {
        evaluator
            .with_generation(&product, |snapshot, generation| {
                if extra.is_empty() {
                    return answer_line(
                        &mut cache,
                        snapshot,
                        snapshot.entities(),
                        line,
                        number,
                        args.reply(),
                    );
                }
                if merged
                    .as_ref()
                    .is_none_or(|(merged_for, _)| *merged_for != generation)
                {
                    let entities = rolegrid::with_entities(snapshot, &extra, &limits)
                        .map_err(|problems| extra_misfit(&product, generation, &problems));
                    merged = Some((generation, entities));
                }
                match merged.as_ref().map(|(_, entities)| entities) {
                    Some(Ok(entities)) => {
                        answer_line(&mut cache, snapshot, entities, line, number, args.reply())
                    }
                    Some(Err(problem)) => failed_line(number, None, problem, args.format),
                    None => answer_line(
                        &mut cache,
                        snapshot,
                        snapshot.entities(),
                        line,
                        number,
                        args.reply(),
                    ),
                }
            })
            .unwrap_or_else(|| {
                (
                    format!("{number}: error: product `{product}` is not served"),
                    false,
                )
            })
    })
}

/// The extra entities (`--entities`) do not fit a generation the product
/// reloaded to: reported once on stderr; the problem each answer carries.
fn extra_misfit(product: &str, generation: u64, problems: &Problems) -> Problem {
    eprintln!(
        "rolegrid: {product}: the --entities files do not fit generation {generation}; requests are answered with an error until they do"
    );
    report(problems);
    Problem::new(
        ProblemKind::Entity,
        format!(
            "the --entities files do not fit generation {generation} of `{product}` (reported on stderr)"
        ),
    )
}

/// The JSON answer line of a request that could not be decided:
/// `{"error": {"line", "id"?, "kind", "message"}}`.
fn error_line(tag: Tag<'_>, problem: &Problem) -> String {
    #[derive(serde::Serialize)]
    struct ErrorLine<'a> {
        error: LineError<'a>,
    }
    #[derive(serde::Serialize)]
    struct LineError<'a> {
        #[serde(flatten)]
        tag: Tag<'a>,
        kind: &'static str,
        message: &'a str,
    }
    let error = LineError {
        tag,
        kind: problem.kind().code(),
        message: problem.message(),
    };
    serde_json::to_string(&ErrorLine { error }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `request_lines` gives for `input` with lines of at most `max` bytes.
    fn lines(input: &'static [u8], max: u64) -> Vec<String> {
        request_lines(Box::new(input), max)
            .map(|line| match line {
                Ok(RequestLine::Text(text)) => text,
                Ok(RequestLine::NotUtf8) => "<not UTF-8>".to_owned(),
                Ok(RequestLine::TooLong(max)) => format!("<longer than {max}>"),
                Err(e) => format!("<{e}>"),
            })
            .collect()
    }

    #[test]
    fn lines_up_to_the_limit_are_read_longer_ones_skipped() {
        assert_eq!(lines(b"", 4), Vec::<String>::new());
        assert_eq!(
            lines(b"abcd\nabcde\nab", 4),
            ["abcd", "<longer than 4>", "ab"]
        );
        // a line end of `\r\n` does not count
        assert_eq!(lines(b"abcd\r\nabcd\r\n\r\n", 4), ["abcd", "abcd", ""]);
        assert_eq!(lines(b"abcde\r\nxy", 4), ["<longer than 4>", "xy"]);
        // far longer than the limit, and at the end without a line end
        assert_eq!(
            lines(
                b"0123456789012345678901234567890123456789\nok\n0123456789",
                4
            ),
            ["<longer than 4>", "ok", "<longer than 4>"]
        );
        assert_eq!(lines(b"a\xffb\nok", 4), ["<not UTF-8>", "ok"]);
    }
}
