//! Secrets at rest: what the console keeps that must not be readable from the database alone
//! (providers' credentials and key files, staff members' TOTP secrets) is sealed with
//! AES-256-GCM under a key that never enters the database: the file named by `secrets_key_file`,
//! or `WC_SECRETS_KEY` (32 bytes, Base64). Without either, a key file is made in the data
//! directory (readable by this user only) the first time one is needed; move it elsewhere (and
//! into your secret store) for production, since a backup of the data directory would hold both.
//!
//! A sealed value is `v1:<Base64 nonce>:<Base64 ciphertext and tag>`; the associated data names
//! what the value is for, so a value copied into another place does not open there.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::{fmt, path::Path};

/// The key that seals secrets at rest.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    /// A short digest of the key, to tell keys apart (never the key).
    fingerprint: String,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vault(key {})", self.fingerprint)
    }
}

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        Self {
            cipher: Aes256Gcm::new(key.into()),
            fingerprint: digest[..6].iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The key from `WC_SECRETS_KEY` (Base64), else from `key_file`, else from a new key file in
    /// `data_dir` (made once, mode 0600).
    pub fn open(env_key: Option<&str>, key_file: Option<&Path>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(encoded) = env_key.map(str::trim).filter(|k| !k.is_empty()) {
            return Self::from_base64(encoded).context("WC_SECRETS_KEY");
        }
        if let Some(path) = key_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read secrets_key_file {}", path.display()))?;
            return Self::from_base64(&text).with_context(|| format!("secrets_key_file {}", path.display()));
        }
        let path = data_dir.join("secrets.key");
        if !path.exists() {
            let mut key = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            write_private(&path, &STANDARD.encode(key))?;
            tracing::warn!(file = %path.display(), "made a key for secrets at rest in the data directory; keep it elsewhere in production (secrets_key_file)");
        }
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_base64(&text).with_context(|| format!("{}", path.display()))
    }

    fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD.decode(text.trim()).context("the key is not Base64")?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("the key must be 32 bytes"))?;
        Ok(Self::from_key(&key))
    }

    /// A short digest of the key (for logs and the console: which key, never the key).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Seals `secret` for the place named by `purpose` (`provider:paypal:client_secret`).
    pub fn seal(&self, purpose: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: purpose.as_bytes() })
            .expect("AES-GCM seals any message of this size");
        format!("v1:{}:{}", STANDARD.encode(nonce), STANDARD.encode(sealed))
    }

    /// Opens a value sealed for `purpose`; an error if it was sealed for another place, with
    /// another key, or changed.
    pub fn open_sealed(&self, purpose: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(nonce), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("not a sealed value");
        };
        let nonce = STANDARD.decode(nonce).context("a sealed value's nonce")?;
        let body = STANDARD.decode(body).context("a sealed value's body")?;
        if nonce.len() != 12 {
            bail!("a sealed value's nonce has the wrong length");
        }
        self.cipher
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &body, aad: purpose.as_bytes() })
            .map_err(|_| anyhow::anyhow!("the value does not open with this key for {purpose}"))
    }
}

/// A short, stable fingerprint of a secret for people to compare (`sha256:1a2b3c4d`), which
/// says nothing about the secret itself.
pub fn fingerprint(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    format!("sha256:{}", digest[..4].iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Writes a file readable by this user only.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::{io::Write, os::unix::fs::OpenOptionsExt};
        let mut file = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(contents.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, contents).with_context(|| format!("cannot create {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_for_its_purpose() {
        let vault = Vault::from_key(&[7; 32]);
        let sealed = vault.seal("provider:paypal:client_secret", b"s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(vault.open_sealed("provider:paypal:client_secret", &sealed).unwrap(), b"s3cret");
        assert!(vault.open_sealed("provider:alipay:app_private_key", &sealed).is_err(), "another place");
        assert!(
            Vault::from_key(&[8; 32]).open_sealed("provider:paypal:client_secret", &sealed).is_err(),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(vault.open_sealed("provider:paypal:client_secret", &tampered).is_err(), "changed");
        assert_ne!(vault.seal("x", b"same"), vault.seal("x", b"same"), "a fresh nonce each time");
    }

    #[test]
    fn a_key_file_is_made_once_private_and_reused() {
        let dir = tempfile::TempDir::new().unwrap();
        let first = Vault::open(None, None, dir.path()).unwrap();
        let second = Vault::open(None, None, dir.path()).unwrap();
        assert_eq!(first.fingerprint(), second.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let from_env = Vault::open(Some(&STANDARD.encode([1u8; 32])), None, dir.path()).unwrap();
        assert_ne!(from_env.fingerprint(), first.fingerprint());
        assert!(Vault::open(Some("short"), None, dir.path()).is_err());
        assert!(!format!("{first:?}").contains(&STANDARD.encode([1u8; 32])));
    }
}
