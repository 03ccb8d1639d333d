//! Turns `locales/*.json` into Rust: a `Key` enum with one variant per English key, a `Locale`
//! enum with one variant per file, and the English texts. English is compiled in; the other
//! locales ship as files next to the bundle and are fetched when a shopper needs one
//! (`scripts/bundle.mjs` copies them, `i18n` loads them).

use std::{collections::BTreeMap, env, fmt::Write as _, fs, path::Path};

fn camel(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().unwrap().to_ascii_uppercase();
            first.to_string() + &chars.as_str().to_ascii_lowercase()
        })
        .collect()
}

fn read(path: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() {
    println!("cargo:rerun-if-changed=locales");
    let dir = Path::new("locales");
    let mut tags: Vec<String> = fs::read_dir(dir)
        .expect("locales/ exists")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    tags.sort();
    // English first: it is the fallback and the list of keys.
    tags.retain(|tag| tag != "en");
    tags.insert(0, "en".to_owned());

    let english = read(&dir.join("en.json"));
    let keys: Vec<&String> = english.keys().collect();
    let mut out = String::new();

    out.push_str("/// Every text the widget shows, named after its key in `locales/en.json`.\n");
    out.push_str("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Key {\n");
    for key in &keys {
        writeln!(out, "    {},", camel(key)).unwrap();
    }
    out.push_str("}\n\nimpl Key {\n    pub const ALL: &'static [Key] = &[");
    for key in &keys {
        write!(out, "Key::{}, ", camel(key)).unwrap();
    }
    out.push_str("];\n\n    /// The key as written in the locale files.\n    pub fn name(self) -> &'static str {\n        match self {\n");
    for key in &keys {
        writeln!(out, "            Key::{} => {:?},", camel(key), key).unwrap();
    }
    out.push_str("        }\n    }\n}\n\n");

    out.push_str("/// A bundled locale, one per file in `locales/`.\n");
    out.push_str("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Locale {\n");
    for tag in &tags {
        writeln!(out, "    {},", camel(tag)).unwrap();
    }
    out.push_str("}\n\nimpl Locale {\n    pub const ALL: &'static [Locale] = &[");
    for tag in &tags {
        write!(out, "Locale::{}, ", camel(tag)).unwrap();
    }
    out.push_str("];\n\n    /// The BCP 47 tag, as in the file name.\n    pub fn tag(self) -> &'static str {\n        match self {\n");
    for tag in &tags {
        writeln!(out, "            Locale::{} => {:?},", camel(tag), tag).unwrap();
    }
    out.push_str("        }\n    }\n}\n\n");

    writeln!(out, "/// The English texts, in `Key` order.\nstatic ENGLISH: [&str; {}] = [", keys.len())
        .unwrap();
    for key in &keys {
        writeln!(out, "    {:?},", english[*key]).unwrap();
    }
    out.push_str("];\n");

    let out_dir = env::var("OUT_DIR").unwrap();
    fs::write(Path::new(&out_dir).join("locales.rs"), out).unwrap();

    println!("cargo:rerun-if-changed=style/wallet-checkout.css");
    let css = fs::read_to_string("style/wallet-checkout.css").expect("style/wallet-checkout.css exists");
    fs::write(Path::new(&out_dir).join("wallet-checkout.min.css"), minify_css(&css)).unwrap();
}

/// Drops comments and needless white space from the stylesheet (it ships inside the module).
/// Space goes only where it cannot matter: before `{ } ; , >` and after `{ } ; , : >`. Quoted
/// strings (font names) are kept as they are.
fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut last = ' ';
            for c in chars.by_ref() {
                if last == '*' && c == '/' {
                    break;
                }
                last = c;
            }
            pending_space = true;
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let drops_space_before = matches!(c, '{' | '}' | ';' | ',' | '>');
        let drops_space_after = out.ends_with(['{', '}', ';', ',', ':', '>']);
        if pending_space && !out.is_empty() && !drops_space_before && !drops_space_after {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
        if c == '"' || c == '\'' {
            for inner in chars.by_ref() {
                out.push(inner);
                if inner == c {
                    break;
                }
            }
        }
    }
    out.replace(";}", "}")
}
