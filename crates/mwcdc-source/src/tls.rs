//! TLS to the source server: `[source.tls]`.

use std::path::PathBuf;

use mysql_async::{ClientIdentity, SslOpts};
use serde::Deserialize;

/// How the connection to the server is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain TCP.
    #[default]
    Disabled,
    /// Encrypted; the server's certificate is not checked.
    Required,
    /// Encrypted; the certificate chain must lead to the configured CA.
    VerifyCa,
    /// Encrypted; the chain must lead to the CA and the certificate must name the host.
    VerifyIdentity,
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsMode::Disabled => "disabled",
            TlsMode::Required => "required",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyIdentity => "verify-identity",
        })
    }
}

/// TLS settings: the mode and PEM files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// The mode.
    pub mode: TlsMode,
    /// CA certificates the server's chain must lead to (`verify-ca`, `verify-identity`);
    /// without it, `verify-identity` trusts the built-in web roots.
    pub ca: Option<PathBuf>,
    /// Client certificate chain, for servers that require one (`REQUIRE X509`).
    pub cert: Option<PathBuf>,
    /// The client certificate's private key.
    pub key: Option<PathBuf>,
}

impl TlsOptions {
    /// The driver's settings, `None` when TLS is disabled.
    pub(crate) fn ssl_opts(&self) -> Option<SslOpts> {
        let mut opts = match self.mode {
            TlsMode::Disabled => return None,
            TlsMode::Required => SslOpts::default().with_danger_accept_invalid_certs(true),
            TlsMode::VerifyCa => SslOpts::default().with_danger_skip_domain_validation(true),
            TlsMode::VerifyIdentity => SslOpts::default(),
        };
        if let Some(ca) = &self.ca {
            opts = opts
                .with_root_certs(vec![ca.clone().into()])
                .with_disable_built_in_roots(true);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            opts = opts.with_client_identity(Some(ClientIdentity::new(
                cert.clone().into(),
                key.clone().into(),
            )));
        }
        Some(opts)
    }

    /// Whether the connection is encrypted.
    pub fn enabled(&self) -> bool {
        self.mode != TlsMode::Disabled
    }
}
