//! The console's daily work: orders found by id, reference, amount, time, status and wallet (the
//! merchant API's order rows, filtered), the audit log searched, the delivery log paged, and a
//! given-up delivery sent again through the outbox.

use super::{
    outbox::EVENT_SELECT,
    rows::{self, OrderRow},
    AuditEntry, Db, DbError, EventRecord, OrderRecord,
};
use crate::domain::UnixMillis;

/// Which orders a list shows. Every field is optional; empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// An order id (exact) or a part of the merchant's reference (any case).
    pub text: Option<String>,
    /// The amount in minor units, exactly.
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    /// Created at or after this time...
    pub from: Option<UnixMillis>,
    /// ...and before this one.
    pub to: Option<UnixMillis>,
    /// `open`, `paid` or `canceled`.
    pub status: Option<String>,
    /// Orders with a payment session of this wallet.
    pub wallet: Option<String>,
}

/// An order as a list shows it: the order, the wallet that paid it, and what was refunded of
/// that payment.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub order: OrderRecord,
    pub paid_wallet: Option<String>,
    pub refunded_minor: u64,
}

/// Which audit entries a search shows; empty fields mean "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// A part of the person's (or key's) name, or their id.
    pub person: Option<String>,
    /// A part of the action (`refund` finds `refund.create`).
    pub action: Option<String>,
    /// A part of the target's id.
    pub target: Option<String>,
    pub from: Option<UnixMillis>,
    pub to: Option<UnixMillis>,
}

/// `%text%` for `LIKE ... ESCAPE '\'`, in lower case (ASCII, as both databases' `LOWER` agree
/// on it), with the wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The conditions of an order search over `orders o`, with `$1` to `$8`.
const ORDER_CONDITIONS: &str =
    "($1 = '' OR o.id = $1 OR LOWER(COALESCE(o.reference, '')) LIKE $2 ESCAPE '\\') \
     AND ($3 < 0 OR o.amount_minor = $3) AND ($4 = '' OR o.currency = $4) \
     AND o.created_at >= $5 AND o.created_at < $6 AND ($7 = '' OR o.status = $7) \
     AND ($8 = '' OR EXISTS (SELECT 1 FROM sessions s WHERE s.order_id = o.id AND s.wallet_id = $8))";

macro_rules! bind_order_filter {
    ($query:expr, $filter:expr) => {{
        let filter: &OrderFilter = $filter;
        let text = filter.text.clone().unwrap_or_default();
        $query
            .bind(text.clone())
            .bind(contains_pattern(&text))
            .bind(filter.amount_minor.map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX)))
            .bind(filter.currency.clone().unwrap_or_default())
            .bind(filter.from.unwrap_or(i64::MIN / 2))
            .bind(filter.to.unwrap_or(i64::MAX / 2))
            .bind(filter.status.clone().unwrap_or_default())
            .bind(filter.wallet.clone().unwrap_or_default())
    }};
}

impl Db {
    /// Orders that match `filter`, newest first: `limit` of them after skipping `offset`.
    pub async fn find_orders(
        &self,
        filter: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<OrderSummary>, DbError> {
        let rows: Vec<OrderRow> = bind_order_filter!(
            sqlx::query_as(&format!(
                "{} o WHERE {ORDER_CONDITIONS} ORDER BY o.created_at DESC, o.id DESC LIMIT $9 OFFSET $10",
                rows::ORDER_SELECT
            )),
            filter
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let orders: Vec<OrderRecord> =
            rows.into_iter().map(OrderRecord::try_from).collect::<Result<_, _>>()?;
        // The paying session of each order on the page, in one more query.
        let payments: Vec<(String, String, i64)> = bind_order_filter!(
            sqlx::query_as(&format!(
                "SELECT o.id, p.wallet_id, p.refunded_minor FROM orders o JOIN sessions p ON p.id = o.paid_session_id \
                 WHERE {ORDER_CONDITIONS} ORDER BY o.created_at DESC, o.id DESC LIMIT $9 OFFSET $10"
            )),
            filter
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let mut by_order: std::collections::HashMap<String, (String, i64)> =
            payments.into_iter().map(|(order, wallet, refunded)| (order, (wallet, refunded))).collect();
        Ok(orders
            .into_iter()
            .map(|order| {
                let payment = by_order.remove(order.id.as_str());
                OrderSummary {
                    paid_wallet: payment.as_ref().map(|(wallet, _)| wallet.clone()),
                    refunded_minor: payment.map_or(0, |(_, refunded)| u64::try_from(refunded).unwrap_or(0)),
                    order,
                }
            })
            .collect())
    }

    /// The currencies the shop's orders are in, alphabetically.
    pub async fn order_currencies(&self) -> Result<Vec<String>, DbError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT currency FROM orders ORDER BY currency")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// The wallets shoppers chose in sessions so far, alphabetically.
    pub async fn session_wallets(&self) -> Result<Vec<String>, DbError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT wallet_id FROM sessions ORDER BY wallet_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(w,)| w).collect())
    }

    /// The events about an order's sessions and refunds, newest first.
    pub async fn events_of_order(&self, order: &str, limit: i64) -> Result<Vec<EventRecord>, DbError> {
        Ok(sqlx::query_as(&format!(
            "{EVENT_SELECT} WHERE session_id IN (SELECT id FROM sessions WHERE order_id = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(order)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Events newest first, `limit` of them after skipping `offset`.
    pub async fn events_page(&self, limit: i64, offset: i64) -> Result<Vec<EventRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{EVENT_SELECT} ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Sends a given-up event again: the delivery worker takes it at its next round, as any due
    /// event (its attempts so far are kept, so a failure gives it up again at once). False when
    /// the event was delivered or is still being tried.
    pub async fn resend_event(&self, id: &str, now: UnixMillis) -> Result<bool, DbError> {
        Ok(sqlx::query(
            "UPDATE events SET gave_up_at = NULL, next_attempt_at = $1, lease_until = NULL \
             WHERE id = $2 AND delivered_at IS NULL AND gave_up_at IS NOT NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }

    /// Audit entries that match `filter`, newest first: `limit` of them after `offset`.
    pub async fn search_audit(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>, DbError> {
        let person = filter.person.clone().unwrap_or_default();
        let action = filter.action.clone().unwrap_or_default();
        let target = filter.target.clone().unwrap_or_default();
        Ok(sqlx::query_as(
            "SELECT id, at, actor_id, actor_name, action, target, detail FROM audit_log \
             WHERE ($1 = '' OR actor_id = $1 OR LOWER(actor_name) LIKE $2 ESCAPE '\\') \
             AND ($3 = '' OR LOWER(action) LIKE $4 ESCAPE '\\') \
             AND ($5 = '' OR LOWER(target) LIKE $6 ESCAPE '\\') \
             AND at >= $7 AND at < $8 ORDER BY id DESC LIMIT $9 OFFSET $10",
        )
        .bind(person.clone())
        .bind(contains_pattern(&person))
        .bind(action.clone())
        .bind(contains_pattern(&action))
        .bind(target.clone())
        .bind(contains_pattern(&target))
        .bind(filter.from.unwrap_or(i64::MIN / 2))
        .bind(filter.to.unwrap_or(i64::MAX / 2))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_text_is_taken_literally() {
        assert_eq!(contains_pattern("A-10"), "%a-10%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
