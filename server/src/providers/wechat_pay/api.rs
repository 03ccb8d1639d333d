//! The calls this provider makes to WeChat Pay's API: the Native or H5 order, its query and
//! close, refunds and their query, and the check of the keys (`providers check`); with what they
//! share (the notification URL, the order's path, amounts in fen, WeChat Pay's lengths and times).

use super::{
    wire::{RefundAnswer, Transaction},
    WechatPayProvider, MAX_TOTAL_FEN, NAME,
};
use crate::domain::text::truncate_bytes;
use crate::providers::{
    CreatedPayment, PaymentRef, PaymentRequest, PaymentState, ProviderError, ProviderRefs, RefundRef,
    RefundRequest, RefundState,
};
use http::StatusCode;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use url::Url;
use wallet_checkout_contract::{Amount, DeviceKind, NextAction, RETURN_SESSION_PARAM};

/// `description` is at most 127 (bytes: a count in characters is then met too).
const MAX_DESCRIPTION_BYTES: usize = 127;
/// `reason` of a refund is at most 80.
const MAX_REASON_BYTES: usize = 80;

impl WechatPayProvider {
    /// A Native order (its `code_url` shown as a QR code) or, on a phone with H5 on, an H5 order
    /// (a redirect to its `h5_url`, which comes back to the store page).
    pub(super) async fn create_order(
        &self,
        request: &PaymentRequest<'_>,
    ) -> Result<CreatedPayment, ProviderError> {
        let h5 = self.h5 && request.device == DeviceKind::Mobile;
        let out_trade_no = request.session_id.as_str();
        let description = match truncate_bytes(request.description.trim(), MAX_DESCRIPTION_BYTES) {
            "" => out_trade_no,
            text => text,
        };
        let mut body = json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "description": description,
            "out_trade_no": out_trade_no,
            "time_expire": china_time(request.expires_at)?,
            "notify_url": self.notify_url(request.public_base)?,
            "amount": { "total": Self::total(&request.amount)?, "currency": request.amount.currency().as_str() },
        });
        if h5 {
            body["scene_info"] = json!({
                "payer_client_ip": request.client_ip.to_string(),
                "h5_info": { "type": "Wap" },
            });
        }
        let path = if h5 { "v3/pay/transactions/h5" } else { "v3/pay/transactions/native" };
        let answer = self.client.call(Method::POST, path, Some(&body)).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        #[derive(Deserialize)]
        struct Created {
            code_url: Option<String>,
            h5_url: Option<String>,
        }
        let created: Created = answer.json()?;
        let next_action = if h5 {
            let h5_url = created
                .h5_url
                .filter(|url| Url::parse(url).is_ok())
                .ok_or_else(|| ProviderError::InvalidRequest("WeChat Pay answered no h5_url".into()))?;
            // WeChat Pay's page sends the shopper back to `redirect_url` when it is appended: the
            // store page, naming the session so that the widget picks it up again.
            let back = request.return_url.with_param(RETURN_SESSION_PARAM, out_trade_no);
            let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
            let joiner = if h5_url.contains('?') { '&' } else { '?' };
            NextAction::Redirect { url: format!("{h5_url}{joiner}redirect_url={back}") }
        } else {
            let code_url = created
                .code_url
                .filter(|url| !url.is_empty())
                .ok_or_else(|| ProviderError::InvalidRequest("WeChat Pay answered no code_url".into()))?;
            NextAction::Qr { payload: code_url }
        };
        Ok(CreatedPayment { next_action, refs: ProviderRefs::default() })
    }

    /// The order's state, asked of WeChat Pay by `out_trade_no`.
    pub(super) async fn query_order(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        let path =
            format!("{}?mchid={}", Self::order_path(payment.session_id.as_str()), path_segment(&self.mchid));
        let answer = self.client.call_idempotent(Method::GET, &path, None).await?;
        if answer.status == StatusCode::NOT_FOUND && answer.code() == "ORDER_NOT_EXIST" {
            // No such order at WeChat Pay: it can never be paid.
            return Ok(PaymentState::Closed);
        }
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        let transaction: Transaction = answer.json()?;
        if transaction.out_trade_no != payment.session_id.as_str() {
            return Err(ProviderError::InvalidRequest(format!(
                "WeChat Pay answered about out_trade_no {:?}",
                transaction.out_trade_no
            )));
        }
        self.state_of(&transaction).map_err(ProviderError::InvalidRequest)
    }

    /// Closes the order at WeChat Pay.
    pub(super) async fn close_order(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let path = format!("{}/close", Self::order_path(payment.session_id.as_str()));
        let answer =
            self.client.call_idempotent(Method::POST, &path, Some(&json!({ "mchid": self.mchid }))).await?;
        match (answer.status.as_u16(), answer.code().as_str()) {
            (200..=299, _) => Ok(()),
            // Never created there: nothing to close.
            (404, "ORDER_NOT_EXIST") => Ok(()),
            _ => Err(answer.error()),
        }
    }

    /// Asks for a refund (again: the same `out_refund_no` is the same refund at WeChat Pay).
    pub(super) async fn create_refund(
        &self,
        refund: &RefundRequest<'_>,
    ) -> Result<RefundState, ProviderError> {
        let payment = &refund.payment;
        let mut body = json!({
            "out_refund_no": refund.refund_id,
            "notify_url": self.notify_url(refund.public_base)?,
            "amount": {
                "refund": Self::total(&refund.amount)?,
                "total": Self::total(&payment.amount)?,
                "currency": payment.amount.currency().as_str(),
            },
        });
        match &payment.refs.transaction_id {
            Some(id) => body["transaction_id"] = json!(id),
            None => body["out_trade_no"] = json!(payment.session_id.as_str()),
        }
        let reason = truncate_bytes(refund.reason.trim(), MAX_REASON_BYTES);
        if !reason.is_empty() {
            body["reason"] = json!(reason);
        }
        let answer = self.client.call(Method::POST, "v3/refund/domestic/refunds", Some(&body)).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        Self::refund_answered(answer.json()?, refund.refund_id)
    }

    /// The state of the refund WeChat Pay answered about, if it is the one asked about.
    fn refund_answered(answer: RefundAnswer, refund_id: &str) -> Result<RefundState, ProviderError> {
        if answer.out_refund_no != refund_id {
            return Err(ProviderError::InvalidRequest(format!(
                "WeChat Pay answered about out_refund_no {:?}",
                answer.out_refund_no
            )));
        }
        Ok(Self::refund_state(&answer))
    }

    /// A refund's state, asked of WeChat Pay by `out_refund_no`.
    pub(super) async fn fetch_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        let path = format!("v3/refund/domestic/refunds/{}", path_segment(refund.refund_id));
        let answer = self.client.call_idempotent(Method::GET, &path, None).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        Self::refund_answered(answer.json()?, refund.refund_id)
    }

    /// One harmless authenticated call, which proves the keys work both ways
    /// (`wallet-checkout-server providers check`).
    pub(super) async fn check_keys(&self) -> Result<(), ProviderError> {
        // The query of an order that was never made: harmless, authenticated, and its signed
        // answer (404 ORDER_NOT_EXIST) proves both directions of the keys.
        let probe = format!("wccheck{}", time::OffsetDateTime::now_utc().unix_timestamp());
        let path = format!("{}?mchid={}", Self::order_path(&probe), path_segment(&self.mchid));
        let answer = self.client.call(Method::GET, &path, None).await?;
        match (answer.status.as_u16(), answer.code().as_str()) {
            (200..=299, _) | (404, "ORDER_NOT_EXIST") => Ok(()),
            _ => Err(answer.error()),
        }
    }

    fn notify_url(&self, public_base: &Url) -> Result<String, ProviderError> {
        let base = self.public_url.as_ref().unwrap_or(public_base);
        let mut url = base
            .join(&format!("api/providers/{NAME}/notify"))
            .map_err(|e| ProviderError::Misconfigured(format!("cannot build the notification URL: {e}")))?;
        // WeChat Pay refuses a notify_url with a query.
        url.set_query(None);
        url.set_fragment(None);
        Ok(url.to_string())
    }

    pub(super) fn order_path(out_trade_no: &str) -> String {
        format!("v3/pay/transactions/out-trade-no/{}", path_segment(out_trade_no))
    }

    pub(super) fn total(amount: &Amount) -> Result<i64, ProviderError> {
        if amount.minor_units() > MAX_TOTAL_FEN {
            return Err(ProviderError::InvalidRequest("the amount is more than WeChat Pay takes".into()));
        }
        Ok(amount.minor_units() as i64)
    }
}

/// `out_trade_no` and `out_refund_no` are letters, digits and `_-|*@`: they go into a path as
/// they are, anything else percent-encoded.
fn path_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// RFC 3339 in China's time (`2018-06-08T10:34:56+08:00`), as WeChat Pay's examples write it.
fn china_time(millis: i64) -> Result<String, ProviderError> {
    let offset =
        time::UtcOffset::from_hms(8, 0, 0).map_err(|e| ProviderError::InvalidRequest(e.to_string()))?;
    let t = time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .map_err(|e| ProviderError::InvalidRequest(e.to_string()))?
        .to_offset(offset);
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_expire_is_rfc3339_in_china_time() {
        // 2018-06-08T02:34:56Z
        assert_eq!(china_time(1_528_425_296_000).unwrap(), "2018-06-08T10:34:56+08:00");
    }

    #[test]
    fn descriptions_are_cut_at_127_bytes_on_a_character_boundary() {
        let long = "微".repeat(60);
        let cut = truncate_bytes(&long, MAX_DESCRIPTION_BYTES);
        assert_eq!(cut.len(), 126);
        assert_eq!(truncate_bytes("Teapot", MAX_DESCRIPTION_BYTES), "Teapot");
    }
}
