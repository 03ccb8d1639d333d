//! Reading the backend's JSON into the contract's types without a JSON library in the bundle: the
//! browser parses (`JSON.parse`), and these decoders walk the result, checking every field with
//! the contract's own constructors. They are generic over `JsonValue`, so native tests run them
//! on `serde_json` values produced by the contract's serde implementation: the two must agree.

use wallet_checkout_contract::{
    Amount, Currency, ErrorCode, NextAction, Order, OrderId, OrderResponse, OrderStatus, Session, SessionId,
    SessionStatus, WalletId, WalletOption,
};

/// The little a decoder needs from a parsed JSON value.
pub trait JsonValue: Sized {
    fn field(&self, name: &str) -> Option<Self>;
    fn string(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
    fn is_null(&self) -> bool;
    fn items(&self) -> Option<Vec<Self>>;
}

/// A type that can be read from JSON. `None` means the value does not follow the contract.
pub trait Decode: Sized {
    fn decode<J: JsonValue>(value: &J) -> Option<Self>;
}

fn string<J: JsonValue>(value: &J, name: &str) -> Option<String> {
    value.field(name)?.string()
}

/// A non-negative integer that a JavaScript number holds exactly.
fn whole<J: JsonValue>(value: &J, name: &str) -> Option<u64> {
    let number = value.field(name)?.number()?;
    (number >= 0.0 && number.fract() == 0.0 && number <= 9_007_199_254_740_991.0).then_some(number as u64)
}

impl Decode for Amount {
    fn decode<J: JsonValue>(value: &J) -> Option<Self> {
        let currency = Currency::parse(&string(value, "currency")?).ok()?;
        Amount::new(whole(value, "minor_units")?, currency).ok()
    }
}

impl Decode for WalletOption {
    fn decode<J: JsonValue>(value: &J) -> Option<Self> {
        Some(Self { id: WalletId::parse(string(value, "id")?).ok()?, name: string(value, "name")? })
    }
}

impl Decode for OrderResponse {
    fn decode<J: JsonValue>(value: &J) -> Option<Self> {
        let order = value.field("order")?;
        let status = OrderStatus::parse(&string(&order, "status")?)?;
        let wallets = value.field("wallets")?.items()?;
        Some(Self {
            order: Order {
                id: OrderId::parse(string(&order, "id")?).ok()?,
                description: string(&order, "description")?,
                amount: Amount::decode(&order.field("amount")?)?,
                status,
            },
            wallets: wallets.iter().map(WalletOption::decode).collect::<Option<_>>()?,
            livemode: value.field("livemode")?.boolean()?,
        })
    }
}

impl Decode for NextAction {
    fn decode<J: JsonValue>(value: &J) -> Option<Self> {
        Some(match string(value, "type")?.as_str() {
            "qr" => NextAction::Qr { payload: string(value, "payload")? },
            "redirect" => NextAction::Redirect { url: string(value, "url")? },
            _ => NextAction::Unsupported,
        })
    }
}

impl Decode for Session {
    fn decode<J: JsonValue>(value: &J) -> Option<Self> {
        let next_action = match value.field("next_action") {
            None => None,
            Some(action) if action.is_null() => None,
            Some(action) => Some(NextAction::decode(&action)?),
        };
        Some(Self {
            id: SessionId::parse(string(value, "id")?).ok()?,
            order_id: OrderId::parse(string(value, "order_id")?).ok()?,
            wallet_id: WalletId::parse(string(value, "wallet_id")?).ok()?,
            status: SessionStatus::parse(&string(value, "status")?)?,
            amount: Amount::decode(&value.field("amount")?)?,
            expires_at: string(value, "expires_at")?,
            expires_in_secs: whole(value, "expires_in_secs")?,
            next_action,
            amount_refunded: match value.field("amount_refunded") {
                Some(amount) if !amount.is_null() => Some(Amount::decode(&amount)?),
                _ => None,
            },
        })
    }
}

/// The `code` of the contract's error body; `Unknown` for a code this version does not know.
pub fn error_code<J: JsonValue>(value: &J) -> Option<ErrorCode> {
    let code = string(&value.field("error")?, "code")?;
    Some(ErrorCode::parse(&code).unwrap_or(ErrorCode::Unknown))
}

mod browser_json {
    use super::JsonValue;
    use wasm_bindgen::{JsCast, JsValue};

    impl JsonValue for JsValue {
        fn field(&self, name: &str) -> Option<Self> {
            if !self.is_object() || js_sys::Array::is_array(self) {
                return None;
            }
            js_sys::Reflect::get(self, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined())
        }

        fn string(&self) -> Option<String> {
            self.as_string()
        }

        fn number(&self) -> Option<f64> {
            self.as_f64()
        }

        fn boolean(&self) -> Option<bool> {
            self.as_bool()
        }

        fn is_null(&self) -> bool {
            JsValue::is_null(self)
        }

        fn items(&self) -> Option<Vec<Self>> {
            self.dyn_ref::<js_sys::Array>().map(|array| array.iter().collect())
        }
    }

    /// `JSON.parse`, with a syntax error as `None`.
    pub fn parse(text: &str) -> Option<JsValue> {
        js_sys::JSON::parse(text).ok()
    }
}

pub use browser_json::parse;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    impl JsonValue for Value {
        fn field(&self, name: &str) -> Option<Self> {
            self.as_object()?.get(name).cloned()
        }
        fn string(&self) -> Option<String> {
            self.as_str().map(str::to_owned)
        }
        fn number(&self) -> Option<f64> {
            self.as_f64()
        }
        fn boolean(&self) -> Option<bool> {
            self.as_bool()
        }
        fn is_null(&self) -> bool {
            Value::is_null(self)
        }
        fn items(&self) -> Option<Vec<Self>> {
            self.as_array().cloned()
        }
    }

    /// What the contract's serde writes, these decoders read back unchanged.
    fn agrees<T: Decode + serde::Serialize + PartialEq + std::fmt::Debug>(value: T) {
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(T::decode(&json), Some(value));
    }

    fn amount() -> Amount {
        Amount::new(6800, Currency::parse("CNY").unwrap()).unwrap()
    }

    fn session(status: SessionStatus, next_action: Option<NextAction>) -> Session {
        Session {
            id: SessionId::parse("ses_1").unwrap(),
            order_id: OrderId::parse("ord_1").unwrap(),
            wallet_id: WalletId::parse("wechat_pay").unwrap(),
            status,
            amount: amount(),
            expires_at: "2030-01-01T00:00:00Z".into(),
            expires_in_secs: 899,
            next_action,
            amount_refunded: None,
        }
    }

    #[test]
    fn decoders_agree_with_the_contracts_serde() {
        for status in SessionStatus::ALL {
            agrees(session(status, None));
        }
        agrees(session(SessionStatus::Pending, Some(NextAction::Qr { payload: "weixin://x".into() })));
        agrees(session(
            SessionStatus::Pending,
            Some(NextAction::Redirect { url: "https://a.example/".into() }),
        ));
        for status in [OrderStatus::Open, OrderStatus::Paid, OrderStatus::Canceled] {
            agrees(OrderResponse {
                order: Order {
                    id: OrderId::parse("o").unwrap(),
                    description: "Tea".into(),
                    amount: amount(),
                    status,
                },
                wallets: vec![WalletOption { id: WalletId::parse("paypal").unwrap(), name: "PayPal".into() }],
                livemode: true,
            });
        }
    }

    #[test]
    fn error_codes_are_read_from_the_error_body() {
        let body = json!({"error": {"code": "session_final", "message": "x"}});
        assert_eq!(error_code(&body), Some(ErrorCode::SessionFinal));
        assert_eq!(error_code(&json!({"error": {"code": "teapot"}})), Some(ErrorCode::Unknown));
        assert_eq!(error_code(&json!("oops")), None);
    }

    #[test]
    fn values_outside_the_contract_are_refused() {
        let good = serde_json::to_value(session(SessionStatus::Pending, None)).unwrap();
        let mut cases = Vec::new();
        for (field, bad) in [
            ("status", json!("paid")),
            ("id", json!("../x")),
            ("expires_in_secs", json!(-1)),
            ("expires_in_secs", json!(1.5)),
            ("expires_in_secs", json!("60")),
            ("amount", json!({"minor_units": 1, "currency": "usd"})),
            ("next_action", json!({"payload": "x"})),
        ] {
            let mut value = good.clone();
            value[field] = bad;
            cases.push(value);
        }
        cases.push(json!([]));
        cases.push(json!(null));
        for case in cases {
            assert_eq!(Session::decode(&case), None, "{case}");
        }
    }

    /// The shipped build turns a panic into a bare trap (a dead widget), so nothing an answer
    /// holds may reach one: every field of a session and an order, replaced by every kind of
    /// JSON value or left out, is read as a value or refused, never a panic.
    #[test]
    fn no_answer_makes_a_decoder_panic() {
        let oddities = [
            json!(null),
            json!(true),
            json!(-1),
            json!(1.0e308),
            json!(-0.0),
            json!(9_007_199_254_740_993u64),
            json!(""),
            json!("x".repeat(10_000)),
            json!("\u{202e}\u{0}"),
            json!([]),
            json!([1, "a", null]),
            json!({}),
            json!({"type": "qr"}),
            json!({"minor_units": 1, "currency": "CNY"}),
        ];
        let mut session = serde_json::to_value(session(SessionStatus::Pending, None)).unwrap();
        session["next_action"] = json!({"type": "qr", "payload": "https://pay.example/1"});
        let order = serde_json::to_value(OrderResponse {
            order: Order {
                id: OrderId::parse("o").unwrap(),
                description: "Tea".into(),
                amount: amount(),
                status: OrderStatus::Open,
            },
            wallets: vec![WalletOption { id: WalletId::parse("paypal").unwrap(), name: "PayPal".into() }],
            livemode: true,
        })
        .unwrap();
        let mut read = 0;
        for (value, paths) in [
            (
                &session,
                vec![
                    "id",
                    "order_id",
                    "wallet_id",
                    "status",
                    "amount",
                    "expires_at",
                    "expires_in_secs",
                    "next_action",
                    "amount_refunded",
                ],
            ),
            (&order, vec!["order", "wallets", "livemode"]),
        ] {
            for field in paths {
                for odd in &oddities {
                    let mut changed = value.clone();
                    changed[field] = odd.clone();
                    read += usize::from(Session::decode(&changed).is_some());
                    read += usize::from(OrderResponse::decode(&changed).is_some());
                    let _ = error_code(&changed);
                    let mut nested = value.clone();
                    for inner in ["amount", "order", "next_action"] {
                        if nested[inner].is_object() {
                            nested[inner][field] = odd.clone();
                        }
                    }
                    read += usize::from(Session::decode(&nested).is_some());
                    read += usize::from(OrderResponse::decode(&nested).is_some());
                }
                let mut missing = value.clone();
                missing.as_object_mut().unwrap().remove(field);
                read += usize::from(Session::decode(&missing).is_some());
            }
        }
        for odd in &oddities {
            assert_eq!(Session::decode(odd), None, "{odd}");
            assert_eq!(OrderResponse::decode(odd), None, "{odd}");
        }
        assert!(read > 0, "some variations are still valid answers");
    }

    #[test]
    fn a_refunded_session_reads_its_refunded_amount() {
        let mut refunded = session(SessionStatus::Succeeded, None);
        refunded.amount_refunded = Some(Amount::new(500, Currency::parse("CNY").unwrap()).unwrap());
        agrees(refunded);
    }

    #[test]
    fn an_unknown_action_type_is_unsupported_not_an_error() {
        let action = json!({"type": "voucher", "code": "123"});
        assert_eq!(NextAction::decode(&action), Some(NextAction::Unsupported));
    }
}
