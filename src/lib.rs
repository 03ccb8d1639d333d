//! wallet-checkout: an embeddable wallet checkout widget, the `<wallet-checkout>` custom element.
//!
//! The shopper picks a wallet the merchant's backend offers, pays by QR code or by a redirect to
//! the wallet, and the widget tracks the session's status through the backend until it is final.
//! The backend contract lives in the `wallet-checkout-contract` crate.

pub mod answers;
pub mod api;
pub mod browser;
pub mod checkout;
pub mod components;
pub mod config;
pub mod dom;
pub mod element;
pub mod error;
pub mod events;
pub mod flow;
pub mod i18n;
pub mod json;
pub mod qr;
pub mod screen;
pub mod storage;
pub mod text;
pub mod tracker;
pub mod trust;

pub use element::Widget;

/// Registers the `<wallet-checkout>` element. Panics (which should never happen) are reported on
/// the console.
pub fn register() {
    console_error_panic_hook::set_once();
    element::define();
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// The modules each module of `src/` names (`crate::x`), test code left out.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_stem()?.to_str()?.to_owned();
                Some((name, std::fs::read_to_string(path.with_extension("rs")).ok()?))
            })
            .collect();
        files.push((
            "components".into(),
            std::fs::read_to_string(format!("{dir}/components/mod.rs")).unwrap(),
        ));
        let mut graph = BTreeMap::new();
        for (name, text) in files {
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut uses = BTreeSet::new();
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let list = if let Some(inner) = rest.strip_prefix('{') {
                    &inner[..inner.find("};").unwrap_or(0)]
                } else {
                    rest
                };
                for item in list.split(',') {
                    let module: String =
                        item.trim().chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if !module.is_empty() && module != name {
                        uses.insert(module);
                    }
                    if !rest.starts_with('{') {
                        break;
                    }
                }
            }
            graph.insert(name, uses);
        }
        graph
    }

    /// Regression test: `screen` imported the controller's `Stage` and `i18n` called into
    /// `element`, which made seven modules one import cycle. The rules (`flow`) now sit below the
    /// screens and the controller, and no module reaches back up.
    #[test]
    fn the_modules_import_one_another_without_a_cycle() {
        let graph = imports();
        assert!(graph["screen"].contains("flow") && !graph["screen"].contains("checkout"));
        assert!(!graph["i18n"].contains("element"));
        fn reaches(
            graph: &BTreeMap<String, BTreeSet<String>>,
            from: &str,
            to: &str,
            seen: &mut BTreeSet<String>,
        ) -> bool {
            graph
                .get(from)
                .into_iter()
                .flatten()
                .any(|next| next == to || (seen.insert(next.clone()) && reaches(graph, next, to, seen)))
        }
        for module in graph.keys() {
            assert!(
                !reaches(&graph, module, module, &mut BTreeSet::new()),
                "{module} imports itself through others"
            );
        }
    }
}
