//! Turns `locales/*.json` into Rust: a `Key` enum with one variant per English key, a `Locale`
//! enum with one variant per file, and a table of texts per locale. A key missing from a locale
//! falls back to English here; the locale test reports it.

use std::{collections::BTreeMap, env, fmt::Write as _, fs, path::Path};

fn camel(name: &str) -> String {
    name.split(|c| c == '_' || c == '-')
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
    out.push_str(
        "        }\n    }\n\n    fn table(self) -> &'static [&'static str] {\n        match self {\n",
    );
    for tag in &tags {
        writeln!(out, "            Locale::{} => &{},", camel(tag), tag.replace('-', "_").to_uppercase())
            .unwrap();
    }
    out.push_str("        }\n    }\n}\n\n");

    for tag in &tags {
        let texts = read(&dir.join(format!("{tag}.json")));
        writeln!(out, "static {}: [&str; {}] = [", tag.replace('-', "_").to_uppercase(), keys.len()).unwrap();
        for key in &keys {
            let text = texts.get(*key).unwrap_or(&english[*key]);
            writeln!(out, "    {text:?},").unwrap();
        }
        out.push_str("];\n\n");
    }

    let path = Path::new(&env::var("OUT_DIR").unwrap()).join("locales.rs");
    fs::write(path, out).unwrap();
}
