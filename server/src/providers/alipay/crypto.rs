//! Alipay's RSA2 signatures (SHA256withRSA, PKCS#1 v1.5, Base64), as the Open Platform's
//! `gateway.do` API uses them:
//!
//! - a request is signed over every parameter but `sign` (so `sign_type` is in), empty values
//!   dropped, sorted by key, `k=v` joined by `&`, values raw (not URL-encoded), with the app's
//!   private key (Alipay's "OpenAPI 2.0 签名", as the official Node.js SDK's `sign()` does it);
//! - a response is signed by Alipay over the exact text of its `<method>_response` value, as
//!   received: that text is cut out of the raw body, never re-serialised;
//! - an asynchronous notification is signed by Alipay over its form parameters but `sign` and
//!   `sign_type`, URL-decoded, empty values dropped, sorted and joined the same way.
//!
//! Both verifications use Alipay's public key, never the app's own.

use base64::{engine::general_purpose::STANDARD, Engine};
use rsa::{
    pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey},
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{DecodePrivateKey, DecodePublicKey},
    signature::{SignatureEncoding, Signer, Verifier},
    RsaPrivateKey, RsaPublicKey,
};
use sha2::Sha256;

/// The text Alipay signs: `k=v` pairs of the non-empty values, sorted by key, joined by `&`.
/// `skip` names the parameters that are not signed.
pub fn sign_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, skip: &[&str]) -> String {
    let mut pairs: Vec<(&str, &str)> =
        params.into_iter().filter(|(key, value)| !value.is_empty() && !skip.contains(key)).collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&")
}

/// The text a request's signature covers: every parameter but `sign`.
pub fn request_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    sign_content(params, &["sign"])
}

/// The text a notification's signature covers: every parameter but `sign` and `sign_type`.
pub fn notification_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    sign_content(params, &["sign", "sign_type"])
}

/// SHA256withRSA over `content`, Base64.
pub fn sign(key: &RsaPrivateKey, content: &str) -> String {
    let signer = SigningKey::<Sha256>::new(key.clone());
    STANDARD.encode(signer.sign(content.as_bytes()).to_bytes())
}

/// Whether `signature` (Base64) is Alipay's SHA256withRSA over `content`.
pub fn verify(key: &RsaPublicKey, content: &str, signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature.trim()) else { return false };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else { return false };
    VerifyingKey::<Sha256>::new(key.clone()).verify(content.as_bytes(), &signature).is_ok()
}

/// The DER inside a key file: PEM (any line length, as keys pasted from Alipay's site often are)
/// or the bare Base64 that Alipay's key tool writes.
fn der_of(text: &str) -> Option<Vec<u8>> {
    let body: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(|line| line.split_whitespace())
        .collect();
    STANDARD.decode(body).ok().filter(|der| !der.is_empty())
}

/// The app's private key from its file's text (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`,
/// or bare Base64 as Alipay's key tool writes it).
pub fn private_key(text: &str) -> Result<RsaPrivateKey, String> {
    let der = der_of(text).ok_or("neither PEM nor Base64")?;
    RsaPrivateKey::from_pkcs8_der(&der)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
        .map_err(|_| "not an RSA private key (PKCS#8 or PKCS#1)".to_owned())
}

/// A public key from its file's text (`PUBLIC KEY`, `RSA PUBLIC KEY`, or bare Base64 as Alipay's
/// open platform shows it).
pub fn public_key(text: &str) -> Result<RsaPublicKey, String> {
    let der = der_of(text).ok_or("neither PEM nor Base64")?;
    RsaPublicKey::from_public_key_der(&der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
        .map_err(|_| "not an RSA public key".to_owned())
}

/// The top-level members of a JSON object, each with the exact text of its value as it stands in
/// `raw` (whitespace, escapes and key order untouched). `None` if `raw` is not one JSON object or
/// names a key twice.
pub fn top_level_members(raw: &str) -> Option<Vec<(String, &str)>> {
    let bytes = raw.as_bytes();
    let mut at = skip_ws(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_ws(bytes, at + 1);
    let mut members: Vec<(String, &str)> = Vec::new();
    if bytes.get(at) == Some(&b'}') {
        return (skip_ws(bytes, at + 1) == bytes.len()).then_some(members);
    }
    loop {
        let key_end = skip_string(bytes, at)?;
        let key: String = serde_json::from_str(&raw[at..key_end]).ok()?;
        at = skip_ws(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let value_start = skip_ws(bytes, at + 1);
        let value_end = skip_value(bytes, value_start)?;
        if members.iter().any(|(known, _)| *known == key) {
            return None;
        }
        members.push((key, &raw[value_start..value_end]));
        at = skip_ws(bytes, value_end);
        match bytes.get(at) {
            Some(b',') => at = skip_ws(bytes, at + 1),
            Some(b'}') => return (skip_ws(bytes, at + 1) == bytes.len()).then_some(members),
            _ => return None,
        }
    }
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The end (exclusive) of the JSON string starting at `at`.
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The end (exclusive) of the JSON value starting at `at` (checked for balance only; the parts
/// used are parsed by serde_json afterwards).
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while let Some(b) = bytes.get(i) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            (i > at).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alipay's public key published in the official Node.js SDK's tests
    /// (alipay/alipay-sdk-nodejs-all, `test/alipay.test.ts`, "verify sign should delete
    /// sign_type"), with the notification it signed (same test): public data, used here only to
    /// check the verification rules against a signature Alipay made.
    const NOTIFY_PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5knm2jnnz/YGIXIofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aGX2xcOrxFYRlFilvVLTXg4LWjR1tdPkO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQcNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/FdcWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZHraG5NCF1+XioL5JwIDAQAB";
    const NOTIFY_SIGN: &str = "QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0LEWdK2S6Ri7nPwrVgOs08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIul4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4ELNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZn+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0YjCh4x7wVSov+lrmOQ==";
    const NOTIFY_PARAMS: [(&str, &str); 25] = [
        ("gmt_create", "2019-08-15 15:56:22"),
        ("charset", "utf-8"),
        ("seller_email", "z97-yuquerevenue@service.aliyun.com"),
        ("subject", "语雀空间 500人规模"),
        ("sign", NOTIFY_SIGN),
        ("buyer_id", "2088102534368455"),
        ("invoice_amount", "0.10"),
        ("notify_id", "2019081500222155624068450559358070"),
        ("fund_bill_list", r#"[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]"#),
        ("notify_type", "trade_status_sync"),
        ("trade_status", "TRADE_SUCCESS"),
        ("receipt_amount", "0.10"),
        ("buyer_pay_amount", "0.10"),
        ("sign_type", "RSA2"),
        ("app_id", "2019073166072302"),
        ("seller_id", "2088531891668739"),
        ("gmt_payment", "2019-08-15 15:56:24"),
        ("notify_time", "2019-08-15 15:56:25"),
        ("version", "1.0"),
        ("out_trade_no", "20190815155618536-564-57"),
        ("total_amount", "0.10"),
        ("trade_no", "2019081522001468450512505578"),
        ("auth_app_id", "2019073166072302"),
        ("buyer_logon_id", "xud***@126.com"),
        ("point_amount", "0.00"),
    ];

    /// Alipay's public key (`test/fixtures/alipay-public-key.pem`) and a response Alipay signed
    /// ("checkResponseSign should work", same repository): "从实测中获取", taken from a real call.
    const RESPONSE_PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk7LzhmMa2c4qQd4fqAqenfbuFoA7stPKvoS1LrZEsVnOOGUUjwoa1oU9xsSPjcOWhIerU/VAN4J95GIAXx59ipcleIyfLn2FhHXPgLJpvo+b2jJFyn/1/DbeJDh+0yDVAOf50Z7HhI0mdUhFMkXlT7BU0ZMtJf/TmISFEfhDU/w6qFd6D42L97byAkq0K6LroglSVF24GqJEa7hSeUIkZWj7RasykXrc2uVJ1+ejkXE0LyPxa2AHykMGbJLf5SiZvaNzUZgnKIR36mLOHpQ/2JCXxhXZYUWHzy0kMH54JcUEeksFWBYLGvLjV1phbcUIc3Q76tIuqApY6E222OoZZQIDAQAB";
    const RESPONSE_BODY: &str = r#"{"alipay_open_file_upload_response":{"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"},"sign":"F+LDzpTNiavn7xVZPGuPCSSVRSmWzJGgtuji6tVELGEaqMaNj0jRKXUEr5nloZJBBmwEnddOyCjjepMmrTKTvoOqQ0Efxpr/R1iEeHTHVbb/Q8TTh6Up5gHJDkILdaWS2q1cWeQ6VT+HQY9P3WRXS7uhILHuDODIhpAyCu5KhWGt0rMCIG+Im6NODJP2oohtSCtmTFXg58HH587Z2y2bdbjzOxLvzD9IrU1imghXQ2S/Q+wMIvRk9on6cWnBLkrNvJKapA2ReNGWOwyuASvB9zDVzhMPbR+3mfRGkVDxsq5HYLjBKGskJMXHw0HuugZij6ScRuaLPODhmHwr/pJ9yw=="}"#;

    #[test]
    fn a_notification_alipay_signed_verifies_without_sign_and_sign_type() {
        let key = public_key(NOTIFY_PUBLIC_KEY).unwrap();
        let content = notification_content(NOTIFY_PARAMS);
        assert!(content.starts_with("app_id=2019073166072302&auth_app_id=2019073166072302&buyer_id="));
        assert!(!content.contains("sign_type"));
        assert!(verify(&key, &content, NOTIFY_SIGN), "Alipay's own signature verifies");
        // Keeping sign_type in (the request rule) does not verify a notification.
        assert!(!verify(&key, &sign_content(NOTIFY_PARAMS, &["sign"]), NOTIFY_SIGN));
        // Nor does a changed amount.
        let tampered = NOTIFY_PARAMS.map(|(k, v)| (k, if k == "total_amount" { "1000.10" } else { v }));
        assert!(!verify(&key, &notification_content(tampered), NOTIFY_SIGN));
    }

    #[test]
    fn a_response_alipay_signed_verifies_over_its_raw_substring() {
        let key = public_key(RESPONSE_PUBLIC_KEY).unwrap();
        let members = top_level_members(RESPONSE_BODY).unwrap();
        let (_, node) = members.iter().find(|(k, _)| k == "alipay_open_file_upload_response").unwrap();
        let (_, sign) = members.iter().find(|(k, _)| k == "sign").unwrap();
        let sign: String = serde_json::from_str(sign).unwrap();
        assert!(verify(&key, node, &sign));
        // Re-serialised (keys sorted by serde_json), the same node no longer verifies.
        let reserialised = serde_json::from_str::<serde_json::Value>(node).unwrap().to_string();
        assert_ne!(&reserialised, node);
        assert!(!verify(&key, &reserialised, &sign));
    }

    #[test]
    fn a_request_is_signed_over_every_parameter_but_sign_with_empty_values_dropped() {
        let params = [
            ("timestamp", "2026-11-30 04:08:35"),
            ("method", "alipay.trade.query"),
            ("sign_type", "RSA2"),
            ("app_id", "2021000000000000"),
            ("notify_url", ""),
            ("biz_content", r#"{"out_trade_no":"ses_1"}"#),
            ("sign", "ignored"),
        ];
        assert_eq!(
            request_content(params),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"ses_1"}&method=alipay.trade.query&sign_type=RSA2&timestamp=2026-11-30 04:08:35"#
        );
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let signature = sign(&key, &request_content(params));
        assert!(verify(&key.to_public_key(), &request_content(params), &signature));
        assert!(!verify(&key.to_public_key(), &request_content(params[1..].iter().copied()), &signature));
    }

    #[test]
    fn raw_members_keep_whitespace_escapes_and_order() {
        let raw = "{ \"b_response\" : {\"z\":\"a\\/b\",  \"a\":1} ,\n\"sign\":\"x\" }";
        let members = top_level_members(raw).unwrap();
        assert_eq!(members[0], ("b_response".to_owned(), "{\"z\":\"a\\/b\",  \"a\":1}"));
        assert_eq!(members[1], ("sign".to_owned(), "\"x\""));
        assert!(top_level_members("{\"a\":1,\"a\":2}").is_none(), "a key named twice");
        assert!(top_level_members("{\"a\":{\"b\":\"}\"}} trailing").is_none());
        assert!(top_level_members("[1]").is_none());
    }

    #[test]
    fn keys_read_from_pem_or_bare_base64() {
        assert!(public_key(RESPONSE_PUBLIC_KEY).is_ok());
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{RESPONSE_PUBLIC_KEY}\n-----END PUBLIC KEY-----\n");
        assert_eq!(public_key(&pem).unwrap(), public_key(RESPONSE_PUBLIC_KEY).unwrap());
        assert!(private_key(&pem).is_err());
        assert!(public_key("not a key").is_err());
    }
}
