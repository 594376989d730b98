//! Team Tasks' data as it crosses the wire, and the rules both sides enforce on it.
//!
//! The panel validates a title before it sends it (instant feedback); the remote validates it
//! again, because only the remote's check counts.

use serde::{Deserialize, Serialize};

/// Longest title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 500;

/// One task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub title: String,
    pub done: bool,
    /// Atlassian account id of the user who created it.
    pub created_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

/// `GET /tasks`: the tasks of one scope, oldest first, with the issue's details when the scope
/// is a Jira issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    pub scope: Scope,
    pub tasks: Vec<Task>,
    pub progress: Progress,
}

impl TaskList {
    /// The list, with its progress counted from its tasks.
    pub fn new(scope: Scope, tasks: Vec<Task>) -> Self {
        let done = tasks.iter().filter(|t| t.done).count() as u32;
        let progress = Progress {
            done,
            total: tasks.len() as u32,
        };
        Self {
            scope,
            tasks,
            progress,
        }
    }
}

/// Where tasks live, inside the caller's installation. On the wire, tagged by `kind`:
/// `{"kind":"issue","issue_id":"10001"}`, `{"kind":"team","team":"Forge"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", try_from = "ScopeMembers")]
pub enum Scope {
    /// A Jira issue: the issue panel. The id comes from the verified FIT, never the request.
    Issue { issue_id: String },
    /// A team: the Confluence macro. From `?team=`, else the macro's configuration.
    Team { team: String },
}

/// How [`Scope`] is read: its members, flat. serde reads an internally tagged enum by first
/// buffering the whole object in its generic `Content` tree, whose reader cost the panel's wasm
/// about 10 KB before optimisation; a flat struct needs none of it. Writing stays derived from
/// `Scope` itself, so the shape above is still described once.
#[derive(Deserialize)]
struct ScopeMembers {
    kind: String,
    issue_id: Option<String>,
    team: Option<String>,
}

impl TryFrom<ScopeMembers> for Scope {
    type Error = &'static str;

    fn try_from(m: ScopeMembers) -> Result<Self, Self::Error> {
        match (m.kind.as_str(), m.issue_id, m.team) {
            ("issue", Some(issue_id), _) => Ok(Scope::Issue { issue_id }),
            ("team", _, Some(team)) => Ok(Scope::Team { team }),
            ("issue" | "team", _, _) => Err("a scope without its id"),
            _ => Err("an unknown scope kind"),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

/// The issue the panel sits on, read from Jira with the user's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueSummary {
    pub key: String,
    pub summary: String,
    pub status: String,
}

/// `GET /issue`: the panel header. `issue` is `None` when Jira could not be reached; `notice`
/// then says so, and the tasks keep working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueHeader {
    pub issue: Option<IssueSummary>,
    pub notice: Option<String>,
}

/// A write's answer: the task, plus a notice when Jira could not be updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskChange {
    pub task: Task,
    pub progress: Progress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// A delete's answer: the list's new progress, plus a notice when Jira could not be updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRemoved {
    pub progress: Progress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("The title cannot be empty.")]
    Empty,
    #[error("The title is {0} characters long; the limit is 500.")]
    TooLong(usize),
    /// NUL, line breaks, tabs and the like: a title is one line of text (and PostgreSQL cannot
    /// store a NUL at all).
    #[error("The title cannot contain control characters.")]
    ControlCharacter,
}

/// A valid title: trimmed, 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, TitleError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        match chars {
            0 => Err(TitleError::Empty),
            n if n > MAX_TITLE_CHARS => Err(TitleError::TooLong(n)),
            _ if trimmed.chars().any(char::is_control) => Err(TitleError::ControlCharacter),
            _ => Ok(Self(trimmed.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A Confluence macro's saved configuration (`extension.config`): what its config view submits
/// with `view.submit({config})`, what the macro reads back from `getContext`, and what the
/// remote reads from the FIT's `context.extension.config`. Other members are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroConfig {
    /// The team whose list the macro shows; checked with [`parse_team`] wherever it is read.
    pub team: String,
}

/// A valid team name: trimmed, 1 to 100 characters, none of them a control character.
pub fn parse_team(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()
        && trimmed.chars().count() <= 100
        && !trimmed.chars().any(char::is_control))
    .then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_in_titles_and_teams() {
        for raw in [
            "a\0b",
            "line\nbreak",
            "tab\there",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}x",
        ] {
            assert_eq!(
                Title::parse(raw),
                Err(TitleError::ControlCharacter),
                "{raw:?}"
            );
            assert_eq!(parse_team(raw), None, "{raw:?}");
        }
        assert!(Title::parse("Ünïcode — fine ✓").is_ok());
        assert_eq!(parse_team(" Core & UI ").as_deref(), Some("Core & UI"));
    }

    #[test]
    fn titles_are_trimmed() {
        assert_eq!(
            Title::parse("  Write docs \n").unwrap().as_str(),
            "Write docs"
        );
    }

    #[test]
    fn empty_and_blank_titles_are_refused() {
        for raw in ["", "   ", "\n\t"] {
            assert_eq!(Title::parse(raw), Err(TitleError::Empty), "{raw:?}");
        }
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_TITLE_CHARS);
        assert!(Title::parse(&at_limit).is_ok());
        let over = "é".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(Title::parse(&over), Err(TitleError::TooLong(501)));
    }

    /// The panel's codec reads what the remote's serde_json writes, and writes what it reads.
    #[test]
    fn the_panels_json_agrees_with_serde() {
        use crate::json::{from_str, to_string};
        fn same<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: T) {
            let text = serde_json::to_string(&v).unwrap();
            assert_eq!(from_str::<T>(&text).unwrap(), v, "{text}");
            assert_eq!(to_string(&v).unwrap(), text);
        }
        let task = Task {
            id: "t\"1".into(),
            title: "Write é 😀".into(),
            done: true,
            created_by: "acc".into(),
            created_at: 1_700_000_000_000,
            updated_at: -1,
        };
        for scope in [
            Scope::Issue {
                issue_id: "10001".into(),
            },
            Scope::Team {
                team: "Forge".into(),
            },
        ] {
            same(TaskList {
                scope,
                tasks: vec![task.clone(), task.clone()],
                progress: Progress { done: 1, total: 2 },
            });
        }
        for notice in [None, Some("Jira is down".to_owned())] {
            same(TaskRemoved {
                progress: Progress { done: 0, total: 3 },
                notice: notice.clone(),
            });
            same(TaskChange {
                task: task.clone(),
                progress: Progress::default(),
                notice: notice.clone(),
            });
            same(IssueHeader {
                issue: Some(IssueSummary {
                    key: "TT-1".into(),
                    summary: "s".into(),
                    status: "To Do".into(),
                }),
                notice: notice.clone(),
            });
            same(IssueHeader {
                issue: None,
                notice,
            });
        }
        assert!(from_str::<Scope>(r#"{"kind":"other"}"#).is_err());
        assert!(from_str::<Task>(r#"{"id":"x"}"#).is_err());

        // The server functions' arguments, as the panel sends them.
        use crate::functions::{CreateTask, UpdateTask};
        for new in [
            CreateTask {
                title: "a \"b\"".into(),
                team: None,
            },
            CreateTask {
                title: "a".into(),
                team: Some("T".into()),
            },
        ] {
            assert_eq!(
                to_string(&new).unwrap(),
                serde_json::to_string(&new).unwrap()
            );
        }
        for (title, done) in [
            (None, None),
            (Some("x".to_owned()), None),
            (None, Some(false)),
        ] {
            let patch = UpdateTask {
                id: "t1".into(),
                title,
                done,
                team: None,
            };
            assert_eq!(
                to_string(&patch).unwrap(),
                serde_json::to_string(&patch).unwrap()
            );
        }
    }

    #[test]
    fn scopes_read_back_as_written() {
        for scope in [
            Scope::Issue {
                issue_id: "1".into(),
            },
            Scope::Team { team: "T".into() },
        ] {
            let text = serde_json::to_string(&scope).unwrap();
            assert_eq!(serde_json::from_str::<Scope>(&text).unwrap(), scope);
            assert_eq!(crate::json::from_str::<Scope>(&text).unwrap(), scope);
        }
        for bad in [
            r#"{"kind":"issue"}"#,
            r#"{"kind":"team","issue_id":"1"}"#,
            r#"{"kind":"space","team":"T"}"#,
            r#"{"team":"T"}"#,
        ] {
            assert!(serde_json::from_str::<Scope>(bad).is_err(), "{bad}");
            assert!(crate::json::from_str::<Scope>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_tagged_json() {
        let json = serde_json::to_string(&Scope::Team {
            team: "Forge".into(),
        })
        .unwrap();
        assert_eq!(json, r#"{"kind":"team","team":"Forge"}"#);
    }
}
