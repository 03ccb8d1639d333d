//! The sandbox wallet: a stand-in for WeChat Pay, Alipay and PayPal that runs inside this server.
//! Its pay page (see `routes::sandbox`) lets anyone approve or decline, so the whole flow runs on
//! one machine with no accounts.

use super::{PaymentRequest, ProviderError, ProviderPayment, Verdict, WalletProvider};
use async_trait::async_trait;
use wallet_checkout_contract::{DeviceKind, NextAction, WalletId, WalletOption};

/// How a sandbox wallet hands the shopper over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// A QR code on desktop; a redirect on mobile (the shopper cannot scan their own screen).
    QrOrRedirectOnMobile,
    /// A QR code everywhere; its payload is a link a phone can open (the widget offers it as an
    /// "Open <wallet>" button there), as wallets with app links do.
    QrWithAppLink,
    /// Always a redirect to the wallet's page.
    Redirect,
}

const WALLETS: [(&str, &str, Flow); 3] = [
    ("wechat_pay", "WeChat Pay", Flow::QrOrRedirectOnMobile),
    ("alipay", "Alipay", Flow::QrWithAppLink),
    ("paypal", "PayPal", Flow::Redirect),
];

#[derive(Debug, Default)]
pub struct SandboxProvider;

impl SandboxProvider {
    /// Path of the sandbox pay page for a session, below the server's public base URL.
    pub fn pay_path(session_id: &str) -> String {
        format!("sandbox/pay/{session_id}")
    }

    pub fn wallet_name(id: &WalletId) -> Option<&'static str> {
        WALLETS.iter().find(|(wallet, _, _)| *wallet == id.as_str()).map(|(_, name, _)| *name)
    }
}

#[async_trait]
impl WalletProvider for SandboxProvider {
    fn wallets(&self) -> Vec<WalletOption> {
        WALLETS
            .iter()
            .map(|(id, name, _)| WalletOption {
                id: WalletId::parse(*id).expect("sandbox wallet ids are valid"),
                name: (*name).to_owned(),
            })
            .collect()
    }

    async fn create_payment(&self, request: PaymentRequest<'_>) -> Result<ProviderPayment, ProviderError> {
        let flow = WALLETS
            .iter()
            .find(|(id, _, _)| *id == request.wallet_id.as_str())
            .map(|(_, _, flow)| *flow)
            .ok_or_else(|| ProviderError(format!("sandbox has no wallet {}", request.wallet_id)))?;
        let pay_url = request
            .public_base
            .join(&Self::pay_path(request.session_id.as_str()))
            .map_err(|e| ProviderError(format!("cannot build the pay page URL: {e}")))?
            .to_string();
        let next_action = match (flow, request.device) {
            (Flow::QrOrRedirectOnMobile, DeviceKind::Desktop) | (Flow::QrWithAppLink, _) => {
                NextAction::Qr { payload: pay_url }
            }
            _ => NextAction::Redirect { url: pay_url },
        };
        Ok(ProviderPayment { reference: format!("sbx_{}", request.session_id), next_action })
    }

    /// The sandbox settles every approved payment: an approval is a payment.
    async fn payment_verdict(&self, _reference: &str) -> Result<Verdict, ProviderError> {
        Ok(Verdict::Succeeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;
    use wallet_checkout_contract::{Amount, Currency, SessionId};

    async fn action(wallet: &str, device: DeviceKind) -> NextAction {
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let session = SessionId::parse("ses_1").unwrap();
        let wallet = WalletId::parse(wallet).unwrap();
        let request = PaymentRequest {
            session_id: &session,
            wallet_id: &wallet,
            amount: Amount::new(100, Currency::parse("CNY").unwrap()).unwrap(),
            device,
            public_base: &base,
        };
        SandboxProvider.create_payment(request).await.unwrap().next_action
    }

    #[tokio::test]
    async fn wechat_pay_on_desktop_is_a_qr_code_of_the_pay_page() {
        assert_eq!(
            action("wechat_pay", DeviceKind::Desktop).await,
            NextAction::Qr { payload: "http://127.0.0.1:8080/sandbox/pay/ses_1".into() }
        );
    }

    #[tokio::test]
    async fn paypal_is_always_a_redirect() {
        for device in [DeviceKind::Desktop, DeviceKind::Mobile] {
            assert!(matches!(action("paypal", device).await, NextAction::Redirect { .. }));
        }
    }

    #[tokio::test]
    async fn wechat_pay_redirects_on_mobile() {
        assert!(matches!(action("wechat_pay", DeviceKind::Mobile).await, NextAction::Redirect { .. }));
    }

    #[tokio::test]
    async fn alipay_is_a_qr_code_with_an_app_link_everywhere() {
        for device in [DeviceKind::Desktop, DeviceKind::Mobile] {
            assert!(matches!(action("alipay", device).await, NextAction::Qr { .. }));
        }
    }
}
