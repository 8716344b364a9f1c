//! The in-memory model of a Bitbucket workspace: users, repositories with a git-like commit
//! graph (each commit holds a full tree snapshot and its diffstat against its first parent),
//! branches, tags, pull requests and pipelines. Every API answer is derived from this model,
//! and tests use it to compute the values they expect.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A file tree: full path → file content.
pub type Tree = BTreeMap<String, Arc<Vec<u8>>>;

/// What kind of account a [`User`] is (REFERENCE §1: authors, PR authors and pipeline
/// creators are accounts of type `user`, `team` or `app_user`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccountKind {
    /// A person (`type: user`).
    #[default]
    User,
    /// A team account (`type: team`; the spec gives it `display_name`, `uuid`, `links`).
    Team,
    /// An app user such as a repository access token (`type: app_user`, `kind`
    /// `repository_access_token`, REFERENCE-REVIEW §5).
    AppUser,
}

/// A path that is not a regular file, listed as a `commit_file` with this attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A symbolic link (`link`; raw content is the target path).
    Symlink,
    /// A git submodule (`subrepository`; raw content is the pinned SHA1).
    Submodule,
    /// A Git LFS file (`lfs`; the raw URL answers 301 to the media platform).
    Lfs,
}

impl FileKind {
    /// The value in `attributes`.
    pub fn attribute(self) -> &'static str {
        match self {
            FileKind::Symlink => "link",
            FileKind::Submodule => "subrepository",
            FileKind::Lfs => "lfs",
        }
    }
}

/// A Bitbucket account: a user, a team or an app user (see [`AccountKind`]).
#[derive(Clone, Debug)]
pub struct User {
    /// The account type.
    pub kind: AccountKind,
    /// The display name.
    pub display_name: String,
    /// The nickname.
    pub nickname: String,
    /// The UUID in braces.
    pub uuid: String,
    /// The Atlassian account id.
    pub account_id: String,
}

/// The author recorded in a commit; `user` is an index into [`Workspace::users`] when the
/// e-mail maps to a Bitbucket account.
#[derive(Clone, Debug)]
pub struct Author {
    /// The name part.
    pub name: String,
    /// The e-mail part.
    pub email: String,
    /// The linked account, if any.
    pub user: Option<usize>,
}

impl Author {
    /// `Name <email>`, as in `author.raw`.
    pub fn raw(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// How a file changed in a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffStatus {
    /// The file is new.
    Added,
    /// The file was deleted.
    Removed,
    /// The file's content changed.
    Modified,
    /// The file moved (its content may also have changed).
    Renamed,
}

impl DiffStatus {
    /// The lower-case name Bitbucket uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffStatus::Added => "added",
            DiffStatus::Removed => "removed",
            DiffStatus::Modified => "modified",
            DiffStatus::Renamed => "renamed",
        }
    }
}

/// One entry of a diffstat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffEntry {
    /// The change.
    pub status: DiffStatus,
    /// The path before (absent for added files).
    pub old_path: Option<String>,
    /// The path after (absent for removed files).
    pub new_path: Option<String>,
    /// Lines added (0 for binary files).
    pub lines_added: u32,
    /// Lines removed (0 for binary files).
    pub lines_removed: u32,
    /// Whether the answer gives `lines_added`/`lines_removed` as `null` instead of counts.
    /// INFERRED: the spec types both as integers and REFERENCE §13 shows binary files as
    /// 0/0; `null` is a variant client code guards against, not a captured answer.
    pub lines_unknown: bool,
}

impl DiffEntry {
    /// The new path, or the old one for a removed file.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }
}

/// A commit.
#[derive(Clone, Debug)]
pub struct Commit {
    /// The full 40-hex hash.
    pub hash: String,
    /// The parents' full hashes (first parent first).
    pub parents: Vec<String>,
    /// The author.
    pub author: Author,
    /// The author date, Unix seconds.
    pub timestamp: i64,
    /// The author's UTC offset in minutes (commit dates keep it).
    pub utc_offset_minutes: i32,
    /// The full message (with its trailing newline).
    pub message: String,
    /// The full tree after this commit.
    pub tree: Arc<Tree>,
    /// The changes against the first parent (against nothing for a root commit).
    pub diffstat: Vec<DiffEntry>,
}

impl Commit {
    /// The first line of the message.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }

    /// The commit date as Bitbucket writes it (author's offset, no fraction).
    pub fn date(&self) -> String {
        crate::time::iso_offset(self.timestamp, self.utc_offset_minutes)
    }

    /// Whether this commit changed `path` (a file, or a directory and everything under it)
    /// relative to its first parent.
    pub fn touches(&self, path: &str) -> bool {
        let path = path.trim_matches('/');
        let hit = |p: &str| path.is_empty() || p == path || p.starts_with(&format!("{path}/"));
        self.diffstat.iter().any(|d| {
            d.old_path.as_deref().is_some_and(hit) || d.new_path.as_deref().is_some_and(hit)
        })
    }
}

/// A branch or tag.
#[derive(Clone, Debug)]
pub struct Ref {
    /// The name (branches may contain `/`).
    pub name: String,
    /// The full hash it points at.
    pub target: String,
}

/// A project (repositories are grouped in projects).
#[derive(Clone, Debug)]
pub struct Project {
    /// The project key, e.g. `CORE`.
    pub key: String,
    /// The display name.
    pub name: String,
    /// The UUID in braces.
    pub uuid: String,
}

/// A pull request state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrState {
    /// Open.
    Open,
    /// Merged.
    Merged,
    /// Declined.
    Declined,
    /// Superseded.
    Superseded,
}

impl PrState {
    /// The upper-case name Bitbucket uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "OPEN",
            PrState::Merged => "MERGED",
            PrState::Declined => "DECLINED",
            PrState::Superseded => "SUPERSEDED",
        }
    }

    /// Parses an upper-case state name.
    pub fn parse(s: &str) -> Option<PrState> {
        [
            PrState::Open,
            PrState::Merged,
            PrState::Declined,
            PrState::Superseded,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A participant of a pull request.
#[derive(Clone, Debug)]
pub struct Participant {
    /// Index into [`Workspace::users`].
    pub user: usize,
    /// `REVIEWER` or `PARTICIPANT`.
    pub role: String,
    /// `approved`, `changes_requested`, or none.
    pub state: Option<String>,
    /// When they last participated (Unix microseconds), if ever.
    pub participated_on: Option<i64>,
}

/// Where an inline comment is anchored (REFERENCE-REVIEW §3a).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inline {
    /// The file.
    pub path: String,
    /// The line in the old file, if on that side.
    pub from: Option<u32>,
    /// The line in the new file, if on that side.
    pub to: Option<u32>,
}

/// A comment on a pull request.
#[derive(Clone, Debug)]
pub struct PrComment {
    /// The comment id.
    pub id: u64,
    /// The commenter (index into [`Workspace::users`]).
    pub user: usize,
    /// The Markdown text (blank once deleted).
    pub content: String,
    /// Created (Unix microseconds).
    pub created_on: i64,
    /// Anchored to a line of a file, for inline comments.
    pub inline: Option<Inline>,
    /// The comment this one replies to.
    pub parent: Option<u64>,
    /// Deleted comments stay in the list, blanked, with `deleted: true`.
    pub deleted: bool,
}

/// A build status of a commit (REFERENCE-REVIEW §4): from Pipelines or an external CI.
#[derive(Clone, Debug)]
pub struct BuildStatus {
    /// The full hash of the commit.
    pub commit: String,
    /// The key (opaque; numeric-looking for Pipelines).
    pub key: String,
    /// The name shown.
    pub name: String,
    /// `SUCCESSFUL`, `FAILED`, `INPROGRESS` or `STOPPED`.
    pub state: String,
    /// The build's web page.
    pub url: String,
    /// The branch it was reported for, if any.
    pub refname: Option<String>,
    /// The description (may be empty).
    pub description: String,
    /// Created (Unix microseconds).
    pub created_on: i64,
    /// Last updated (Unix microseconds).
    pub updated_on: i64,
}

/// A pull request.
#[derive(Clone, Debug)]
pub struct PullRequest {
    /// The number.
    pub id: u64,
    /// The title.
    pub title: String,
    /// The description (Markdown).
    pub description: String,
    /// The state.
    pub state: PrState,
    /// Whether it is a draft.
    pub draft: bool,
    /// The author (index into [`Workspace::users`]).
    pub author: usize,
    /// The source branch.
    pub source_branch: String,
    /// The source commit (full hash; the API shows 12 characters).
    pub source_commit: String,
    /// The destination branch.
    pub destination_branch: String,
    /// The destination commit (full hash).
    pub destination_commit: String,
    /// The merge commit of a merged PR (full hash).
    pub merge_commit: Option<String>,
    /// Who merged or declined it.
    pub closed_by: Option<usize>,
    /// The decline reason.
    pub reason: String,
    /// Whether the source branch is closed on merge.
    pub close_source_branch: bool,
    /// The number of comments.
    pub comment_count: u32,
    /// The number of tasks.
    pub task_count: u32,
    /// Created (Unix microseconds).
    pub created_on: i64,
    /// Last updated (Unix microseconds).
    pub updated_on: i64,
    /// The reviewers (indexes into [`Workspace::users`]).
    pub reviewers: Vec<usize>,
    /// The participants (every reviewer is one, with role `REVIEWER`).
    pub participants: Vec<Participant>,
    /// The comments, oldest first, deleted ones included.
    pub comments: Vec<PrComment>,
}

/// The result of a completed pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipelineResult {
    /// Passed.
    Successful,
    /// Failed.
    Failed,
    /// Errored (configuration or system error).
    Error,
    /// Stopped by a user (index into [`Workspace::users`]).
    Stopped(usize),
    /// Expired.
    Expired,
}

impl PipelineResult {
    /// The upper-case name Bitbucket uses in `state.result.name`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PipelineResult::Successful => "SUCCESSFUL",
            PipelineResult::Failed => "FAILED",
            PipelineResult::Error => "ERROR",
            PipelineResult::Stopped(_) => "STOPPED",
            PipelineResult::Expired => "EXPIRED",
        }
    }
}

/// The state of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipelineState {
    /// Being parsed.
    Parsing,
    /// Waiting to start.
    Pending,
    /// Running.
    Running,
    /// Waiting on a manual step.
    Paused,
    /// Halted.
    Halted,
    /// Done, with a result.
    Completed(PipelineResult),
}

impl PipelineState {
    /// `state.name`: `PARSING`, `PENDING`, `IN_PROGRESS` or `COMPLETED`.
    pub fn name(&self) -> &'static str {
        match self {
            PipelineState::Parsing => "PARSING",
            PipelineState::Pending => "PENDING",
            PipelineState::Running | PipelineState::Paused | PipelineState::Halted => "IN_PROGRESS",
            PipelineState::Completed(_) => "COMPLETED",
        }
    }

    /// INFERRED from the enums (REFERENCE §15: "mapping inferred, not verified").
    /// The `status` filter values (REFERENCE §15 vocabulary) this state answers to:
    /// PARSING, PENDING, BUILDING (running), PAUSED, HALTED, PASSED (successful), FAILED,
    /// ERROR, STOPPED, and UNKNOWN for expired runs.
    pub fn status_filter_name(&self) -> &'static str {
        match self {
            PipelineState::Parsing => "PARSING",
            PipelineState::Pending => "PENDING",
            PipelineState::Running => "BUILDING",
            PipelineState::Paused => "PAUSED",
            PipelineState::Halted => "HALTED",
            PipelineState::Completed(r) => match r {
                PipelineResult::Successful => "PASSED",
                PipelineResult::Failed => "FAILED",
                PipelineResult::Error => "ERROR",
                PipelineResult::Stopped(_) => "STOPPED",
                PipelineResult::Expired => "UNKNOWN",
            },
        }
    }
}

/// What started a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A push.
    Push,
    /// A user, by hand.
    Manual,
    /// A schedule.
    Schedule,
}

impl Trigger {
    /// `trigger.name`.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Push => "PUSH",
            Trigger::Manual => "MANUAL",
            Trigger::Schedule => "SCHEDULE",
        }
    }

    /// The `trigger_type` filter value (note `SCHEDULED`).
    pub fn filter_name(self) -> &'static str {
        match self {
            Trigger::Push => "PUSH",
            Trigger::Manual => "MANUAL",
            Trigger::Schedule => "SCHEDULED",
        }
    }
}

/// The state of a pipeline step (REFERENCE-REVIEW §6b).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Waiting; `paused` for a manual step waiting to be started (stage `PAUSED`).
    Pending {
        /// Whether it is a manual step waiting.
        paused: bool,
    },
    /// Running.
    InProgress,
    /// Done with a result: `SUCCESSFUL`, `FAILED`, `ERROR`, `STOPPED`, `EXPIRED` or `NOT_RUN`.
    Completed(&'static str),
}

/// A step of a pipeline run.
#[derive(Clone, Debug)]
pub struct Step {
    /// The UUID in braces.
    pub uuid: String,
    /// The name.
    pub name: String,
    /// The state.
    pub state: StepState,
    /// Started (Unix microseconds), once it runs.
    pub started_on: Option<i64>,
    /// Completed (Unix microseconds).
    pub completed_on: Option<i64>,
    /// Its log (raw bytes, with terminal escape sequences), once it has one.
    pub log: Option<Arc<Vec<u8>>>,
}

/// A pipeline run.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// The UUID in braces.
    pub uuid: String,
    /// The build number.
    pub build_number: u64,
    /// The state.
    pub state: PipelineState,
    /// `branch` or `tag`, absent for a run on a bare commit (custom pipeline).
    pub ref_type: Option<String>,
    /// The branch or tag name.
    pub ref_name: Option<String>,
    /// The full hash of the commit it ran on.
    pub commit: String,
    /// `selector.type`: `default`, `branches`, `tags`, `custom`.
    pub selector_type: String,
    /// `selector.pattern`, if any.
    pub selector_pattern: Option<String>,
    /// The trigger.
    pub trigger: Trigger,
    /// Who started it (index into [`Workspace::users`]); none for scheduled runs.
    pub creator: Option<usize>,
    /// Created (Unix microseconds).
    pub created_on: i64,
    /// Completed (Unix microseconds), for completed runs.
    pub completed_on: Option<i64>,
    /// The run time so far, in seconds.
    pub duration_in_seconds: u64,
    /// Its steps, in order.
    pub steps: Vec<Step>,
    /// For a pull-request pipeline: the pull request's id (the target is then a
    /// `pipeline_pullrequest_target` with its source and destination branches, REFERENCE §15).
    pub pull_request: Option<u64>,
    /// Whether the run is rendered with only what the spec declares: no `trigger.name` (the
    /// spec's `pipeline_trigger` has no properties) and no `duration_in_seconds` (real but
    /// not in the spec, REFERENCE §15), while `build_seconds_used` stays. INFERRED: no
    /// capture shows such a run; clients must cope with both keys missing.
    pub spec_fields_only: bool,
}

/// A repository.
#[derive(Clone, Debug)]
pub struct Repository {
    /// The slug.
    pub slug: String,
    /// The display name.
    pub name: String,
    /// The UUID in braces.
    pub uuid: String,
    /// The description.
    pub description: String,
    /// The language (lower case, may be empty).
    pub language: String,
    /// Whether it is private.
    pub is_private: bool,
    /// Created (Unix microseconds).
    pub created_on: i64,
    /// Last updated (Unix microseconds).
    pub updated_on: i64,
    /// The main branch, none for an empty repository.
    pub mainbranch: Option<String>,
    /// The project.
    pub project: Project,
    /// Every commit, in creation order.
    pub commits: Vec<Commit>,
    /// The branches.
    pub branches: Vec<Ref>,
    /// The tags.
    pub tags: Vec<Ref>,
    /// The pull requests, by id.
    pub pull_requests: Vec<PullRequest>,
    /// The pipeline runs, by build number.
    pub pipelines: Vec<Pipeline>,
    /// Whether Pipelines is enabled (the list answers 404 otherwise).
    pub pipelines_enabled: bool,
    /// The build statuses of its commits.
    pub statuses: Vec<BuildStatus>,
    /// Paths that are not regular files (REFERENCE §9-§10). The tree holds what git stores
    /// for them: a symlink's target path, a submodule's pinned SHA1, an LFS pointer.
    pub special_files: BTreeMap<String, FileKind>,
    index: HashMap<String, usize>,
}

impl Repository {
    /// Builds a repository; `commits` must be in creation order (parents first).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        slug: &str,
        name: &str,
        description: &str,
        language: &str,
        is_private: bool,
        created_on: i64,
        updated_on: i64,
        mainbranch: Option<&str>,
        project: Project,
    ) -> Repository {
        Repository {
            slug: slug.into(),
            name: name.into(),
            uuid: crate::ids::uuid(&format!("repo:{slug}")),
            description: description.into(),
            language: language.into(),
            is_private,
            created_on,
            updated_on,
            mainbranch: mainbranch.map(str::to_string),
            project,
            commits: Vec::new(),
            branches: Vec::new(),
            tags: Vec::new(),
            pull_requests: Vec::new(),
            pipelines: Vec::new(),
            pipelines_enabled: true,
            statuses: Vec::new(),
            special_files: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    /// Sets the commit graph and refs.
    pub fn set_history(&mut self, commits: Vec<Commit>, branches: Vec<Ref>, tags: Vec<Ref>) {
        self.index = commits
            .iter()
            .enumerate()
            .map(|(i, c)| (c.hash.clone(), i))
            .collect();
        self.commits = commits;
        self.branches = branches;
        self.tags = tags;
    }

    /// The commit with this full hash.
    pub fn commit(&self, hash: &str) -> Option<&Commit> {
        self.index.get(hash).map(|&i| &self.commits[i])
    }

    /// The branch called `name`.
    pub fn branch(&self, name: &str) -> Option<&Ref> {
        self.branches.iter().find(|b| b.name == name)
    }

    /// The tag called `name`.
    pub fn tag(&self, name: &str) -> Option<&Ref> {
        self.tags.iter().find(|b| b.name == name)
    }

    /// The head commit of the main branch.
    pub fn main_head(&self) -> Option<&Commit> {
        let main = self.mainbranch.as_deref()?;
        self.commit(&self.branch(main)?.target)
    }

    /// Resolves a revision as git would: `HEAD` (the main branch), a tag, a branch, or a
    /// full or abbreviated (at least 4 hex digits, unambiguous) hash. A tag wins over a
    /// branch of the same name (gitrevisions: `refs/tags/<name>` comes before
    /// `refs/heads/<name>`).
    pub fn resolve(&self, rev: &str) -> Option<&Commit> {
        if rev == "HEAD" {
            return self.main_head();
        }
        if let Some(r) = self.tag(rev).or_else(|| self.branch(rev)) {
            return self.commit(&r.target);
        }
        let rev = rev.to_ascii_lowercase();
        if rev.len() < 4 || rev.len() > 40 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut found = self.commits.iter().filter(|c| c.hash.starts_with(&rev));
        match (found.next(), found.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }

    /// `git log INCLUDE… ^EXCLUDE… [-- PATH]`: commits reachable from the included revisions
    /// (all branches and tags when none) and not from the excluded ones, newest first.
    /// With `path`, only commits that changed it (merges only when they differ from every
    /// parent there). Returns the first revision that does not resolve as the error.
    pub fn log(
        &self,
        include: &[&str],
        exclude: &[&str],
        path: Option<&str>,
    ) -> Result<Vec<&Commit>, String> {
        let resolve_all = |revs: &[&str]| -> Result<Vec<String>, String> {
            revs.iter()
                .map(|r| {
                    self.resolve(r)
                        .map(|c| c.hash.clone())
                        .ok_or_else(|| r.to_string())
                })
                .collect()
        };
        let starts = if include.is_empty() {
            self.branches
                .iter()
                .chain(&self.tags)
                .map(|r| r.target.clone())
                .collect()
        } else {
            resolve_all(include)?
        };
        let excluded = self.reachable(&resolve_all(exclude)?);
        let mut commits: Vec<&Commit> = self
            .reachable(&starts)
            .into_iter()
            .filter(|h| !excluded.contains(h))
            .filter_map(|h| self.commit(&h))
            .collect();
        commits.sort_by_key(|c| std::cmp::Reverse((c.timestamp, self.index[&c.hash])));
        if let Some(p) = path {
            commits.retain(|c| self.changes_path(c, p));
        }
        Ok(commits)
    }

    fn changes_path(&self, c: &Commit, path: &str) -> bool {
        if c.parents.len() <= 1 {
            return c.touches(path);
        }
        let mine = subtree(&c.tree, path);
        c.parents
            .iter()
            .filter_map(|p| self.commit(p))
            .all(|p| subtree(&p.tree, path) != mine)
    }

    fn reachable(&self, starts: &[String]) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut stack: Vec<String> = starts.to_vec();
        while let Some(h) = stack.pop() {
            if seen.insert(h.clone())
                && let Some(c) = self.commit(&h)
            {
                stack.extend(c.parents.iter().cloned());
            }
        }
        seen
    }

    /// What is at `path` in `commit`'s tree (`""` is the root directory).
    pub fn entry<'a>(&self, commit: &'a Commit, path: &str) -> Option<Entry<'a>> {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return Some(Entry::Directory);
        }
        if let Some(content) = commit.tree.get(path) {
            return Some(Entry::File(content));
        }
        let prefix = format!("{path}/");
        commit
            .tree
            .range(prefix.clone()..)
            .next()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|_| Entry::Directory)
    }

    /// The entries of directory `dir` (`""` = root) of `commit`, in git's tree order
    /// (by name, a directory sorting as if its name ended with `/`); `None` if `dir` is not
    /// a directory.
    pub fn list_dir(&self, commit: &Commit, dir: &str) -> Option<Vec<DirEntry>> {
        let dir = dir.trim_matches('/');
        if !matches!(self.entry(commit, dir), Some(Entry::Directory)) {
            return None;
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut entries: BTreeMap<String, DirEntry> = BTreeMap::new();
        for (path, content) in commit.tree.range(prefix.clone()..) {
            let Some(rest) = path.strip_prefix(&prefix) else {
                break;
            };
            match rest.split_once('/') {
                Some((name, _)) => {
                    entries
                        .entry(format!("{name}/"))
                        .or_insert_with(|| DirEntry {
                            path: format!("{prefix}{name}"),
                            is_dir: true,
                            size: 0,
                        });
                }
                None => {
                    entries.insert(
                        rest.to_string(),
                        DirEntry {
                            path: path.clone(),
                            is_dir: false,
                            size: content.len() as u64,
                        },
                    );
                }
            }
        }
        Some(entries.into_values().collect())
    }

    /// The newest common ancestor of `a` and `b` (git's merge base, for three-dot diffs).
    pub fn merge_base(&self, a: &Commit, b: &Commit) -> Option<&Commit> {
        let from_b = self.reachable(std::slice::from_ref(&b.hash));
        self.reachable(std::slice::from_ref(&a.hash))
            .into_iter()
            .filter(|h| from_b.contains(h))
            .filter_map(|h| self.commit(&h))
            .max_by_key(|c| (c.timestamp, self.index[&c.hash]))
    }

    /// The diffstat between two commits: `new` against `base`, as
    /// `GET …/diffstat/{new}..{base}` gives it (no rename detection).
    pub fn diff_between(&self, new: &Commit, base: &Commit) -> Vec<DiffEntry> {
        diff_trees(Some(&base.tree), &new.tree, &[])
    }

    /// The web page of the repository.
    pub fn html_url(&self, workspace: &str) -> String {
        format!("https://bitbucket.org/{workspace}/{}", self.slug)
    }
}

/// What a path is in a tree.
#[derive(Clone, Debug)]
pub enum Entry<'a> {
    /// A file with this content.
    File(&'a Arc<Vec<u8>>),
    /// A directory.
    Directory,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The full path from the root.
    pub path: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// The size in bytes (0 for directories).
    pub size: u64,
}

fn subtree<'a>(tree: &'a Tree, path: &str) -> Vec<(&'a String, &'a Arc<Vec<u8>>)> {
    let path = path.trim_matches('/');
    let prefix = format!("{path}/");
    tree.iter()
        .filter(|(k, _)| path.is_empty() || *k == path || k.starts_with(&prefix))
        .collect()
}

/// Whether content looks binary the way git decides: a NUL byte in the first 8000 bytes.
pub fn is_binary(content: &[u8]) -> bool {
    content.iter().take(8000).any(|&b| b == 0)
}

/// The number of lines of a text (a last line without a newline counts).
pub fn line_count(content: &[u8]) -> u32 {
    let n = content.iter().filter(|&&b| b == b'\n').count();
    let extra = usize::from(!content.is_empty() && content.last() != Some(&b'\n'));
    (n + extra) as u32
}

/// Lines added and removed between two versions of a file (single-region diff: common
/// prefix and suffix lines are unchanged); binary files count 0/0.
pub fn line_delta(old: &[u8], new: &[u8]) -> (u32, u32) {
    if is_binary(old) || is_binary(new) {
        return (0, 0);
    }
    let (a, b, prefix, suffix) = changed_region(old, new);
    (
        (b.len() - prefix - suffix) as u32,
        (a.len() - prefix - suffix) as u32,
    )
}

/// Both versions split into lines (each with its `\n`), and how many lines at the start
/// (`prefix`) and at the end (`suffix`) they share: the one changed region between them that
/// the diffstat counts and the fake's diffs print.
pub(crate) fn changed_region<'a>(
    old: &'a [u8],
    new: &'a [u8],
) -> (Vec<&'a [u8]>, Vec<&'a [u8]>, usize, usize) {
    let a: Vec<&[u8]> = old.split_inclusive(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = new.split_inclusive(|&b| b == b'\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    (a, b, prefix, suffix)
}

/// The diffstat from `old` to `new`, with explicit `renames` (from, to); sorted by path.
pub fn diff_trees(old: Option<&Tree>, new: &Tree, renames: &[(String, String)]) -> Vec<DiffEntry> {
    let empty = Tree::new();
    let old = old.unwrap_or(&empty);
    let renamed_from: BTreeSet<&str> = renames.iter().map(|(f, _)| f.as_str()).collect();
    let renamed_to: BTreeSet<&str> = renames.iter().map(|(_, t)| t.as_str()).collect();
    let mut out = Vec::new();
    for (from, to) in renames {
        if let (Some(a), Some(b)) = (old.get(from), new.get(to)) {
            let (added, removed) = line_delta(a, b);
            out.push(DiffEntry {
                status: DiffStatus::Renamed,
                old_path: Some(from.clone()),
                new_path: Some(to.clone()),
                lines_added: added,
                lines_removed: removed,
                lines_unknown: false,
            });
        }
    }
    for (path, content) in new {
        if renamed_to.contains(path.as_str()) {
            continue;
        }
        match old.get(path) {
            None => {
                let lines = if is_binary(content) {
                    0
                } else {
                    line_count(content)
                };
                out.push(DiffEntry {
                    status: DiffStatus::Added,
                    old_path: None,
                    new_path: Some(path.clone()),
                    lines_added: lines,
                    lines_removed: 0,
                    lines_unknown: false,
                });
            }
            Some(before) if before != content => {
                let (added, removed) = line_delta(before, content);
                out.push(DiffEntry {
                    status: DiffStatus::Modified,
                    old_path: Some(path.clone()),
                    new_path: Some(path.clone()),
                    lines_added: added,
                    lines_removed: removed,
                    lines_unknown: false,
                });
            }
            _ => {}
        }
    }
    for (path, content) in old {
        if !new.contains_key(path) && !renamed_from.contains(path.as_str()) {
            let lines = if is_binary(content) {
                0
            } else {
                line_count(content)
            };
            out.push(DiffEntry {
                status: DiffStatus::Removed,
                old_path: Some(path.clone()),
                new_path: None,
                lines_added: 0,
                lines_removed: lines,
                lines_unknown: false,
            });
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

/// A workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The slug, e.g. `acme`.
    pub slug: String,
    /// The display name.
    pub name: String,
    /// The UUID in braces.
    pub uuid: String,
    /// The members.
    pub users: Vec<User>,
    /// The repositories, in creation order.
    pub repositories: Vec<Repository>,
}

impl Workspace {
    /// The repository with this slug (or `{uuid}`).
    pub fn repository(&self, slug: &str) -> Option<&Repository> {
        self.repositories
            .iter()
            .find(|r| r.slug == slug || r.uuid == slug)
    }

    /// Mutable access to the repository with this slug.
    pub fn repository_mut(&mut self, slug: &str) -> Option<&mut Repository> {
        self.repositories.iter_mut().find(|r| r.slug == slug)
    }

    /// Whether `id` names this workspace (slug or `{uuid}`).
    pub fn is(&self, id: &str) -> bool {
        self.slug == id || self.uuid == id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_delta_counts_single_region_changes() {
        assert_eq!(line_delta(b"a\nb\nc\n", b"a\nB\nc\n"), (1, 1));
        assert_eq!(line_delta(b"a\nb\n", b"a\nb\nc\nd\n"), (2, 0));
        assert_eq!(line_delta(b"a\nb\nc\n", b"a\n"), (0, 2));
        assert_eq!(line_delta(b"x\0y", b"x\0z"), (0, 0));
        assert_eq!(line_delta(b"a\na\n", b"a\na\na\n"), (1, 0));
    }

    #[test]
    fn counts_lines() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a"), 1);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\r\nb\r\n"), 2);
    }

    #[test]
    fn diff_trees_reports_every_status() {
        let mut old = Tree::new();
        old.insert("a.txt".into(), Arc::new(b"1\n2\n".to_vec()));
        old.insert("gone.txt".into(), Arc::new(b"x\n".to_vec()));
        old.insert("moved.txt".into(), Arc::new(b"m\n".to_vec()));
        let mut new = Tree::new();
        new.insert("a.txt".into(), Arc::new(b"1\n3\n".to_vec()));
        new.insert("new.txt".into(), Arc::new(b"n\nn\n".to_vec()));
        new.insert("here.txt".into(), Arc::new(b"m\n".to_vec()));
        let d = diff_trees(Some(&old), &new, &[("moved.txt".into(), "here.txt".into())]);
        let got: Vec<(&str, &str, u32, u32)> = d
            .iter()
            .map(|e| (e.status.as_str(), e.path(), e.lines_added, e.lines_removed))
            .collect();
        assert_eq!(
            got,
            vec![
                ("modified", "a.txt", 1, 1),
                ("removed", "gone.txt", 0, 1),
                ("renamed", "here.txt", 0, 0),
                ("added", "new.txt", 2, 0),
            ]
        );
    }
}
