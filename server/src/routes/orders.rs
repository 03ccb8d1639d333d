//! `GET /orders/{id}`: what the widget shows before the shopper picks a wallet.

use crate::error::{ApiError, PathId};
use crate::state::AppState;
use axum::{extract::State, Json};
use wallet_checkout_contract::{Order, OrderId, OrderResponse};

pub async fn get_order(
    State(state): State<AppState>,
    PathId(id): PathId<OrderId>,
) -> Result<Json<OrderResponse>, ApiError> {
    let order = state.find_order(&id).await?;
    Ok(Json(OrderResponse {
        order: Order {
            id: order.id,
            description: order.description,
            amount: order.amount,
            status: order.status,
        },
        // Only the wallets whose provider takes this amount, so the widget never offers one that
        // will refuse.
        wallets: state.providers.wallets_for(&order.amount),
        livemode: state.livemode_for(&order.amount),
    }))
}
