//! WeChat Pay APIv3's cryptography: the `WECHATPAY2-SHA256-RSA2048` request signature (SHA-256
//! with RSA, PKCS#1 v1.5, over five lines), the verification of answers and notifications (the
//! same scheme over three lines, with the key that `Wechatpay-Serial` names: the WeChat Pay public
//! key or a platform certificate), and the `AEAD_AES_256_GCM` decryption of notification
//! resources with the APIv3 key.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes128Gcm, Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use rand::{distributions::Alphanumeric, Rng};
use rsa::{
    pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey},
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{DecodePrivateKey, DecodePublicKey},
    sha2::Sha256,
    signature::{SignatureEncoding, Signer, Verifier},
    RsaPrivateKey, RsaPublicKey,
};
use std::collections::BTreeMap;
use x509_cert::der::{DecodePem, Encode};

/// The scheme named in `Authorization` and `Wechatpay-Signature-Type`.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// WeChat Pay sends notifications whose signature starts with this to see whether merchants
/// verify them: they never verify, and are refused like any bad signature.
pub const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";
/// How far a signed timestamp may be from now.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The message a request signature covers: method, path with query, timestamp, nonce and body,
/// each line ending in `\n` (an empty body for GET leaves an empty last line).
pub fn request_message(
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The message an answer's or a notification's signature covers: timestamp, nonce, raw body.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// A random nonce of 32 letters and digits.
pub fn nonce() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

/// SHA-256 with RSA (PKCS#1 v1.5), Base64.
pub fn sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    let signature: Signature = SigningKey::<Sha256>::new(key.clone()).sign(message);
    BASE64.encode(signature.to_bytes())
}

/// Whether `signature` (Base64) is SHA-256 with RSA over `message` by `key`'s pair.
pub fn verify(key: &RsaPublicKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = BASE64.decode(signature.trim()) else { return false };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else { return false };
    VerifyingKey::<Sha256>::new(key.clone()).verify(message, &signature).is_ok()
}

/// A request as its signature covers it.
#[derive(Debug, Clone, Copy)]
pub struct RequestToSign<'a> {
    pub method: &'a str,
    /// The URL's path and query, without scheme and host.
    pub path_and_query: &'a str,
    pub timestamp: i64,
    pub nonce: &'a str,
    /// The exact body sent (empty for GET).
    pub body: &'a str,
}

/// The `Authorization` header of a request.
pub fn authorization(
    key: &RsaPrivateKey,
    mchid: &str,
    serial_no: &str,
    request: &RequestToSign<'_>,
) -> String {
    let RequestToSign { method, path_and_query, timestamp, nonce, body } = *request;
    let signature = sign(key, request_message(method, path_and_query, timestamp, nonce, body).as_bytes());
    format!(
        "{SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\""
    )
}

/// Reads a private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, as WeChat Pay's tool writes it) or
/// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, String> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| "not an RSA private key in PEM (PKCS#8 or PKCS#1)".to_owned())
}

/// Reads a public key from PEM: `BEGIN PUBLIC KEY` (as WeChat Pay hands out its public key) or
/// `BEGIN RSA PUBLIC KEY`.
pub fn public_key_from_pem(pem: &str) -> Result<RsaPublicKey, String> {
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| "not an RSA public key in PEM".to_owned())
}

/// A certificate's serial number as WeChat Pay writes it (upper-case hex, no leading zeros),
/// its RSA public key, and when it stops being valid (Unix seconds).
#[derive(Debug, Clone)]
pub struct CertificateKey {
    pub serial: String,
    pub key: RsaPublicKey,
    pub not_after: i64,
}

/// Reads an X.509 certificate in PEM.
pub fn certificate_from_pem(pem: &str) -> Result<CertificateKey, String> {
    let certificate = x509_cert::Certificate::from_pem(pem.as_bytes())
        .map_err(|_| "not an X.509 certificate in PEM".to_owned())?;
    let tbs = &certificate.tbs_certificate;
    let serial_bytes = tbs.serial_number.as_bytes();
    let first = serial_bytes.iter().position(|byte| *byte != 0).unwrap_or(serial_bytes.len());
    let serial: String = serial_bytes[first..].iter().map(|byte| format!("{byte:02X}")).collect();
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|_| "the certificate's key cannot be read".to_owned())?;
    let key = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| "the certificate's key is not RSA".to_owned())?;
    let not_after = tbs.validity.not_after.to_unix_duration().as_secs() as i64;
    Ok(CertificateKey { serial: if serial.is_empty() { "0".into() } else { serial }, key, not_after })
}

/// Why an answer or a notification does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    Missing(&'static str),
    Probe,
    Stale { timestamp: i64, now: i64 },
    UnknownSerial(String),
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::Missing(header) => write!(f, "no {header} header"),
            SignatureError::Probe => write!(f, "a signature probe ({PROBE_PREFIX}...), which never verifies"),
            SignatureError::Stale { timestamp, now } => {
                write!(f, "the timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECS} s from now ({now})")
            }
            SignatureError::UnknownSerial(serial) => {
                write!(f, "Wechatpay-Serial {serial:?} names no configured WeChat Pay public key or platform certificate")
            }
            SignatureError::Mismatch => write!(f, "the signature does not verify"),
        }
    }
}

/// The `Wechatpay-*` headers of a signed answer or notification.
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub serial: Option<&'a str>,
}

impl<'a> SignedHeaders<'a> {
    /// The `Wechatpay-*` headers as an answer or a notification carries them.
    pub fn from_headers(headers: &'a http::HeaderMap) -> Self {
        fn value<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
            headers.get(name).and_then(|value| value.to_str().ok())
        }
        Self {
            timestamp: value(headers, "Wechatpay-Timestamp"),
            nonce: value(headers, "Wechatpay-Nonce"),
            signature: value(headers, "Wechatpay-Signature"),
            serial: value(headers, "Wechatpay-Serial"),
        }
    }

    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }
}

/// The keys WeChat Pay signs with, by the serial it names them with in `Wechatpay-Serial`: its
/// public key (`PUB_KEY_ID_...`) and any platform certificates, all at once during the migration.
#[derive(Debug, Clone, Default)]
pub struct WechatPayKeys {
    keys: BTreeMap<String, RsaPublicKey>,
}

impl WechatPayKeys {
    pub fn insert(&mut self, serial: impl Into<String>, key: RsaPublicKey) {
        self.keys.insert(serial.into(), key);
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn serials(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Verifies a signed body: not a probe, a timestamp within 5 minutes of `now`, a key the
    /// serial names, and a signature over the three lines.
    pub fn verify(&self, headers: &SignedHeaders<'_>, body: &[u8], now: i64) -> Result<(), SignatureError> {
        let signature = headers.signature.ok_or(SignatureError::Missing("Wechatpay-Signature"))?;
        if signature.starts_with(PROBE_PREFIX) {
            return Err(SignatureError::Probe);
        }
        let timestamp = headers.timestamp.ok_or(SignatureError::Missing("Wechatpay-Timestamp"))?;
        let nonce = headers.nonce.ok_or(SignatureError::Missing("Wechatpay-Nonce"))?;
        let serial = headers.serial.ok_or(SignatureError::Missing("Wechatpay-Serial"))?;
        let seconds: i64 =
            timestamp.trim().parse().map_err(|_| SignatureError::Stale { timestamp: 0, now })?;
        if (now - seconds).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(SignatureError::Stale { timestamp: seconds, now });
        }
        let key =
            self.keys.get(serial.trim()).ok_or_else(|| SignatureError::UnknownSerial(serial.to_owned()))?;
        if verify(key, &response_message(timestamp, nonce, body), signature) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// Decrypts a notification resource: `AEAD_AES_256_GCM` with the APIv3 key, the resource's
/// `nonce` and `associated_data` as their UTF-8 bytes, the Base64 ciphertext ending in the 16-byte
/// tag. (A 16-byte key selects AES-128-GCM, which only the SDKs' test vectors use; the settings
/// insist on 32 bytes.)
pub fn decrypt_resource(
    key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext: &str,
) -> Result<Vec<u8>, String> {
    let ciphertext =
        BASE64.decode(ciphertext.trim()).map_err(|_| "the ciphertext is not Base64".to_owned())?;
    if nonce.len() != 12 {
        return Err("the nonce is not 12 bytes".into());
    }
    let nonce = Nonce::from_slice(nonce.as_bytes());
    let payload = Payload { msg: &ciphertext, aad: associated_data.as_bytes() };
    let plain = match key.len() {
        32 => Aes256Gcm::new_from_slice(key).map_err(|e| e.to_string())?.decrypt(nonce, payload),
        16 => Aes128Gcm::new_from_slice(key).map_err(|e| e.to_string())?.decrypt(nonce, payload),
        _ => return Err("the APIv3 key is not 32 bytes".into()),
    };
    plain
        .map_err(|_| "the resource does not decrypt with the APIv3 key (tampered, or another key)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A worked example from WeChat Pay's official Go SDK: wechatpay-apiv3/wechatpay-go,
    // core/notify/notify_test.go (TestHandler_ParseNotifyRequest): a platform certificate, a
    // notification signed by its key, and the resource encrypted with the (16-byte) test key.
    const SDK_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIJANfOWdH1ItcBMA0GCSqGSIb3DQEBCwUAMEIxCzAJBgNV
BAYTAlhYMRUwEwYDVQQHDAxEZWZhdWx0IENpdHkxHDAaBgNVBAoME0RlZmF1bHQg
Q29tcGFueSBMdGQwHhcNMjEwNDI3MDg1NTIzWhcNMzEwNDI1MDg1NTIzWjBCMQsw
CQYDVQQGEwJYWDEVMBMGA1UEBwwMRGVmYXVsdCBDaXR5MRwwGgYDVQQKDBNEZWZh
dWx0IENvbXBhbnkgTHRkMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
2VCTd91fnUn73Xy9DLvt/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXag
HQ4vGeZN0yqm++rDsGK+U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOm
DeJf2vg6byms9RUipiq4SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B83
4uxl1zNLYQCrkdBzb8oUxwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGf
y8wus7hwKz6clt3Whmmda7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtk
aSef4FdEEgEXJiw0VAJT8wIDAQABo1AwTjAdBgNVHQ4EFgQUT1c7nd/SUO76HSoZ
umNUJv1R5PwwHwYDVR0jBBgwFoAUT1c7nd/SUO76HSoZumNUJv1R5PwwDAYDVR0T
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAfTjxKRQMzNB/U6ZoCUS+BSNfa2Oh
0plMN6ZuzwiVVZwg1jywvv5yv04koS7Pd4i9E4gt9ZBUQXlpq+A3oOCEEHNRR6b2
kyazGRM7s0OP5X21WrbpSmKmU6K7hkfx30yYs08LVs/Q8DIhvaj1FCFeJzUCzYn/
fHMq4tsbKO0dKAeydPM/nrUZBmaYQVKMVOORGLFjFKVO7JV6Kq/R86ouhjEPgJOe
2xulNBUcjicqtZlBdEh/PWCYP2SpGVDclKm8jeo175T3EVAkdKzzmfpxtMmnMlmq
cTJOU9TxuGvNASMtjj7pYIerTx+xgZDXEVBWFW9PjJ0TV06tCRsgSHItgg==
-----END CERTIFICATE-----";
    const SDK_TIMESTAMP: &str = "1624523846";
    const SDK_NONCE: &str = "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz";
    const SDK_SERIAL: &str = "D7CE59D1F522D701";
    const SDK_SIGNATURE: &str = concat!(
        "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXF",
        "lbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1I",
        "BLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY4",
        "06ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q=="
    );
    const SDK_CIPHERTEXT: &str = concat!(
        "YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZt",
        "tevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR",
        "7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ=="
    );

    fn sdk_body() -> String {
        format!(
            concat!(
                "{{\"id\":\"3119dfba-e649-5eec-ab1e-3412bc4d2e17\",\"create_time\":\"2021-06-24T16:37:26+08:00\",",
                "\"resource_type\":\"encrypt-resource\",\"event_type\":\"PAYSCORE.USER_OPEN_SERVICE\",\"summary\":\"签约成功\",",
                "\"resource\":{{\"original_type\":\"payscore\",\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":\"{}\",",
                "\"associated_data\":\"payscore\",\"nonce\":\"Kj7QIyUiYx1q\"}}}}"
            ),
            SDK_CIPHERTEXT
        )
    }

    fn sdk_headers(signature: &str) -> SignedHeaders<'_> {
        SignedHeaders {
            timestamp: Some(SDK_TIMESTAMP),
            nonce: Some(SDK_NONCE),
            signature: Some(signature),
            serial: Some(SDK_SERIAL),
        }
    }

    fn sdk_keys() -> WechatPayKeys {
        let certificate = certificate_from_pem(SDK_CERTIFICATE).unwrap();
        let mut keys = WechatPayKeys::default();
        keys.insert(certificate.serial, certificate.key);
        keys
    }

    #[test]
    fn a_certificate_serial_reads_as_wechat_pay_writes_it() {
        let certificate = certificate_from_pem(SDK_CERTIFICATE).unwrap();
        assert_eq!(certificate.serial, SDK_SERIAL, "upper-case hex without the DER sign byte");
    }

    #[test]
    fn the_official_sdk_notification_verifies_over_three_lines() {
        let now = SDK_TIMESTAMP.parse().unwrap();
        let body = sdk_body();
        assert_eq!(sdk_keys().verify(&sdk_headers(SDK_SIGNATURE), body.as_bytes(), now), Ok(()));
        let tampered = body.replace("签约成功", "支付成功");
        assert_eq!(
            sdk_keys().verify(&sdk_headers(SDK_SIGNATURE), tampered.as_bytes(), now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn probes_stale_timestamps_and_unknown_serials_are_refused() {
        let body = sdk_body();
        let now: i64 = SDK_TIMESTAMP.parse().unwrap();
        let probe = format!("{PROBE_PREFIX}{SDK_SIGNATURE}");
        assert_eq!(sdk_keys().verify(&sdk_headers(&probe), body.as_bytes(), now), Err(SignatureError::Probe));
        assert!(matches!(
            sdk_keys().verify(&sdk_headers(SDK_SIGNATURE), body.as_bytes(), now + 301),
            Err(SignatureError::Stale { .. })
        ));
        assert_eq!(sdk_keys().verify(&sdk_headers(SDK_SIGNATURE), body.as_bytes(), now + 300), Ok(()));
        let mut headers = sdk_headers(SDK_SIGNATURE);
        headers.serial = Some("PUB_KEY_ID_0000000000000000000000000000000000");
        assert!(matches!(
            sdk_keys().verify(&headers, body.as_bytes(), now),
            Err(SignatureError::UnknownSerial(_))
        ));
    }

    #[test]
    fn the_official_sdk_resource_decrypts_with_nonce_and_associated_data() {
        let plain =
            decrypt_resource(b"testMchAPIv3Key0", "Kj7QIyUiYx1q", "payscore", SDK_CIPHERTEXT).unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            concat!(
                "{\"mchid\":\"1234567890\",\"appid\":\"054aa7d7a2a54ab5898df65bd96f001c\",",
                "\"create_time\":\"2020-06-30T12:12:00+08:00\",\"out_contract_code\":\"21640bdbd08e473e828f3206a2741c6e\"}"
            )
        );
        assert!(decrypt_resource(b"testMchAPIv3Key1", "Kj7QIyUiYx1q", "payscore", SDK_CIPHERTEXT).is_err());
        assert!(decrypt_resource(b"testMchAPIv3Key0", "Kj7QIyUiYx1q", "transaction", SDK_CIPHERTEXT).is_err());
    }

    #[test]
    fn the_official_sdk_aes_gcm_example_decrypts() {
        // wechatpay-apiv3/wechatpay-go, utils/aes_test.go (TestDecryptAes256Gcm).
        let plain = decrypt_resource(
            b"testAPIv3Key0000",
            "wCq51qZv4Yfg",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
        )
        .unwrap();
        assert_eq!(plain, b"Hello World");
    }

    #[test]
    fn the_request_message_has_five_lines_each_ending_in_a_newline() {
        assert_eq!(
            request_message("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", ""),
            "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
        );
        assert_eq!(response_message("1", "n", b"{}"), b"1\nn\n{}\n");
    }

    #[test]
    fn a_signed_request_verifies_with_the_merchant_public_key() {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let request = RequestToSign {
            method: "POST",
            path_and_query: "/v3/pay/transactions/native",
            timestamp: 1,
            nonce: "abc",
            body: "{}",
        };
        let header = authorization(&key, "1900009191", "SERIAL", &request);
        assert!(header
            .starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"abc\",signature=\""));
        let signature = header.split("signature=\"").nth(1).unwrap().split('"').next().unwrap();
        let message = request_message("POST", "/v3/pay/transactions/native", 1, "abc", "{}");
        assert!(verify(&key.to_public_key(), message.as_bytes(), signature));
        assert!(!verify(&key.to_public_key(), b"other", signature));
    }
}
