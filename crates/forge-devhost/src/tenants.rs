//! The local host's fixed world: two installations (sites) and two users, each site with a
//! Jira issue and a Confluence page, so tenant isolation can be tried by hand and in tests. Acme
//! also has a page in a second space that starts without the macro, to insert it there.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Installation {
    /// Short handle used in host URLs (`?site=acme`).
    pub handle: &'static str,
    pub name: &'static str,
    /// `ari:cloud:ecosystem::installation/<uuid>`: the remote's tenant key.
    pub installation_id: &'static str,
    pub cloud_id: &'static str,
    pub issues: &'static [Issue],
    pub pages: &'static [Page],
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub handle: &'static str,
    pub name: &'static str,
    pub account_id: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    pub id: &'static str,
    pub key: &'static str,
    pub summary: &'static str,
    pub status: &'static str,
    pub issue_type: &'static str,
    pub type_id: &'static str,
    pub project_id: &'static str,
    pub project_key: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub id: &'static str,
    pub title: &'static str,
    pub space_id: &'static str,
    pub space_key: &'static str,
    /// Whether the page starts with the macro on it, configured for team `Forge`; otherwise it
    /// starts empty and offers to insert it.
    pub with_macro: bool,
}

pub const INSTALLATIONS: &[Installation] = &[
    Installation {
        handle: "acme",
        name: "Acme",
        installation_id: "ari:cloud:ecosystem::installation/6a1f0c0e-31a2-4d7b-9c51-0e2f7a9b1c01",
        cloud_id: "0b7d5c2a-1f3e-4a6b-8c9d-acme00000001",
        issues: &[
            Issue {
                id: "10001",
                key: "TT-1",
                summary: "Ship the Team Tasks panel",
                status: "In Progress",
                issue_type: "Task",
                type_id: "10002",
                project_id: "10000",
                project_key: "TT",
            },
            Issue {
                id: "10002",
                key: "TT-2",
                summary: "Write the release notes",
                status: "To Do",
                issue_type: "Task",
                type_id: "10002",
                project_id: "10000",
                project_key: "TT",
            },
        ],
        pages: &[
            Page {
                id: "65537",
                title: "Team Forge",
                space_id: "98305",
                space_key: "ENG",
                with_macro: true,
            },
            Page {
                id: "65541",
                title: "Operations weekly",
                space_id: "98306",
                space_key: "OPS",
                with_macro: false,
            },
        ],
    },
    Installation {
        handle: "globex",
        name: "Globex",
        installation_id: "ari:cloud:ecosystem::installation/9d3e4b7a-52c1-4e8f-a0b6-1c2d3e4f5a02",
        cloud_id: "5e8f1a2b-3c4d-4e5f-9a0b-globex000002",
        issues: &[Issue {
            id: "20001",
            key: "GX-1",
            summary: "Audit the onboarding flow",
            status: "To Do",
            issue_type: "Bug",
            type_id: "10004",
            project_id: "20000",
            project_key: "GX",
        }],
        pages: &[Page {
            id: "131073",
            title: "Globex Forge",
            space_id: "196609",
            space_key: "OPS",
            with_macro: true,
        }],
    },
];

pub const USERS: &[User] = &[
    User {
        handle: "alice",
        name: "Alice Example",
        account_id: "712020:0a1b2c3d-alice-4e5f-8a9b-000000000001",
    },
    User {
        handle: "bob",
        name: "Bob Example",
        account_id: "712020:0a1b2c3d-bob00-4e5f-8a9b-000000000002",
    },
];

pub fn installation(handle: &str) -> Option<&'static Installation> {
    INSTALLATIONS.iter().find(|i| i.handle == handle)
}

pub fn user(handle: &str) -> Option<&'static User> {
    USERS.iter().find(|u| u.handle == handle)
}

impl Installation {
    pub fn issue(&self, key_or_id: &str) -> Option<&'static Issue> {
        self.issues
            .iter()
            .find(|i| i.key == key_or_id || i.id == key_or_id)
    }
    pub fn page(&self, id: &str) -> Option<&'static Page> {
        self.pages.iter().find(|p| p.id == id)
    }
    /// The site URL users see (`https://<site>.atlassian.net` on Cloud).
    pub fn site_url(&self, host_origin: &str) -> String {
        format!("{host_origin}/site/{}", self.handle)
    }
}
