//! Pull requests, their participants, comments and build statuses (REFERENCE.md §14,
//! REFERENCE-REVIEW.md §2-§4).

use super::{CommitRef, Links, Named, User};
use serde::Deserialize;

/// A branch end of a pull request.
#[derive(Debug, Default, Deserialize)]
pub struct PullRequestEnd {
    /// The branch.
    #[serde(default)]
    pub branch: Option<Named>,
    /// The commit (12-character hash).
    #[serde(default)]
    pub commit: Option<CommitRef>,
}

/// A pull request (REFERENCE §14).
#[derive(Debug, Deserialize)]
pub struct PullRequest {
    /// The number.
    #[serde(default)]
    pub id: u64,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// `OPEN`, `MERGED`, `DECLINED`, `SUPERSEDED`.
    #[serde(default)]
    pub state: String,
    /// The author.
    #[serde(default)]
    pub author: Option<User>,
    /// Where the changes come from.
    #[serde(default)]
    pub source: PullRequestEnd,
    /// Where they go.
    #[serde(default)]
    pub destination: PullRequestEnd,
    /// Whether it is a draft (absent in older answers).
    #[serde(default)]
    pub draft: bool,
    /// Present only when asked for with `fields=+values.reviewers`.
    #[serde(default)]
    pub reviewers: Vec<User>,
    /// Reviewers and others who took part, with their review state; present only when asked
    /// for in list answers (REFERENCE-REVIEW §1).
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// The number of comments.
    #[serde(default)]
    pub comment_count: u32,
    /// The number of open tasks (detail only).
    #[serde(default)]
    pub task_count: u32,
    /// The description, raw Markdown (detail only).
    #[serde(default)]
    pub description: Option<String>,
    /// The merge commit of a merged pull request.
    #[serde(default)]
    pub merge_commit: Option<CommitRef>,
    /// Opened.
    #[serde(default)]
    pub created_on: Option<String>,
    /// Last changed.
    #[serde(default)]
    pub updated_on: Option<String>,
    /// Links.
    #[serde(default)]
    pub links: Links,
}

/// A participant of a pull request: `state` is `approved`, `changes_requested` or `null`.
#[derive(Debug, Default, Deserialize)]
pub struct Participant {
    /// The account.
    #[serde(default)]
    pub user: Option<User>,
    /// `REVIEWER` or `PARTICIPANT`.
    #[serde(default)]
    pub role: Option<String>,
    /// Whether they approved (older answers have only this).
    #[serde(default)]
    pub approved: bool,
    /// `approved`, `changes_requested`, or `null` when they have not acted.
    #[serde(default)]
    pub state: Option<String>,
}

/// A participant's review state, from `state` (or `approved` when `state` is missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewState {
    /// Approved.
    Approved,
    /// Requested changes.
    ChangesRequested,
    /// Has not acted yet.
    Pending,
}

impl Participant {
    /// The review state; an unknown `state` value counts as pending.
    pub fn review_state(&self) -> ReviewState {
        match self
            .state
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("approved") => ReviewState::Approved,
            Some("changes_requested") => ReviewState::ChangesRequested,
            _ if self.approved => ReviewState::Approved,
            _ => ReviewState::Pending,
        }
    }

    /// The participant's name.
    pub fn name(&self) -> String {
        self.user.as_ref().map(User::name).unwrap_or_default()
    }
}

/// A pull request comment (REFERENCE-REVIEW §3a).
#[derive(Debug, Deserialize)]
pub struct Comment {
    /// The id.
    #[serde(default)]
    pub id: u64,
    /// The commenter (`user`, not `author`).
    #[serde(default)]
    pub user: Option<User>,
    /// `{raw, markup, html}`.
    #[serde(default)]
    pub content: Option<Content>,
    /// Written.
    #[serde(default)]
    pub created_on: Option<String>,
    /// Where an inline comment is anchored; absent (or `{}`) on general comments.
    #[serde(default)]
    pub inline: Option<InlineAnchor>,
    /// The comment replied to.
    #[serde(default)]
    pub parent: Option<IdRef>,
    /// Deleted comments stay in the list, blanked.
    #[serde(default)]
    pub deleted: bool,
}

/// `{"raw": ...}`.
#[derive(Debug, Default, Deserialize)]
pub struct Content {
    /// The raw text.
    #[serde(default)]
    pub raw: Option<String>,
}

/// An inline comment's anchor: `to` is a line of the new file, `from` of the old one.
#[derive(Debug, Default, Deserialize)]
pub struct InlineAnchor {
    /// The file.
    #[serde(default)]
    pub path: Option<String>,
    /// The line in the old file.
    #[serde(default)]
    pub from: Option<u32>,
    /// The line in the new file.
    #[serde(default)]
    pub to: Option<u32>,
}

/// `{"id": ...}`.
#[derive(Debug, Default, Deserialize)]
pub struct IdRef {
    /// The id.
    #[serde(default)]
    pub id: Option<u64>,
}

/// A commit build status (REFERENCE-REVIEW §4).
#[derive(Debug, Deserialize)]
pub struct BuildStatus {
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The key, a fallback name.
    #[serde(default)]
    pub key: Option<String>,
    /// `SUCCESSFUL`, `FAILED`, `INPROGRESS`, `STOPPED`.
    #[serde(default)]
    pub state: String,
    /// The build's page.
    #[serde(default)]
    pub url: Option<String>,
}

/// A list page that may say how many items there are in all.
#[derive(Debug, Deserialize)]
pub struct CountedPage<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
    /// The total number of items, when Bitbucket says it.
    #[serde(default)]
    pub size: Option<u64>,
    /// The next page.
    #[serde(default)]
    pub next: Option<String>,
}
