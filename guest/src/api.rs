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

/// A user object; only the display name is used.
#[derive(Debug, Default, Deserialize)]
pub struct User {
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The nickname, a fallback.
    #[serde(default)]
    pub nickname: Option<String>,
}

impl User {
    /// The best name to show.
    pub fn name(&self) -> String {
        self.display_name
            .clone()
            .or_else(|| self.nickname.clone())
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
    /// The head commit.
    #[serde(default)]
    pub target: Option<CommitRef>,
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
#[derive(Debug, Deserialize)]
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
    /// Lines added.
    #[serde(default)]
    pub lines_added: u32,
    /// Lines removed.
    #[serde(default)]
    pub lines_removed: u32,
    /// The old file, `null` when added.
    #[serde(default)]
    pub old: Option<DiffPath>,
    /// The new file, `null` when removed.
    #[serde(default)]
    pub new: Option<DiffPath>,
}

/// A branch end of a pull request.
#[derive(Debug, Default, Deserialize)]
pub struct PullRequestEnd {
    /// The branch.
    #[serde(default)]
    pub branch: Option<Named>,
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
    /// Present only when asked for with `fields=+values.reviewers`.
    #[serde(default)]
    pub reviewers: Vec<User>,
    /// The number of comments.
    #[serde(default)]
    pub comment_count: u32,
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
    /// For pull-request targets: the source branch.
    #[serde(default)]
    pub source: Option<String>,
    /// For pull-request targets: the destination branch.
    #[serde(default)]
    pub destination: Option<String>,
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
    pub trigger: Option<Named>,
    /// Who started it.
    #[serde(default)]
    pub creator: Option<User>,
    /// Created.
    #[serde(default)]
    pub created_on: Option<String>,
    /// Completed.
    #[serde(default)]
    pub completed_on: Option<String>,
    /// Duration.
    #[serde(default)]
    pub duration_in_seconds: Option<u64>,
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
