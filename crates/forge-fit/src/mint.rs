//! Mints Forge Invocation Tokens the way Forge does, for tests, benches and the local
//! development Forge host.
//!
//! Compiled only with the `mint` feature, which a remote enables for its tests
//! (`[dev-dependencies]`) and never for itself: a remote built on its own cannot mint tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{
    pkcs1::EncodeRsaPrivateKey, pkcs8::EncodePublicKey, traits::PublicKeyParts, RsaPrivateKey,
};
use serde::Serialize;
use serde_json::json;

use super::{
    AppClaims, ContentClaims, ContextClaims, EnvironmentClaims, EnvironmentType, ExtensionClaims,
    FitClaims, IssueClaims, ModuleClaims, ProjectClaims, SpaceClaims, ISSUER,
};

/// How long Forge's tokens live (`exp - iat`).
pub const FORGE_TOKEN_LIFETIME_SECS: u64 = 25;

/// An RSA-2048 key pair that signs tokens under a `kid`, and publishes its public half as a JWK.
pub struct SigningKey {
    kid: String,
    private: RsaPrivateKey,
    encoding: EncodingKey,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key (tens of milliseconds with the `rsa` crate optimised).
    pub fn generate(kid: impl Into<String>) -> Self {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .expect("Failed to generate an RSA key");
        Self::from_private(kid, private)
    }

    /// The same key under another `kid`.
    pub fn with_kid(&self, kid: impl Into<String>) -> Self {
        Self::from_private(kid, self.private.clone())
    }

    /// Wraps an existing key (the local host keeps its key across restarts).
    pub fn from_private(kid: impl Into<String>, private: RsaPrivateKey) -> Self {
        let der = private.to_pkcs1_der().expect("Failed to encode an RSA key");
        Self {
            kid: kid.into(),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            private,
        }
    }

    /// The key id put in token headers and the JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, shaped like the entries of Forge's JWKS.
    pub fn jwk(&self) -> serde_json::Value {
        let public = self.private.to_public_key();
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        })
    }

    /// A JWKS document holding `keys`.
    pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> serde_json::Value {
        json!({ "keys": keys.into_iter().map(SigningKey::jwk).collect::<Vec<_>>() })
    }

    /// The public key as SPKI PEM, e.g. to show that HS256 with the public key as the secret
    /// is refused.
    pub fn public_pem(&self) -> String {
        use base64::engine::general_purpose::STANDARD;
        let der = self
            .private
            .to_public_key()
            .to_public_key_der()
            .expect("Failed to encode a key");
        let body = STANDARD.encode(der.as_bytes());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// Signs `claims` (any JSON shape, so tests can mint broken tokens) with RS256.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        // Forge's header is exactly `{"alg":"RS256","kid":"…"}`.
        header.typ = None;
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("Failed to sign a token")
    }

    /// Signs `claims` (RS256) under exactly this protected `header`, however odd: for tests of
    /// headers a JWT library would refuse to produce.
    pub fn sign_with_header(&self, header: &serde_json::Value, claims: &impl Serialize) -> String {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        let encode = |json: String| URL_SAFE_NO_PAD.encode(json);
        let message = format!(
            "{}.{}",
            encode(header.to_string()),
            encode(serde_json::to_string(claims).expect("claims serialise"))
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, Algorithm::RS256)
                .expect("Failed to sign a token");
        format!("{message}.{signature}")
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Claims like Forge's for a Jira issue panel invoked by a user, valid from `iat` for 25 s.
pub fn issue_panel_claims(app_id: &str, iat: u64) -> FitClaims {
    let installation = "ari:cloud:ecosystem::installation/5b7c2f3e-8a1d-4c6b-9e0f-1a2b3c4d5e6f";
    let cloud_id = "9d3e1c55-0b7a-4f2e-8c61-2a4b6d8f0e13";
    FitClaims {
        iss: ISSUER.into(),
        aud: app_id.into(),
        iat: Some(iat),
        nbf: Some(iat),
        exp: iat + FORGE_TOKEN_LIFETIME_SECS,
        jti: Some(format!(
            "{:040x}",
            (u128::from(rand_u64()) << 64) | u128::from(rand_u64())
        )),
        app: AppClaims {
            id: app_id.into(),
            installation_id: installation.into(),
            api_base_url: format!("https://api.atlassian.com/ex/jira/{cloud_id}"),
            environment: EnvironmentClaims {
                kind: EnvironmentType::Development,
                id: "ari:cloud:ecosystem::environment/3f1c9b52/0c6d8e2a".into(),
            },
            module: ModuleClaims {
                kind: "xen:macro".into(),
                key: "team-tasks-panel".into(),
            },
            app_version: Some("1.0.0".into()),
            license: None,
        },
        context: Some(ContextClaims {
            cloud_id: cloud_id.into(),
            module_key: "team-tasks-panel".into(),
            site_url: Some("https://acme.atlassian.net".into()),
            local_id: Some("ari:cloud:ecosystem::extension/3f1c9b52/team-tasks-panel".into()),
            extension: Some(ExtensionClaims::IssuePanel {
                issue: IssueClaims {
                    id: "10001".into(),
                    key: "KAN-1".into(),
                    kind: Some("Task".into()),
                    type_id: Some("10003".into()),
                },
                project: ProjectClaims {
                    id: "10000".into(),
                    key: "KAN".into(),
                    kind: Some("software".into()),
                },
            }),
        }),
        principal: Some("712020:5c1f2a3b-4d5e-6f70-8192-a3b4c5d6e7f8".into()),
    }
}

/// Claims like Forge's for a Confluence macro invoked by a user, whose saved configuration is
/// `{"team": team}`, valid from `iat` for 25 s. Same installation and user as
/// [`issue_panel_claims`].
pub fn macro_claims(app_id: &str, iat: u64, team: &str) -> FitClaims {
    let mut claims = issue_panel_claims(app_id, iat);
    let cloud_id = "9d3e1c55-0b7a-4f2e-8c61-2a4b6d8f0e13";
    claims.app.api_base_url = format!("https://api.atlassian.com/ex/confluence/{cloud_id}");
    claims.app.module.key = "team-tasks-macro".into();
    if let Some(context) = claims.context.as_mut() {
        context.module_key = "team-tasks-macro".into();
        context.local_id = Some("ari:cloud:ecosystem::extension/3f1c9b52/team-tasks-macro".into());
        context.extension = Some(ExtensionClaims::Macro {
            content: Some(ContentClaims {
                id: "65537".into(),
                kind: Some("page".into()),
            }),
            space: Some(SpaceClaims {
                id: Some("98305".into()),
                key: "ENG".into(),
            }),
            config: Some(json!({ "team": team })),
            is_editing: Some(false),
        });
    }
    claims
}

fn rand_u64() -> u64 {
    use rsa::rand_core::RngCore as _;
    rsa::rand_core::OsRng.next_u64()
}
