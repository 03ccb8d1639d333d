//! 付款码支付 (`codepay`): the merchant scans the code on the shopper's phone. As WeChat Pay
//! answers it (docs/providers/counter-flows.md): paid at once (200, the transaction), the shopper
//! confirming in the app (202 `{"trade_state":"USERPAYING"}`), or declined (403 with its code);
//! there is no notification, the merchant asks (`USERPAYING`, then `SUCCESS` or `PAYERROR`);
//! a code is used once; an order is undone with *reverse* (never *close*), which is refused while
//! the shopper is still confirming and, on a paid order, gives the money back.
//!
//! What each code does is the test's to say ([`crate::CodeScript`], [`WechatPayMock::script_code`]);
//! a code nobody scripted pays at once.

use super::{
    china_now, digits, error, merchant_fields, transaction_json, Order, WechatPayMock, APPID, MCHID,
};
use crate::CodeScript;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::time::Instant;

/// A code payment's decision still to come: when, and whether it pays.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    at: Option<Instant>,
    pays: bool,
}

/// The top-level fields `codepay` defines; WeChat Pay refuses any other (error 270924358).
const FIELDS: [&str; 12] = [
    "appid",
    "mchid",
    "description",
    "out_trade_no",
    "attach",
    "goods_tag",
    "support_fapiao",
    "payer",
    "amount",
    "scene_info",
    "detail",
    "settle_info",
];

/// A WeChat Pay payment code: 18 digits beginning 10 to 15.
pub fn is_payment_code(code: &str) -> bool {
    code.len() == 18
        && code.bytes().all(|b| b.is_ascii_digit())
        && (b"10".as_slice()..=b"15".as_slice()).contains(&&code.as_bytes()[..2])
}

/// A new payment code as a shopper's WeChat shows it (mainland China: beginning 13).
pub fn new_payment_code() -> String {
    format!("13{}", digits(16))
}

impl WechatPayMock {
    /// What charging `code` will do.
    pub fn script_code(&self, code: &str, script: CodeScript) {
        self.state().codes.insert(code.to_owned(), script);
    }

    /// Whether a paid code payment was reversed (its money given back to the shopper).
    pub fn money_returned(&self, out_trade_no: &str) -> bool {
        self.state().orders.get(out_trade_no).is_some_and(|order| order.money_returned)
    }

    pub(super) fn codepay(&self, body: Value) -> Result<(StatusCode, Value), (StatusCode, Value)> {
        let bad = |message: &str| error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message);
        if let Some(extra) = body.as_object().and_then(|o| o.keys().find(|k| !FIELDS.contains(&k.as_str()))) {
            return Err(bad(&format!("参数中含有非法的额外参数: {extra}")));
        }
        let (appid, mchid, description, out_trade_no) = merchant_fields(&body)?;
        let auth_code =
            body["payer"]["auth_code"].as_str().ok_or_else(|| bad("缺少参数 payer.auth_code"))?.to_owned();
        let total = body["amount"]["total"]
            .as_u64()
            .filter(|t| (1..=i32::MAX as u64).contains(t))
            .ok_or_else(|| bad("amount.total 错误"))?;
        let currency = body["amount"]["currency"].as_str().unwrap_or("CNY").to_owned();
        if currency != "CNY" {
            return Err(bad("amount.currency 只支持 CNY"));
        }
        let store = &body["scene_info"]["store_info"];
        let store_id = store["id"].as_str().or(store["out_id"].as_str()).unwrap_or_default();
        if store_id.is_empty() || store_id.len() > 32 {
            return Err(bad("scene_info.store_info 的 id 与 out_id 必须二选一"));
        }
        if body["scene_info"]["device_id"].as_str().is_some_and(|id| id.is_empty() || id.len() > 32) {
            return Err(bad("scene_info.device_id 长度不符合要求"));
        }
        let mut state = self.state();
        if let Some(order) = state.orders.get_mut(&out_trade_no) {
            if order.request != body {
                return Err(error(StatusCode::FORBIDDEN, "OUT_TRADE_NO_USED", "商户订单号重复"));
            }
            // The same request again: what the order has come to.
            decide(order);
            return Ok(answer(order));
        }
        if !is_payment_code(&auth_code) {
            return Err(error(StatusCode::FORBIDDEN, "AUTH_CODE_INVALID", "101 付款码无效，请重新扫码"));
        }
        if !state.used_codes.insert(auth_code.clone()) {
            return Err(error(
                StatusCode::FORBIDDEN,
                "AUTH_CODE_INVALID",
                "101 每个二维码仅限使用一次，请刷新再试",
            ));
        }
        let script = state.codes.get(&auth_code).cloned().unwrap_or(CodeScript::PaysAtOnce);
        let mut order = Order {
            out_trade_no: out_trade_no.clone(),
            appid,
            mchid,
            description,
            notify_url: String::new(),
            total,
            currency,
            trade_type: "MICROPAY",
            trade_state: "USERPAYING",
            transaction_id: None,
            success_time: None,
            code_url: None,
            prepay_id: String::new(),
            request: body,
            time_expire: None,
            pending: None,
            money_returned: false,
        };
        let declined = match script {
            CodeScript::PaysAtOnce => {
                settle(&mut order, true);
                None
            }
            CodeScript::Confirms { after, pays } => {
                order.pending = Some(Pending { at: Some(Instant::now() + after), pays });
                None
            }
            CodeScript::NeverDecides => {
                order.pending = Some(Pending { at: None, pays: false });
                None
            }
            CodeScript::Declines(code) => {
                settle(&mut order, false);
                Some(code)
            }
        };
        let answer = answer(&order);
        state.orders.insert(out_trade_no, order);
        match declined {
            Some(code) => Err(error(StatusCode::FORBIDDEN, &code, &decline_message(&code))),
            None => Ok(answer),
        }
    }

    pub(super) fn reverse(&self, out_trade_no: &str, body: &Value) -> Result<Value, (StatusCode, Value)> {
        if body["mchid"].as_str() != Some(MCHID) || body["appid"].as_str() != Some(APPID) {
            return Err(error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "appid 或 mchid 错误"));
        }
        let mut state = self.state();
        let order = state
            .orders
            .get_mut(out_trade_no)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
        decide(order);
        if order.pending.is_some_and(|pending| pending.at.is_some()) {
            return Err(error(StatusCode::FORBIDDEN, "USERPAYING", "正在支付中不能发起撤销"));
        }
        if order.trade_state == "SUCCESS" {
            order.money_returned = true;
        }
        order.pending = None;
        order.trade_state = "REVOKED";
        Ok(json!({ "appid": order.appid, "mchid": order.mchid, "out_trade_no": order.out_trade_no }))
    }
}

/// The decision that has come, if its time has.
pub(super) fn decide(order: &mut Order) {
    if let Some(Pending { at: Some(at), pays }) = order.pending {
        if Instant::now() >= at {
            settle(order, pays);
        }
    }
}

fn settle(order: &mut Order, pays: bool) {
    order.pending = None;
    if pays {
        order.trade_state = "SUCCESS";
        order.transaction_id = Some(format!("4200{}", digits(24)));
        order.success_time = Some(china_now());
    } else {
        order.trade_state = "PAYERROR";
    }
}

/// The answer to a code payment as it stands.
fn answer(order: &Order) -> (StatusCode, Value) {
    match order.trade_state {
        "USERPAYING" => (StatusCode::ACCEPTED, json!({ "trade_state": "USERPAYING" })),
        _ => (StatusCode::OK, transaction_json(order)),
    }
}

fn decline_message(code: &str) -> String {
    match code {
        "NOT_ENOUGH" => "用户账号余额不足，请用户充值或更换支付卡后再支付".into(),
        "AUTH_CODE_INVALID" => "101 付款码无效，请重新扫码".into(),
        "TRADE_ERROR" => "交易错误".into(),
        other => other.to_owned(),
    }
}
