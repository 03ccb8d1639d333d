//! Every answer the widget acts on is checked against what it is tracking, so that a backend (or
//! anything between it and the browser) that answers about another order or session cannot make
//! the widget show it, let alone say "paid" for it. One rule for every path: the order, the
//! session created, the session picked up after a reload and every status read. An answer that
//! disagrees is a bad answer (`ApiError::BadAnswer`), however well-formed it is.

use crate::api::ApiError;
use wallet_checkout_contract::{Amount, OrderId, OrderResponse, Session, SessionId, WalletId};

/// What an answer must say. `None` where the widget does not know yet: the id of a session being
/// created, the wallet of a session picked up after a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    pub order: &'a OrderId,
    pub session: Option<&'a SessionId>,
    pub wallet: Option<&'a WalletId>,
    pub amount: Option<&'a Amount>,
}

/// The parts of an answer that must agree with what the widget tracks.
pub trait Answer {
    fn order_id(&self) -> &OrderId;
    fn session_id(&self) -> Option<&SessionId>;
    fn wallet_id(&self) -> Option<&WalletId>;
    fn amount(&self) -> &Amount;
}

impl Answer for OrderResponse {
    fn order_id(&self) -> &OrderId {
        &self.order.id
    }
    fn session_id(&self) -> Option<&SessionId> {
        None
    }
    fn wallet_id(&self) -> Option<&WalletId> {
        None
    }
    fn amount(&self) -> &Amount {
        &self.order.amount
    }
}

impl Answer for Session {
    fn order_id(&self) -> &OrderId {
        &self.order_id
    }
    fn session_id(&self) -> Option<&SessionId> {
        Some(&self.id)
    }
    fn wallet_id(&self) -> Option<&WalletId> {
        Some(&self.wallet_id)
    }
    fn amount(&self) -> &Amount {
        &self.amount
    }
}

impl<'a> Expected<'a> {
    /// An answer about this order, whatever else it says.
    pub fn order(order: &'a OrderId) -> Self {
        Self { order, session: None, wallet: None, amount: None }
    }

    /// Answers about a session already shown: its order, id, wallet and amount never change.
    pub fn tracking(session: &'a Session) -> Self {
        Self {
            order: &session.order_id,
            session: Some(&session.id),
            wallet: Some(&session.wallet_id),
            amount: Some(&session.amount),
        }
    }

    /// `answer` if it is what was expected; a bad answer if it is about something else.
    pub fn check<T: Answer>(&self, answer: Result<T, ApiError>) -> Result<T, ApiError> {
        let answer = answer?;
        let agrees = answer.order_id() == self.order
            && agrees(self.session, answer.session_id())
            && agrees(self.wallet, answer.wallet_id())
            && agrees(self.amount, Some(answer.amount()));
        if agrees {
            Ok(answer)
        } else {
            Err(ApiError::BadAnswer)
        }
    }
}

fn agrees<T: PartialEq>(expected: Option<&T>, actual: Option<&T>) -> bool {
    expected.is_none() || expected == actual
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_checkout_contract::{Currency, ErrorCode, Order, OrderStatus, SessionStatus};

    fn cny(minor_units: u64) -> Amount {
        Amount::new(minor_units, Currency::parse("CNY").unwrap()).unwrap()
    }

    fn session(order: &str, id: &str, wallet: &str, amount: Amount) -> Session {
        Session {
            id: SessionId::parse(id).unwrap(),
            order_id: OrderId::parse(order).unwrap(),
            wallet_id: WalletId::parse(wallet).unwrap(),
            status: SessionStatus::Succeeded,
            amount,
            expires_at: String::new(),
            expires_in_secs: 0,
            next_action: None,
            amount_refunded: None,
        }
    }

    fn order(id: &str) -> OrderResponse {
        OrderResponse {
            order: Order {
                id: OrderId::parse(id).unwrap(),
                description: "Tea".into(),
                amount: cny(6800),
                status: OrderStatus::Open,
            },
            wallets: Vec::new(),
            livemode: false,
        }
    }

    #[test]
    fn an_order_answer_must_be_about_the_order_asked_for() {
        let ord_1 = OrderId::parse("ord_1").unwrap();
        let expected = Expected::order(&ord_1);
        assert!(expected.check(Ok(order("ord_1"))).is_ok());
        assert_eq!(expected.check(Ok(order("ord_2"))), Err(ApiError::BadAnswer));
    }

    #[test]
    fn a_created_session_must_be_for_the_order_wallet_and_amount_asked_for() {
        let ord_1 = OrderId::parse("ord_1").unwrap();
        let wechat = WalletId::parse("wechat_pay").unwrap();
        let amount = cny(6800);
        let expected =
            Expected { order: &ord_1, session: None, wallet: Some(&wechat), amount: Some(&amount) };
        assert!(expected.check(Ok(session("ord_1", "ses_1", "wechat_pay", cny(6800)))).is_ok());
        for wrong in [
            session("ord_2", "ses_1", "wechat_pay", cny(6800)),
            session("ord_1", "ses_1", "alipay", cny(6800)),
            session("ord_1", "ses_1", "wechat_pay", cny(1)),
            session(
                "ord_1",
                "ses_1",
                "wechat_pay",
                Amount::new(6800, Currency::parse("JPY").unwrap()).unwrap(),
            ),
        ] {
            assert_eq!(expected.check(Ok(wrong.clone())), Err(ApiError::BadAnswer), "{wrong:?}");
        }
    }

    #[test]
    fn a_status_read_must_be_about_the_session_being_tracked() {
        let tracked = session("ord_1", "ses_1", "wechat_pay", cny(6800));
        let expected = Expected::tracking(&tracked);
        assert!(expected.check(Ok(tracked.clone())).is_ok());
        for wrong in [
            session("ord_1", "ses_2", "wechat_pay", cny(6800)),
            session("ord_2", "ses_1", "wechat_pay", cny(6800)),
            session("ord_1", "ses_1", "paypal", cny(6800)),
            session("ord_1", "ses_1", "wechat_pay", cny(6801)),
        ] {
            assert_eq!(expected.check(Ok(wrong.clone())), Err(ApiError::BadAnswer), "{wrong:?}");
        }
    }

    #[test]
    fn errors_pass_through_unchanged() {
        let ord_1 = OrderId::parse("ord_1").unwrap();
        let error = ApiError::Backend { status: 404, code: ErrorCode::NotFound, retry_after_ms: None };
        assert_eq!(Expected::order(&ord_1).check::<OrderResponse>(Err(error)), Err(error));
    }
}
