//! The few DOM calls the screens are drawn with: elements (HTML or SVG) with their attributes,
//! appended to a parent. One non-generic function each, so drawing a screen is plain code rather
//! than a view type per screen. Text is always set as text (`textContent`), never parsed as HTML.

use web_sys::{Document, Element};

const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";

/// Creates elements in one document.
#[derive(Clone)]
pub struct Dom(pub Document);

impl Dom {
    /// The document of `node`, or the window's.
    pub fn of(node: &web_sys::Node) -> Option<Dom> {
        node.owner_document().or_else(|| web_sys::window()?.document()).map(Dom)
    }

    /// `<tag name="value" …>` appended to `parent` (if any). `None` only if the browser refuses
    /// to create it, which it does not for the fixed names the widget uses.
    pub fn add(&self, parent: Option<&Element>, tag: &str, attributes: &[(&str, &str)]) -> Option<Element> {
        self.create(parent, self.0.create_element(tag).ok()?, attributes)
    }

    /// An SVG element, as `add`.
    pub fn add_svg(
        &self,
        parent: Option<&Element>,
        tag: &str,
        attributes: &[(&str, &str)],
    ) -> Option<Element> {
        self.create(parent, self.0.create_element_ns(Some(SVG_NAMESPACE), tag).ok()?, attributes)
    }

    /// `add` with `text` inside.
    pub fn add_text(
        &self,
        parent: Option<&Element>,
        tag: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> Option<Element> {
        let element = self.add(parent, tag, attributes)?;
        element.set_text_content(Some(text));
        Some(element)
    }

    fn create(
        &self,
        parent: Option<&Element>,
        element: Element,
        attributes: &[(&str, &str)],
    ) -> Option<Element> {
        for (name, value) in attributes {
            let _ = element.set_attribute(name, value);
        }
        if let Some(parent) = parent {
            let _ = parent.append_child(&element);
        }
        Some(element)
    }
}
