//! The server's layers, as docs/architecture.md's table draws them: every `use` and every
//! `crate::`/`super::` path in `server/src` is resolved to the file it names, and no file may
//! reach a layer above its own, nor import a file that imports it back (directly or round a
//! longer loop). A module using its own submodules is not an import. Tests (`mod tests`) are
//! left out: they may reach anything. A file in a layer whose `axum` column says `no` does not
//! name `axum` anywhere in its code, its unit tests included.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

type Module = Vec<String>;

/// A layer of docs/architecture.md's table.
struct Layer {
    name: String,
    /// Its top-level modules.
    modules: Vec<String>,
    /// Whether its files may name `axum` (the `axum` column: `yes` or `no`).
    axum: bool,
}

/// The layers from the top, read from docs/architecture.md.
fn layers() -> Vec<Layer> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/architecture.md"))
        .expect("docs/architecture.md");
    let table = doc
        .split("<!-- layers: read by server/tests/suite/architecture.rs -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /layers -->").next())
        .expect("the layers table between its markers");
    table
        .lines()
        .filter(|line| line.starts_with('|') && !line.starts_with("|---") && !line.starts_with("| layer"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let modules = cells[2].split(',').map(|name| name.trim().trim_matches('`').to_owned()).collect();
            let axum = match cells[3] {
                "yes" => true,
                "no" => false,
                other => panic!("the axum column of layer {} says {other:?}, not yes or no", cells[1]),
            };
            Layer { name: cells[1].to_owned(), modules, axum }
        })
        .collect()
}

/// Every `.rs` file under `src`, by its module path (`["console", "pages", "orders"]`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, src: &Path, found: &mut BTreeMap<Module, PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, src, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut module: Module =
                    relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                if module.last().is_some_and(|last| last == "mod" || last == "lib") {
                    module.pop();
                }
                found.insert(module, path);
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(src, src, &mut found);
    found
}

/// The source without comments, string and character literals, and its unit tests.
fn code_of(source: &str) -> String {
    let code = without_literals(source);
    // Then the unit tests' module, to its closing brace (braces are only code by now).
    let Some(at) = code.find("#[cfg(test)]\nmod tests") else { return code };
    let open = at + code[at..].find('{').unwrap_or(0);
    let mut depth = 0;
    for (offset, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return format!("{}{}", &code[..at], &code[open + offset + 1..]);
                }
            }
            _ => {}
        }
    }
    code[..at].to_owned()
}

fn without_literals(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |end| end + 2);
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") || rest.starts_with("br\"") {
            let hashes = rest.trim_start_matches('b')[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let open = rest.find('"').unwrap() + 1;
            i += open + rest[open..].find(&close).map_or(rest.len() - open, |end| end + close.len());
            out.push_str("\"\"");
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() && rest.as_bytes()[j] != b'"' {
                j += if rest.as_bytes()[j] == b'\\' { 2 } else { 1 };
            }
            i += j + 1;
            out.push_str("\"\"");
        } else if rest.starts_with("'\"'") || rest.starts_with("'\\''") || rest.starts_with("'\\\\'") {
            i += if rest.starts_with("'\"'") { 3 } else { 4 };
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The paths a `use` tree names (`a::{b, c::{d, e}}` names `a::b`, `a::c::d` and `a::c::e`).
fn use_paths(tree: &str, prefix: &[String], out: &mut Vec<Module>) {
    let tree = tree.trim();
    if let (Some(open), true) = (tree.find('{'), tree.ends_with('}')) {
        let mut base = prefix.to_vec();
        base.extend(tree[..open].split("::").map(str::trim).filter(|p| !p.is_empty()).map(String::from));
        let (mut depth, mut start) = (0, open + 1);
        let inner_end = tree.len() - 1;
        for (at, c) in tree.char_indices().take(inner_end).skip(open + 1) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_paths(&tree[start..at], &base, out);
                    start = at + 1;
                }
                _ => {}
            }
        }
        use_paths(&tree[start..inner_end], &base, out);
        return;
    }
    let path = tree.split(" as ").next().unwrap_or("").trim();
    if path.is_empty() {
        return;
    }
    let mut full = prefix.to_vec();
    full.extend(path.split("::").map(|p| p.trim().to_owned()));
    out.push(full);
}

/// Every path starting at `crate`, `super` or `self` in a file's code.
fn paths_in(code: &str) -> Vec<Module> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let Some(end) = after.find(';') else { break };
        use_paths(&after[..end], &[], &mut out);
        rest = &after[end..];
    }
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(start) {
            let at = from + found;
            let before = code[..at].chars().next_back();
            if before.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != ':') {
                let tail: String = code[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let path: Module = tail.split("::").filter(|p| !p.is_empty()).map(String::from).collect();
                // A bare `crate::` or `super::` opens a `use` group, read above.
                if path.len() > 1 {
                    out.push(path);
                }
            }
            from = at + start.len();
        }
    }
    out
}

/// Where `word` stands alone in `text` as the start of a statement.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if before.is_none_or(|c| c.is_whitespace() || c == ';' || c == '{' || c == '}')
            && after.is_some_and(char::is_whitespace)
        {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// The module a path names, from the module it is written in; `None` outside the crate.
fn resolve(from: &[String], path: &[String]) -> Option<Module> {
    match path.first()?.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some([from, &path[1..]].concat()),
        "super" => {
            let ups = path.iter().take_while(|p| *p == "super").count();
            let base = &from[..from.len().checked_sub(ups)?];
            Some([base, &path[ups..]].concat())
        }
        _ => None,
    }
}

/// The file of the longest module `path` starts with.
fn file_of<'a>(path: &[String], files: &'a BTreeMap<Module, PathBuf>) -> Option<&'a Module> {
    (0..=path.len()).rev().find_map(|n| files.get_key_value(&path[..n]).map(|(module, _)| module))
}

fn imports() -> (BTreeMap<Module, BTreeSet<Module>>, BTreeMap<Module, PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = modules(&src);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, path) in &files {
        let code = code_of(&std::fs::read_to_string(path).expect("a source file"));
        let targets = edges.entry(module.clone()).or_default();
        for path in paths_in(&code) {
            let Some(target) = resolve(module, &path).and_then(|named| file_of(&named, &files)) else {
                continue;
            };
            // A module using itself or its own submodules does not import them.
            if target.starts_with(module) {
                continue;
            }
            targets.insert(target.clone());
        }
    }
    (edges, files)
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "lib".into()
    } else {
        module.join("/")
    }
}

/// The index in `layers` of the layer a module is in.
fn layer_of(layers: &[Layer], module: &Module) -> usize {
    let top = module.first().map_or("lib", String::as_str);
    layers
        .iter()
        .position(|layer| layer.modules.iter().any(|m| m == top))
        .unwrap_or_else(|| panic!("{top} is in no layer of docs/architecture.md"))
}

/// Whether `word` stands in `code` as a name of its own (not part of a longer one).
fn names(code: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(at, _)| {
        code[..at].chars().next_back().is_none_or(|c| !is_name(c))
            && code[at + word.len()..].chars().next().is_none_or(|c| !is_name(c))
    })
}

#[test]
fn no_file_reaches_a_layer_above_its_own() {
    let layers = layers();
    let layer_names: Vec<&str> = layers.iter().map(|layer| layer.name.as_str()).collect();
    assert!(layers.len() >= 5, "the table has the server's layers: {layer_names:?}");
    let (edges, files) = imports();
    assert!(files.len() > 100, "the whole of server/src is read ({} files)", files.len());
    let mut wrong = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            let (above, below) = (layer_of(&layers, to), layer_of(&layers, from));
            if above < below {
                wrong.push(format!(
                    "{} ({}) imports {} ({})",
                    name(from),
                    layers[below].name,
                    name(to),
                    layers[above].name
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that run back up:\n{}", wrong.join("\n"));
}

#[test]
fn no_file_names_axum_where_its_layer_may_not() {
    let layers = layers();
    assert!(
        layers.iter().any(|layer| layer.axum) && layers.iter().any(|layer| !layer.axum),
        "the table says which layers may name axum"
    );
    let (_, files) = imports();
    let wrong: Vec<String> = files
        .iter()
        .filter(|(module, _)| !layers[layer_of(&layers, module)].axum)
        .filter(|(_, path)| {
            names(&without_literals(&std::fs::read_to_string(path).expect("a source file")), "axum")
        })
        .map(|(module, _)| format!("{} ({})", name(module), layers[layer_of(&layers, module)].name))
        .collect();
    assert!(
        wrong.is_empty(),
        "files that name axum in a layer that may not (use the http crate's types, or move the web code \
         to routes/):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let (edges, _) = imports();
    // Depth-first search for a path back to where it started.
    fn cycle_from(start: &Module, edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    return Some([path.clone(), vec![next.clone()]].concat());
                }
                if seen.insert(next.clone()) {
                    stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
                }
            }
        }
        None
    }
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|module| cycle_from(module, &edges))
        .map(|cycle| cycle.iter().map(name).collect::<Vec<_>>().join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_finds_what_it_should() {
    let code =
        code_of("use crate::{a::b, c::{d, e as f}};\n// use crate::g;\nlet s = \"crate::h\"; super::i::j();");
    let mut paths = paths_in(&code);
    paths.sort();
    let expected: Vec<Module> =
        [vec!["crate", "a", "b"], vec!["crate", "c", "d"], vec!["crate", "c", "e"], vec!["super", "i", "j"]]
            .into_iter()
            .map(|p| p.into_iter().map(String::from).collect())
            .collect();
    assert_eq!(paths, expected);
    let from: Module = vec!["console".into(), "pages".into(), "orders".into()];
    assert_eq!(
        resolve(&from, &["super".into(), "super".into(), "auth".into()]),
        Some(vec!["console".into(), "auth".into()])
    );
    assert!(names(&without_literals("use axum::http::HeaderMap;"), "axum"));
    assert!(names(&without_literals("fn f() -> axum::Json<()> {}"), "axum"));
    assert!(!names(&without_literals("// axum\nlet s = \"axum\"; let axum_like = 1; use maxum;"), "axum"));
}
