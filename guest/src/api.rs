//! The parts of Bitbucket's JSON answers the tools read (REFERENCE.md §8-§15). Every field is
//! optional or defaulted: Bitbucket omits fields freely, and `fields=` trims answers further.

use serde::Deserialize;

/// A paginated collection: `values` and, unless this is the last page, `next`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
    /// The absolute URL of the next page.
    #[serde(default)]
    pub next: Option<String>,
}

/// `{"href": ...}`.
#[derive(Debug, Default, Deserialize)]
pub struct Link {
    /// The URL.
    #[serde(default)]
    pub href: String,
}

/// The `links` object; only `html` is used.
#[derive(Debug, Default, Deserialize)]
pub struct Links {
    /// The web page.
    #[serde(default)]
    pub html: Option<Link>,
    /// The API URL.
    #[serde(rename = "self", default)]
    pub self_: Option<Link>,
}

/// `{"name": ...}` (branch, main branch, trigger, state...).
#[derive(Debug, Default, Deserialize)]
pub struct Named {
    /// The name.
    #[serde(default)]
    pub name: String,
}

/// An account: a `user`, a `team` or an `app_user` (REFERENCE §1); only its name is used.
#[derive(Debug, Default, Deserialize)]
pub struct User {
    /// The display name (may be missing or empty, e.g. under privacy settings).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The nickname, the first fallback.
    #[serde(default)]
    pub nickname: Option<String>,
    /// The account's UUID in braces (to match reviewers with participants).
    #[serde(default)]
    pub uuid: Option<String>,
    /// The username of a team account, the last fallback.
    #[serde(default)]
    pub username: Option<String>,
}

impl User {
    /// The best name to show: the display name, else the nickname, else the username.
    pub fn name(&self) -> String {
        [&self.display_name, &self.nickname, &self.username]
            .into_iter()
            .flatten()
            .find(|n| !n.trim().is_empty())
            .cloned()
            .unwrap_or_default()
    }
}

/// A repository (REFERENCE §8).
#[derive(Debug, Deserialize)]
pub struct Repository {
    /// The slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// `workspace/slug`.
    #[serde(default)]
    pub full_name: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The language.
    #[serde(default)]
    pub language: Option<String>,
    /// Visibility.
    #[serde(default)]
    pub is_private: bool,
    /// The main branch, `null` for an empty repository.
    #[serde(default)]
    pub mainbranch: Option<Named>,
    /// Last update.
    #[serde(default)]
    pub updated_on: Option<String>,
    /// Links.
    #[serde(default)]
    pub links: Links,
}

impl Repository {
    /// The slug, from `slug` or else from `full_name`.
    pub fn slug(&self) -> String {
        self.slug.clone().unwrap_or_else(|| {
            self.full_name
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    }
}

/// An entry of a directory listing, or a `format=meta` answer (REFERENCE §9-§10).
#[derive(Debug, Deserialize)]
pub struct SourceEntry {
    /// The full path from the repository root.
    #[serde(default)]
    pub path: String,
    /// `commit_file` or `commit_directory`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// File size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// `binary`, `lfs`, `link`, `executable`, `subrepository`.
    #[serde(default)]
    pub attributes: Option<serde_json::Value>,
}

impl SourceEntry {
    /// Whether this is a directory.
    pub fn is_directory(&self) -> bool {
        self.kind == "commit_directory"
    }

    /// Whether the attributes say `name` (the spec calls it a string, reality an array).
    pub fn has_attribute(&self, name: &str) -> bool {
        match &self.attributes {
            Some(serde_json::Value::Array(items)) => items.iter().any(|a| a.as_str() == Some(name)),
            Some(serde_json::Value::String(text)) => text == name,
            _ => false,
        }
    }
}

/// A branch (`refs/branches/{name}`).
#[derive(Debug, Deserialize)]
pub struct Branch {
    /// The branch name.
    #[serde(default)]
    pub name: String,
    /// The head commit (a full commit object).
    #[serde(default)]
    pub target: Option<Commit>,
}

/// A commit reference `{"hash": ...}`.
#[derive(Debug, Default, Deserialize)]
pub struct CommitRef {
    /// The hash (12 characters in pull requests).
    #[serde(default)]
    pub hash: String,
}

/// A commit author: `raw` (`Name <email>`) and maybe a linked user.
#[derive(Debug, Default, Deserialize)]
pub struct Author {
    /// `Name <email>`.
    #[serde(default)]
    pub raw: Option<String>,
    /// The Bitbucket account, when the email maps to one.
    #[serde(default)]
    pub user: Option<User>,
}

impl Author {
    /// `raw`, else the account's name.
    pub fn text(&self) -> String {
        self.raw
            .clone()
            .or_else(|| self.user.as_ref().map(User::name))
            .unwrap_or_default()
    }
}

/// A commit (REFERENCE §12-§13).
#[derive(Debug, Default, Deserialize)]
pub struct Commit {
    /// The full hash.
    #[serde(default)]
    pub hash: String,
    /// The author.
    #[serde(default)]
    pub author: Author,
    /// The author date.
    #[serde(default)]
    pub date: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// The parents.
    #[serde(default)]
    pub parents: Vec<CommitRef>,
}

/// A path in a diffstat entry.
#[derive(Debug, Default, Deserialize)]
pub struct DiffPath {
    /// The path.
    #[serde(default)]
    pub path: String,
}

/// One diffstat entry (REFERENCE §13).
#[derive(Debug, Deserialize)]
pub struct Diffstat {
    /// `added`, `removed`, `modified`, `renamed`.
    #[serde(default)]
    pub status: String,
    /// Lines added; `null` (seen for binary and some large files) counts as 0.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub lines_added: u32,
    /// Lines removed; `null` counts as 0.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub lines_removed: u32,
    /// The old file, `null` when added.
    #[serde(default)]
    pub old: Option<DiffPath>,
    /// The new file, `null` when removed.
    #[serde(default)]
    pub new: Option<DiffPath>,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.unwrap_or(0))
}

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

/// A pipeline's state (REFERENCE §15).
#[derive(Debug, Default, Deserialize)]
pub struct PipelineState {
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED`, `PARSING`...
    #[serde(default)]
    pub name: String,
    /// For completed runs: `SUCCESSFUL`, `FAILED`...
    #[serde(default)]
    pub result: Option<Named>,
    /// For running runs: `RUNNING`, `PAUSED`, `HALTED`.
    #[serde(default)]
    pub stage: Option<Named>,
}

/// A pipeline's target: a ref, a commit or a pull request.
#[derive(Debug, Default, Deserialize)]
pub struct PipelineTarget {
    /// `branch`, `tag`, ... for ref targets.
    #[serde(default)]
    pub ref_type: Option<String>,
    /// The ref name for ref targets.
    #[serde(default)]
    pub ref_name: Option<String>,
    /// The commit.
    #[serde(default)]
    pub commit: Option<CommitRef>,
    /// For pull-request targets: the source branch. Not in the spec: a string in the one
    /// captured answer, so a `{"name"}` or `{"branch": {"name"}}` object is read too.
    #[serde(default)]
    pub source: Option<serde_json::Value>,
    /// For pull-request targets: the destination branch (read like `source`).
    #[serde(default)]
    pub destination: Option<serde_json::Value>,
}

impl PipelineTarget {
    /// The source branch of a pull-request target.
    pub fn source_branch(&self) -> Option<String> {
        self.source.as_ref().and_then(branch_name_of)
    }

    /// The destination branch of a pull-request target.
    pub fn destination_branch(&self) -> Option<String> {
        self.destination.as_ref().and_then(branch_name_of)
    }
}

/// `"main"`, `{"name": "main"}` or `{"branch": {"name": "main"}}` → `main`.
fn branch_name_of(value: &serde_json::Value) -> Option<String> {
    let name = match value {
        serde_json::Value::String(s) => Some(s.as_str()),
        serde_json::Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("branch").and_then(|b| b.get("name")))
            .and_then(|n| n.as_str()),
        _ => None,
    };
    name.filter(|n| !n.is_empty()).map(str::to_owned)
}

/// What started a pipeline: `{"name": "PUSH", "type": "pipeline_trigger_push"}`.
#[derive(Debug, Default, Deserialize)]
pub struct Trigger {
    /// `PUSH`, `MANUAL`, `SCHEDULE`...
    #[serde(default)]
    pub name: Option<String>,
    /// `pipeline_trigger_push`...
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl Trigger {
    /// The name, else the name in the type (`pipeline_trigger_pull_request` → `PULL_REQUEST`).
    pub fn label(&self) -> String {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => self
                .kind
                .as_deref()
                .map(|t| t.strip_prefix("pipeline_trigger_").unwrap_or(t))
                .unwrap_or_default()
                .to_ascii_uppercase(),
        }
    }
}

/// A pipeline run (REFERENCE §15).
#[derive(Debug, Deserialize)]
pub struct Pipeline {
    /// The UUID in braces.
    #[serde(default)]
    pub uuid: String,
    /// The build number.
    #[serde(default)]
    pub build_number: u64,
    /// The state.
    #[serde(default)]
    pub state: PipelineState,
    /// The target.
    #[serde(default)]
    pub target: PipelineTarget,
    /// The trigger.
    #[serde(default)]
    pub trigger: Option<Trigger>,
    /// Who started it.
    #[serde(default)]
    pub creator: Option<User>,
    /// Created.
    #[serde(default)]
    pub created_on: Option<String>,
    /// Completed.
    #[serde(default)]
    pub completed_on: Option<String>,
    /// Duration (real, though missing from the spec).
    #[serde(default)]
    pub duration_in_seconds: Option<u64>,
    /// Build seconds used (in the spec): the duration when `duration_in_seconds` is missing.
    #[serde(default)]
    pub build_seconds_used: Option<u64>,
}

/// One code search result (REFERENCE §11).
#[derive(Debug, Deserialize)]
pub struct SearchResult {
    /// Blocks of matching lines.
    #[serde(default)]
    pub content_matches: Vec<ContentMatch>,
    /// The file.
    #[serde(default)]
    pub file: SearchFile,
}

/// A block of lines around matches.
#[derive(Debug, Deserialize)]
pub struct ContentMatch {
    /// The lines.
    #[serde(default)]
    pub lines: Vec<SearchLine>,
}

/// One line of a content match.
#[derive(Debug, Deserialize)]
pub struct SearchLine {
    /// The line number.
    #[serde(default)]
    pub line: u32,
    /// The pieces of the line; matching ones have `match: true`.
    #[serde(default)]
    pub segments: Vec<SearchSegment>,
}

/// A piece of a line.
#[derive(Debug, Deserialize)]
pub struct SearchSegment {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Whether this piece matched.
    #[serde(rename = "match", default)]
    pub is_match: bool,
}

/// The file of a search result.
#[derive(Debug, Default, Deserialize)]
pub struct SearchFile {
    /// The path.
    #[serde(default)]
    pub path: String,
    /// The commit, with the repository when asked for with `fields`.
    #[serde(default)]
    pub commit: Option<SearchCommit>,
    /// Links; `self` contains the repository's full name.
    #[serde(default)]
    pub links: Links,
}

/// The commit of a search result.
#[derive(Debug, Default, Deserialize)]
pub struct SearchCommit {
    /// The repository.
    #[serde(default)]
    pub repository: Option<Repository>,
}
