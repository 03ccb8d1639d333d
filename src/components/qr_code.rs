//! A QR code as inline SVG: dark modules on a light square with the quiet zone, whatever the
//! theme, so that every scanner reads it.

use crate::qr::QrMatrix;
use leptos::prelude::*;

#[component]
pub fn QrCode(payload: String, label: String) -> impl IntoView {
    match QrMatrix::encode(&payload) {
        Some(matrix) => {
            let size = matrix.view_size();
            let view_box = format!("0 0 {size} {size}");
            view! {
                <svg
                    class="wc-qr__code"
                    role="img"
                    aria-label=label
                    viewBox=view_box
                    shape-rendering="crispEdges"
                    data-testid="qr"
                    data-modules=matrix.width()
                >
                    <rect width=size height=size fill="#ffffff"></rect>
                    <path d=matrix.svg_path() fill="#000000"></path>
                </svg>
            }
            .into_any()
        }
        None => view! { <p class="wc-error wc-error--inline" role="alert">{label}</p> }.into_any(),
    }
}
