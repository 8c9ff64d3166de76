//! The import graph of `src/` has no cycle: every file (a module) is a node,
//! and a file depends on the files whose modules its paths name (`crate::`,
//! `super::`, `self::` and its own child modules, in `use` items and inline,
//! outside its unit tests). Data flows one way: files → store → snapshot →
//! evaluator → expectations → coverage → reports → command line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`store::pipeline`) → file text without its unit tests.
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "bin" {
                let mut inner = prefix.to_vec();
                inner.push(name);
                modules(&path, &inner, out);
            }
            continue;
        }
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        let mut module = prefix.to_vec();
        if !matches!(stem, "mod" | "lib" | "main") {
            module.push(stem.to_owned());
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let text = text
            .split("#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or_default();
        out.insert(module.join("::"), text.to_owned());
    }
}

/// Every `a::b::c` path in `text` (with `use a::{b, c::d}` groups expanded).
fn paths(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for item in code.split("use ").skip(1) {
        let item = item.split(';').next().unwrap_or_default();
        expand("", item, &mut found);
    }
    let tokens = code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'));
    // a path's start before a `{` group (`super::{a, b}`) names nothing itself
    found.extend(
        tokens
            .filter(|t| t.contains("::") && !t.ends_with("::"))
            .map(str::to_owned),
    );
    found
        .iter()
        .map(|p| {
            p.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn expand(prefix: &str, item: &str, out: &mut Vec<String>) {
    let item = item.trim();
    let Some((head, group)) = item.split_once('{') else {
        let path = item.split(" as ").next().unwrap_or_default().trim();
        out.push(format!("{prefix}{path}"));
        return;
    };
    let group = group.strip_suffix('}').unwrap_or(group);
    let (mut depth, mut start) = (0_i32, 0);
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand(
                    &format!("{prefix}{head}"),
                    group.get(start..at).unwrap_or_default(),
                    out,
                );
                start = at + 1;
            }
            _ => {}
        }
    }
    expand(
        &format!("{prefix}{head}"),
        group.get(start..).unwrap_or_default(),
        out,
    );
}

/// The dependencies of each module.
fn graph(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let resolve = |segments: &[String]| {
        (0..=segments.len())
            .rev()
            .map(|n| segments.get(..n).unwrap_or_default().join("::"))
            .find(|m| modules.contains_key(m))
    };
    let mut edges = BTreeMap::new();
    for (module, text) in modules {
        let here: Vec<String> = module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let children: BTreeSet<String> = text
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_suffix(';')?
                    .split("mod ")
                    .nth(1)
                    .map(str::to_owned)
            })
            .filter(|c| !c.contains(' '))
            .collect();
        let mut targets = BTreeSet::new();
        for path in paths(text) {
            let Some(first) = path.first() else { continue };
            let full: Vec<String> = match first.as_str() {
                "crate" => path.get(1..).unwrap_or_default().to_vec(),
                "self" => [&here[..], path.get(1..).unwrap_or_default()].concat(),
                "super" => {
                    let ups = path.iter().take_while(|s| *s == "super").count();
                    let base = here
                        .get(..here.len().saturating_sub(ups))
                        .unwrap_or_default();
                    [base, path.get(ups..).unwrap_or_default()].concat()
                }
                child if children.contains(child) => [&here[..], &path[..]].concat(),
                _ => continue,
            };
            if let Some(target) = resolve(&full).filter(|t| t != module) {
                targets.insert(target);
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The groups of modules that reach each other (strongly connected, more than one).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for (module, from_here) in &reached {
        let group: BTreeSet<String> = from_here
            .iter()
            .filter(|other| reached.get(other).is_some_and(|r| r.contains(*module)))
            .cloned()
            .collect();
        if group.len() > 1 && !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

#[test]
fn the_import_graph_has_no_cycle() {
    let mut found = BTreeMap::new();
    modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut found,
    );
    assert!(found.contains_key("store::pipeline"), "src/ was not read");
    let cycles = cycles(&graph(&found));
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn a_cycle_is_found() {
    let modules: BTreeMap<String, String> = [
        ("a", "use crate::b::X;"),
        ("b", "pub fn f() { crate::c::g() }"),
        ("c", "use super::{a::{Y, Z}};"),
        ("d", "use crate::a;"),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_owned(), t.to_owned()))
    .collect();
    let expected: BTreeSet<String> = ["a", "b", "c"].into_iter().map(str::to_owned).collect();
    assert_eq!(cycles(&graph(&modules)), vec![expected]);
}
