//! The Content-Security-Policy the Forge CDN serves a Custom UI resource with, rebuilt from the
//! manifest's `permissions` and the resource's `index.html`.
//!
//! Atlassian's `@forge/csp` is the reference: `end2end/tests/devhost.spec.ts` compares this
//! header, directive by directive, with what that package computes for the same manifest and
//! `index.html`. The one deliberate difference is `report-uri`, which points at the local
//! host so violations show up in the server log instead of going to Atlassian.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_yaml_ng::Value as Yaml;

use super::manifest::{Manifest, Remote};

const FORGE_CDN: &str = "https://forge.cdn.prod.atlassian-dev.net";
/// Forge Object Store download locations, allowed almost everywhere.
const FOS_DOWNLOAD: &[&str] = &[
    "https://tdp-os.services.atlassian.com/fos-eap/download/",
    "https://tdp-os.services.atlassian.com/fos/app/download/",
    "https://tdp-os.services.atlassian.com/fos/cdn/download/",
    "https://object-store.atlassian.com/os/ecosystem/installation/",
];
const FOS_UPLOAD: &[&str] = &[
    "https://tdp-os.services.atlassian.com/fos-eap/upload/",
    "https://tdp-os.services.atlassian.com/fos/app/upload/",
    "https://tdp-os.services.atlassian.com/fos/cdn/upload/",
];
const FRAME_ANCESTORS: &[&str] = &[
    "*.atlassian.net",
    "bitbucket.org",
    "*.jira.com",
    "*.atlassian.com",
    "*.frontend.public.atl-paas.net",
];
const IMG_HOSTS: &[&str] = &[
    "https://secure.gravatar.com",
    "https://images.unsplash.com",
    "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net",
    "https://*.wp.com/avatar-management--avatars.us-west-2.prod.public.atl-paas.net/",
    "https://api.atlassian.com",
    "https://api.media.atlassian.com",
    "https://pf-emoji-service.prod-east.frontend.public.atl-paas.net",
    "https://pf-reactions-service.prod-east.frontend.public.atl-paas.net",
    "https://assets-media.atlassian.com",
    "https://teams-directory-frontend.prod-east.frontend.public.atl-paas.net/assets/",
    "https://teams-directory-frontend.prod-east.frontend.public.atl-paas.net/assets/gradients/",
];
const CONNECT_HOSTS: &[&str] = &[
    "https://api.atlassian.com/metal/ingest",
    "https://api.atlassian.com/gateway/api/emoji/",
    "https://api.atlassian.com/gateway/api/elements/emoji",
    "https://api.media.atlassian.com",
    "https://as.atlassian.com",
    "https://forge-outbound-proxy.services.atlassian.com",
];
/// The iframe sandbox Forge applies (through the CSP as well as the iframe attribute).
pub const SANDBOX: &str = "allow-popups allow-popups-to-escape-sandbox allow-downloads allow-forms allow-modals allow-pointer-lock allow-same-origin allow-scripts";

/// `permissions.content.scripts` values that are quoted keywords in the header.
const QUOTED_SCRIPT_KEYWORDS: &[&str] = &["unsafe-inline", "unsafe-eval", "unsafe-hashes"];

/// Builds the header for `index_html` served inside the product at `site_url`.
pub fn policy(manifest: &Manifest, index_html: &str, site_url: &str, report_uri: &str) -> String {
    let perms = &manifest.permissions;
    let external = |kind: &str| external_sources(&perms.external, kind, &manifest.remotes);
    let fos = FOS_DOWNLOAD.iter().map(|s| s.to_string());

    let mut script = vec!["'self'".to_owned(), FORGE_CDN.to_owned()];
    script.extend(fos.clone());
    script.extend(external("scripts"));
    for value in &perms.content.scripts {
        script.push(
            if QUOTED_SCRIPT_KEYWORDS.contains(&value.as_str())
                || value.starts_with("sha256-")
                || value.starts_with("sha384-")
                || value.starts_with("sha512-")
            {
                format!("'{value}'")
            } else {
                value.clone()
            },
        );
    }
    // Inline scripts are allowed by hash, unless the app declared 'unsafe-inline' (a hash
    // would make browsers ignore 'unsafe-inline').
    if !perms.content.scripts.iter().any(|s| s == "unsafe-inline") {
        script.extend(
            inline_script_hashes(index_html)
                .into_iter()
                .map(|h| format!("'sha256-{h}'")),
        );
    }

    let mut style = vec![
        "'self'".to_owned(),
        site_url.to_owned(),
        FORGE_CDN.to_owned(),
    ];
    style.extend(fos.clone());
    style.extend(external("styles"));
    if perms.content.styles.iter().any(|s| s == "unsafe-inline") {
        style.push("'unsafe-inline'".into());
    }

    let mut connect = vec!["'self'".to_owned(), site_url.to_owned()];
    connect.extend(CONNECT_HOSTS.iter().map(|s| s.to_string()));
    connect.extend(fos.clone());
    connect.extend(FOS_UPLOAD.iter().map(|s| s.to_string()));
    connect.extend(external("fetch.client"));
    connect.push(FORGE_CDN.into());

    let mut img = vec![
        "'self'".into(),
        "data:".into(),
        "blob:".into(),
        site_url.to_owned(),
    ];
    img.extend(IMG_HOSTS.iter().map(|s| s.to_string()));
    img.extend(fos.clone());
    img.extend(external("images"));

    let mut media = vec![
        "'self'".into(),
        "data:".into(),
        "blob:".into(),
        site_url.to_owned(),
    ];
    media.push("https://api.media.atlassian.com".into());
    media.extend(fos.clone());
    media.extend(external("media"));

    let mut frame = vec![
        "'self'".into(),
        site_url.to_owned(),
        "https://api.media.atlassian.com".into(),
    ];
    frame.extend(fos.clone());
    frame.extend(external("frames"));

    let mut font = vec!["'self'".to_owned()];
    font.extend(fos.clone());
    font.extend(external("fonts"));

    let mut ancestors = vec!["'self'".to_owned()];
    ancestors.extend(FRAME_ANCESTORS.iter().map(|s| s.to_string()));
    ancestors.push(site_url.to_owned());
    ancestors.extend(fos.clone());

    let mut default = vec!["'self'".to_owned()];
    default.extend(fos);

    let directive = |name: &str, sources: Vec<String>| {
        let mut seen = Vec::with_capacity(sources.len());
        for s in sources {
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        format!("{name} {}", seen.join(" "))
    };
    [
        directive("default-src", default),
        directive("frame-ancestors", ancestors),
        directive("frame-src", frame),
        directive("font-src", font),
        directive("img-src", img),
        directive("media-src", media),
        directive("connect-src", connect),
        directive("script-src", script),
        directive("style-src", style),
        "form-action 'self'".into(),
        format!("sandbox {SANDBOX}"),
        format!("report-uri {report_uri}"),
    ]
    .join("; ")
}

/// `permissions.external.<kind>` entries as CSP sources; `fetch.client` may name a remote.
fn external_sources(external: &Yaml, kind: &str, remotes: &[Remote]) -> Vec<String> {
    let mut node = external;
    for part in kind.split('.') {
        match node.get(part) {
            Some(next) => node = next,
            None => return Vec::new(),
        }
    }
    node.as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|entry| match entry {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Mapping(_) => entry
                .get("address")
                .and_then(Yaml::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    let key = entry.get("remote")?.as_str()?;
                    remotes.iter().find(|r| r.key == key)?.default_base_url()
                }),
            _ => None,
        })
        .collect()
}

/// Base64 SHA-256 of every inline `<script>` (one without `src`), as browsers hash them.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(open) = lower[from..].find("<script").map(|i| i + from) {
        let Some(tag_end) = lower[open..].find('>').map(|i| i + open) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| i + tag_end) else {
            break;
        };
        let tag = &lower[open..tag_end];
        if !tag.contains(" src=") && !tag.contains(" src ") {
            let body = &html[tag_end + 1..close];
            let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            hashes.push(STANDARD.encode(digest.as_ref()));
        }
        from = close;
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = r#"<html><head><script src="./a.js"></script><script type="module">alert(1)</script></head></html>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected =
            STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, b"alert(1)").as_ref());
        assert_eq!(hashes[0], expected);
    }

    #[test]
    fn unsafe_eval_from_the_manifest_reaches_script_src_quoted() {
        let manifest = Manifest::parse(include_str!("../../../manifest.yml"), |_| {
            Some("https://remote.example.com".into())
        })
        .unwrap();
        let csp = policy(&manifest, "<html></html>", "http://127.0.0.1:3100", "/r");
        let script = csp
            .split("; ")
            .find(|d| d.starts_with("script-src "))
            .unwrap();
        assert!(script.split(' ').any(|s| s == "'unsafe-eval'"), "{script}");
        assert!(!script.contains("wasm-unsafe-eval"));
    }
}
