//! 当面付 条码支付 (`alipay.trade.pay`, `scene=bar_code`): the merchant scans the code on the
//! shopper's phone. As Alipay answers it (docs/providers/counter-flows.md): `10000` paid, `10003`
//! the shopper confirming (the trade waits, `WAIT_BUYER_PAY`), `40004` with the reason
//! (`ACQ.PAYMENT_AUTH_CODE_INVALID`, `ACQ.BUYER_BALANCE_NOT_ENOUGH`, ...); a code is used once;
//! `alipay.trade.cancel` closes an unpaid trade (`action: close`) or gives a paid one back
//! (`action: refund`), and for a trade it does not know answers `10000` without `action`.
//!
//! What each code does is the test's to say ([`crate::CodeScript`], [`AlipayMock::script_code`]); a code
//! nobody scripted pays at once.

use super::{gateway_now, new_trade_no, parse_yuan, yuan, AlipayMock, Inner, Trade, TradeStatus};
use crate::CodeScript;
use axum::response::Response;
use rand::Rng;
use serde_json::Value;
use std::time::Instant;

/// An Alipay payment code: 16 to 24 digits beginning 25 to 30.
pub fn is_payment_code(code: &str) -> bool {
    (16..=24).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit())
        && (25..=30).contains(&code[..2].parse::<u8>().unwrap_or(0))
}

/// A new payment code as a shopper's Alipay shows it (18 digits beginning 28).
pub fn new_payment_code() -> String {
    let mut rng = rand::thread_rng();
    format!("28{}", (0..16).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect::<String>())
}

impl AlipayMock {
    /// What charging `code` will do.
    pub fn script_code(&self, code: &str, script: CodeScript) {
        self.lock().codes.insert(code.to_owned(), script);
    }

    /// Whether a paid code payment was cancelled (its money given back to the shopper).
    pub fn money_returned(&self, out_trade_no: &str) -> bool {
        self.lock().money_returned.contains(out_trade_no)
    }

    pub(super) fn trade_pay(&self, method: &str, biz: &Value) -> Response {
        let text =
            |name: &str| biz.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let (Some(out_trade_no), Some(amount), Some(subject), Some(auth_code)) =
            (text("out_trade_no"), text("total_amount"), text("subject"), text("auth_code"))
        else {
            return Self::gateway_error(
                Some(method),
                "40001",
                "Missing Required Arguments",
                "isv.missing-parameter",
                "缺少必选参数",
            );
        };
        if text("scene").as_deref() != Some("bar_code") {
            return self.business_error(method, "ACQ.INVALID_PARAMETER", "scene 参数无效");
        }
        if text("store_id").is_some_and(|id| id.len() > 32)
            || text("terminal_id").is_some_and(|id| id.len() > 32)
        {
            return self.business_error(method, "ACQ.INVALID_PARAMETER", "store_id 或 terminal_id 过长");
        }
        let Some(total_fen) = parse_yuan(&amount).filter(|fen| (1..=10_000_000_000).contains(fen)) else {
            return self.business_error(method, "ACQ.INVALID_PARAMETER", "total_amount 金额格式错误");
        };
        let mut inner = self.lock();
        decide(&mut inner, &out_trade_no);
        if let Some(existing) = inner.trades.get(&out_trade_no) {
            return match existing.status {
                TradeStatus::Success => self.business_error(method, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
                TradeStatus::Closed => self.business_error(method, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭"),
                _ => {
                    let fields = pay_fields(existing, "10003");
                    drop(inner);
                    self.envelope(method, &fields)
                }
            };
        }
        if !is_payment_code(&auth_code) || !inner.used_codes.insert(auth_code.clone()) {
            drop(inner);
            return self.business_error(
                method,
                "ACQ.PAYMENT_AUTH_CODE_INVALID",
                "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
            );
        }
        let script = inner.codes.get(&auth_code).cloned().unwrap_or(CodeScript::PaysAtOnce);
        if let CodeScript::Declines(sub_code) = &script {
            let sub_code = sub_code.clone();
            drop(inner);
            let sub_msg = match sub_code.as_str() {
                "ACQ.BUYER_BALANCE_NOT_ENOUGH" => "买家余额不足",
                "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH" => "用户银行卡余额不足",
                _ => "交易失败",
            };
            return self.business_error(method, &sub_code, sub_msg);
        }
        let mut trade = Trade {
            out_trade_no: out_trade_no.clone(),
            trade_no: new_trade_no(),
            total_fen,
            subject,
            method: method.to_owned(),
            status: TradeStatus::WaitBuyerPay,
            notify_url: None,
            return_url: None,
            quit_url: None,
            closed_before_scan: false,
            created_at: gateway_now(),
            paid_at: None,
            refunds: Vec::new(),
        };
        let code = match script {
            CodeScript::PaysAtOnce => {
                trade.status = TradeStatus::Success;
                trade.paid_at = Some(gateway_now());
                "10000"
            }
            CodeScript::Confirms { after, pays } => {
                inner.pending.insert(out_trade_no.clone(), (Some(Instant::now() + after), pays));
                "10003"
            }
            CodeScript::NeverDecides | CodeScript::Declines(_) => {
                inner.pending.insert(out_trade_no.clone(), (None, false));
                "10003"
            }
        };
        let fields = pay_fields(&trade, code);
        inner.trades.insert(out_trade_no, trade);
        drop(inner);
        self.envelope(method, &fields)
    }

    pub(super) fn trade_cancel(&self, method: &str, biz: &Value) -> Response {
        let Some(out_trade_no) = biz.get("out_trade_no").and_then(Value::as_str).map(str::to_owned) else {
            return self.business_error(method, "ACQ.INVALID_PARAMETER", "参数无效");
        };
        let mut inner = self.lock();
        decide(&mut inner, &out_trade_no);
        inner.pending.remove(&out_trade_no);
        let Some(trade) = inner.trades.get_mut(&out_trade_no) else {
            drop(inner);
            // A trade Alipay does not know: success, and no `action`.
            return self.envelope(
                method,
                &[
                    ("code", "10000".into()),
                    ("msg", "Success".into()),
                    ("out_trade_no", out_trade_no),
                    ("retry_flag", "N".into()),
                ],
            );
        };
        let action = if trade.status == TradeStatus::Success { "refund" } else { "close" };
        trade.status = TradeStatus::Closed;
        let fields = [
            ("code", "10000".to_owned()),
            ("msg", "Success".to_owned()),
            ("trade_no", trade.trade_no.clone()),
            ("out_trade_no", out_trade_no.clone()),
            ("retry_flag", "N".to_owned()),
            ("action", action.to_owned()),
        ];
        if action == "refund" {
            inner.money_returned.insert(out_trade_no);
        }
        drop(inner);
        self.envelope(method, &fields)
    }
}

/// The decision that has come for a code payment, if its time has.
pub(super) fn decide(inner: &mut Inner, out_trade_no: &str) {
    let Some(&(Some(at), pays)) = inner.pending.get(out_trade_no) else { return };
    if Instant::now() < at {
        return;
    }
    inner.pending.remove(out_trade_no);
    if let Some(trade) = inner.trades.get_mut(out_trade_no) {
        if pays {
            trade.status = TradeStatus::Success;
            trade.paid_at = Some(gateway_now());
        } else {
            trade.status = TradeStatus::Closed;
        }
    }
}

/// `alipay.trade.pay`'s answer: `10000` with the payment, `10003` while the shopper confirms.
fn pay_fields(trade: &Trade, code: &str) -> Vec<(&'static str, String)> {
    let paid = code == "10000";
    let mut fields = vec![
        ("code", code.to_owned()),
        ("msg", if paid { "Success" } else { "order success pay inprocess" }.to_owned()),
        ("buyer_logon_id", "tes***@example.com".to_owned()),
        ("out_trade_no", trade.out_trade_no.clone()),
        ("trade_no", trade.trade_no.clone()),
        ("total_amount", yuan(trade.total_fen)),
        ("receipt_amount", if paid { yuan(trade.total_fen) } else { "0.00".into() }),
        ("buyer_pay_amount", if paid { yuan(trade.total_fen) } else { "0.00".into() }),
    ];
    if let Some(paid_at) = &trade.paid_at {
        fields.push(("gmt_payment", paid_at.clone()));
    }
    fields
}
