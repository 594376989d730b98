//! The OAuth tokens Forge forwards next to the FIT (`x-forge-oauth-system`,
//! `x-forge-oauth-user`), as secret types.
//!
//! Atlassian: "Never share or log any OAuth access tokens provided." So they are taken out of the
//! request headers as soon as the FIT verifies, and from then on exist only inside types whose
//! `Debug` and `Display` print `[REDACTED]`. Reading one takes an explicit `expose_secret()`.

use std::fmt;

use axum::http::{HeaderMap, HeaderName};
use secrecy::{ExposeSecret, SecretString};

/// The header carrying the app ("bot") token.
pub const SYSTEM_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-forge-oauth-system");
/// The header carrying the user token.
pub const USER_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-forge-oauth-user");

macro_rules! secret_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a raw token.
            pub fn new(token: impl Into<String>) -> Self {
                Self(SecretString::from(token.into()))
            }
        }

        impl ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[REDACTED]")
            }
        }
    };
}

secret_token!(
    /// The app system token from `x-forge-oauth-system`: acts as the app, valid for at least
    /// 2 hours. Use it against `app.apiBaseUrl`, never the site URL.
    AppSystemToken
);
secret_token!(
    /// The user token from `x-forge-oauth-user`: acts as the invoking user.
    AppUserToken
);

/// The forwarded OAuth tokens of one request. Either may be absent: `requestRemote` never sends
/// them, and the user token needs a user scope and a user.
#[derive(Clone, Debug, Default)]
pub struct ForgeOAuth {
    pub system: Option<AppSystemToken>,
    pub user: Option<AppUserToken>,
}

impl ForgeOAuth {
    /// Moves the tokens out of `headers`, so no later code (or log line) can see them there.
    pub fn take_from(headers: &mut HeaderMap) -> Self {
        let mut take = |name: &HeaderName| {
            let values: Vec<_> = match headers.entry(name) {
                axum::http::header::Entry::Occupied(entry) => entry.remove_entry_mult().1.collect(),
                axum::http::header::Entry::Vacant(_) => return None,
            };
            // Two values for one token header is not something Forge sends; trust neither.
            match values.as_slice() {
                [value] => value.to_str().ok().map(|v| v.trim().to_owned()),
                _ => None,
            }
            .filter(|v| !v.is_empty())
        };
        Self {
            system: take(&SYSTEM_TOKEN_HEADER).map(AppSystemToken::new),
            user: take(&USER_TOKEN_HEADER).map(AppUserToken::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_tokens_are_redacted_in_debug_and_display() {
        let oauth = ForgeOAuth {
            system: Some(AppSystemToken::new("secret-sys-token")),
            user: Some(AppUserToken::new("secret-user-token")),
        };
        let printed = format!(
            "{oauth:?} {oauth:#?} {} {}",
            oauth.system.as_ref().unwrap(),
            oauth.user.as_ref().unwrap()
        );
        assert!(!printed.contains("secret-"), "{printed}");
        assert!(printed.contains("AppSystemToken([REDACTED])"));
        assert_eq!(oauth.system.unwrap().expose_secret(), "secret-sys-token");
    }

    #[test]
    fn tokens_are_moved_out_of_the_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(SYSTEM_TOKEN_HEADER, "secret-sys-token".parse().unwrap());
        headers.append(USER_TOKEN_HEADER, "one".parse().unwrap());
        headers.append(USER_TOKEN_HEADER, "two".parse().unwrap());
        headers.insert("x-b3-traceid", "abc".parse().unwrap());

        let oauth = ForgeOAuth::take_from(&mut headers);

        assert_eq!(oauth.system.unwrap().expose_secret(), "secret-sys-token");
        assert!(
            oauth.user.is_none(),
            "an ambiguous user token must not be used"
        );
        assert_eq!(headers.len(), 1, "only the trace id is left: {headers:?}");
    }
}
