//! The tags a store page puts in its `<head>` to load the widget: those `make widget` wrote to the
//! built widget's `embed.json` (a `preload` of the module and the loader under its versioned name,
//! each with its SRI hash, so that the browser fetches both as soon as it reads the page), with
//! their file names turned into addresses under where the widget is served. The console's
//! integrate step gives them to the merchant and the demo store uses them. Without a built widget,
//! or with an `embed.json` that is not what the build writes, they are the loader's plain script
//! tag, which works as well, a round trip slower and without a hash.

use crate::html::escape;
use serde::Deserialize;
use std::path::Path;

/// `embed.json` as `scripts/bundle.mjs` writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbedFile {
    links: Vec<Link>,
    script: Script,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    rel: String,
    href: String,
    #[serde(rename = "as")]
    destination: String,
    crossorigin: String,
    integrity: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Script {
    #[serde(rename = "type")]
    kind: String,
    src: String,
    integrity: String,
    crossorigin: String,
}

/// The `<head>` tags that load the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadTags {
    /// One tag a line.
    pub html: String,
    /// Whether they are the build's (preload and hashes), not the plain script tag.
    pub from_build: bool,
}

/// The tags for the widget built in `widget_dir` and served under `base`, an address that ends in
/// `/` (`https://pay.shop.example/wallet-checkout/`, or `/wallet-checkout/` for pages of this
/// server).
pub fn head_tags(widget_dir: &Path, base: &str) -> HeadTags {
    let read = std::fs::read_to_string(widget_dir.join("embed.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<EmbedFile>(&text).ok())
        .filter(EmbedFile::is_as_built);
    match read {
        Some(file) => HeadTags { html: file.tags(base), from_build: true },
        None => HeadTags {
            html: format!(
                "<script type=\"module\" src=\"{}\"></script>",
                escape(&format!("{base}wallet-checkout.js"))
            ),
            from_build: false,
        },
    }
}

impl EmbedFile {
    /// Only what the build writes: files of the bundle by their plain names, SHA-384 hashes, and
    /// the attributes the loader expects (a preload the loader cannot take over would fetch the
    /// module twice).
    fn is_as_built(&self) -> bool {
        let links_hold = self.links.iter().all(|link| {
            link.rel == "preload"
                && link.destination == "fetch"
                && link.crossorigin == "anonymous"
                && is_bundle_file(&link.href)
                && is_sha384(&link.integrity)
        });
        links_hold
            && self.script.kind == "module"
            && self.script.crossorigin == "anonymous"
            && is_bundle_file(&self.script.src)
            && is_sha384(&self.script.integrity)
    }

    fn tags(&self, base: &str) -> String {
        let mut lines: Vec<String> = self
            .links
            .iter()
            .map(|link| {
                format!(
                    "<link rel=\"{}\" href=\"{}\" as=\"{}\" crossorigin=\"{}\" integrity=\"{}\">",
                    link.rel,
                    escape(&format!("{base}{}", link.href)),
                    link.destination,
                    link.crossorigin,
                    link.integrity,
                )
            })
            .collect();
        lines.push(format!(
            "<script type=\"{}\" src=\"{}\" integrity=\"{}\" crossorigin=\"{}\"></script>",
            self.script.kind,
            escape(&format!("{base}{}", self.script.src)),
            self.script.integrity,
            self.script.crossorigin,
        ));
        lines.join("\n")
    }
}

/// A file name of the bundle: `wallet-checkout.<hash>.wasm` and the like, no path.
fn is_bundle_file(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn is_sha384(integrity: &str) -> bool {
    integrity.strip_prefix("sha384-").is_some_and(|hash| {
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "sha384-IPBvBLlMKKnWjo4vvza7I1rdeSnt4IXNlCSc7Yhaf92+Qs4YxjHbx8p/ciBAh4S8";
    const HASH_B: &str = "sha384-RHfBc8HrDkAFsfycAGWToc6rSnTJPBZURVcEF9RWFa9xHKQEOXpZ0kmLnlkVsc74";

    fn built(json: &str) -> tempfile::TempDir {
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::write(dir.path().join("embed.json"), json).unwrap();
        dir
    }

    fn as_built() -> String {
        format!(
            r#"{{"links": [{{"rel": "preload", "href": "wallet-checkout.a3a2e1bf941d.wasm", "as": "fetch",
                "crossorigin": "anonymous", "integrity": "{HASH_A}"}}],
              "script": {{"type": "module", "src": "wallet-checkout.106ccbbb3675.js", "integrity": "{HASH_B}",
                "crossorigin": "anonymous"}}}}"#
        )
    }

    #[test]
    fn the_builds_tags_name_the_files_under_the_base() {
        let dir = built(&as_built());
        let tags = head_tags(dir.path(), "https://pay.shop.example/wallet-checkout/");
        assert!(tags.from_build);
        assert_eq!(
            tags.html,
            format!(
                "<link rel=\"preload\" href=\"https://pay.shop.example/wallet-checkout/wallet-checkout.a3a2e1bf941d.wasm\" \
                 as=\"fetch\" crossorigin=\"anonymous\" integrity=\"{HASH_A}\">\n\
                 <script type=\"module\" src=\"https://pay.shop.example/wallet-checkout/wallet-checkout.106ccbbb3675.js\" \
                 integrity=\"{HASH_B}\" crossorigin=\"anonymous\"></script>"
            )
        );
    }

    #[test]
    fn without_a_build_the_tags_are_the_plain_script() {
        let dir = tempfile::TempDir::new().unwrap();
        let tags = head_tags(dir.path(), "/wallet-checkout/");
        assert!(!tags.from_build);
        assert_eq!(
            tags.html,
            "<script type=\"module\" src=\"/wallet-checkout/wallet-checkout.js\"></script>"
        );
    }

    #[test]
    fn an_embed_file_not_as_built_is_not_used() {
        let good = as_built();
        for (what, bad) in [
            ("a path", good.replace("wallet-checkout.a3a2e1bf941d.wasm", "../../evil.wasm")),
            ("an address", good.replace("wallet-checkout.106ccbbb3675.js", "https://evil.example/x.js")),
            ("markup", good.replace("wallet-checkout.106ccbbb3675.js", "x.js\\\"><script>alert(1)</script>")),
            ("another hash", good.replace(HASH_A, "sha256-abc")),
            ("a script, not a module", good.replace("\"module\"", "\"text/javascript\"")),
            ("a modulepreload", good.replace("\"preload\"", "\"modulepreload\"")),
            (
                "credentials",
                good.replace(
                    "\"anonymous\", \"integrity\": \"sha384-IPB",
                    "\"use-credentials\", \"integrity\": \"sha384-IPB",
                ),
            ),
            (
                "an unknown field",
                good.replace(
                    "\"crossorigin\": \"anonymous\"}}",
                    "\"crossorigin\": \"anonymous\", \"onload\": \"x\"}}",
                ),
            ),
            ("not JSON", "<html>".to_owned()),
        ] {
            assert_ne!(bad, good, "{what}: the case changes the file");
            let dir = built(&bad);
            assert!(!head_tags(dir.path(), "/wallet-checkout/").from_build, "{what}");
        }
        assert!(head_tags(built(&good).path(), "/wallet-checkout/").from_build);
    }
}
