//! The parts of Bitbucket's JSON answers the tools read (REFERENCE.md §8-§15). Every field is
//! optional or defaulted: Bitbucket omits fields freely, and `fields=` trims answers further.

use serde::Deserialize;

mod pipelines;
mod pull_requests;

pub use pipelines::*;
pub use pull_requests::*;

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
