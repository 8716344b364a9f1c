//! A tiny git-like history builder used by the sample data: commits on branches apply edits
//! to the parent's tree, merges overlay a branch's changes, and each commit gets its
//! diffstat against its first parent.

use crate::ids;
use crate::model::{Author, Commit, Ref, Tree, diff_trees};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One change to a tree.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Create or overwrite a file.
    Write(String, Vec<u8>),
    /// Append text to a file (creating it if needed).
    Append(String, String),
    /// Delete a file.
    Delete(String),
    /// Move a file (content unchanged; combine with `Write` on the new path to also edit it).
    Rename(String, String),
}

/// `Edit::Write` from anything string-like.
pub fn write(path: &str, content: impl Into<Vec<u8>>) -> Edit {
    Edit::Write(path.to_string(), content.into())
}

/// Builds one repository's commit graph.
pub struct HistoryBuilder {
    seed: String,
    commits: Vec<Commit>,
    heads: BTreeMap<String, String>,
    fork_points: BTreeMap<String, String>,
    tags: Vec<Ref>,
    clock: i64,
    step: i64,
}

impl HistoryBuilder {
    /// A builder whose first commit is at `start` (Unix seconds); each later commit is about
    /// `step` seconds after the previous one.
    pub fn new(seed: &str, start: i64, step: i64) -> Self {
        HistoryBuilder {
            seed: seed.to_string(),
            commits: Vec::new(),
            heads: BTreeMap::new(),
            fork_points: BTreeMap::new(),
            tags: Vec::new(),
            clock: start,
            step,
        }
    }

    /// The head hash of `branch`.
    pub fn head(&self, branch: &str) -> Option<&str> {
        self.heads.get(branch).map(String::as_str)
    }

    fn tree_of(&self, hash: Option<&str>) -> Tree {
        hash.and_then(|h| self.commits.iter().find(|c| c.hash == h))
            .map(|c| (*c.tree).clone())
            .unwrap_or_default()
    }

    fn next_time(&mut self) -> i64 {
        let n = self.commits.len() as i64;
        // A deterministic jitter so that times look organic but stay increasing.
        self.clock += self.step + (ids::mix64(&self.seed, n as u64) % 3600) as i64;
        self.clock
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        branch: &str,
        parents: Vec<String>,
        author: &Author,
        offset: i32,
        message: &str,
        tree: Tree,
        renames: &[(String, String)],
    ) -> String {
        let timestamp = self.next_time();
        let hash = ids::sha(&format!("{}:{}:{message}", self.seed, self.commits.len()));
        let parent_tree = parents.first().map(|p| self.tree_of(Some(p)));
        let diffstat = diff_trees(parent_tree.as_ref(), &tree, renames);
        let mut message = message.to_string();
        if !message.ends_with('\n') {
            message.push('\n');
        }
        self.commits.push(Commit {
            hash: hash.clone(),
            parents,
            author: author.clone(),
            timestamp,
            utc_offset_minutes: offset,
            message,
            tree: Arc::new(tree),
            diffstat,
        });
        self.heads.insert(branch.to_string(), hash.clone());
        hash
    }

    /// Commits `edits` on `branch` (creating the branch on the first commit).
    pub fn commit(
        &mut self,
        branch: &str,
        author: &Author,
        offset: i32,
        message: &str,
        edits: &[Edit],
    ) -> String {
        let parent = self.heads.get(branch).cloned();
        let mut tree = self.tree_of(parent.as_deref());
        let mut renames = Vec::new();
        for e in edits {
            match e {
                Edit::Write(p, c) => {
                    tree.insert(p.clone(), Arc::new(c.clone()));
                }
                Edit::Append(p, text) => {
                    let mut c = tree.get(p).map(|c| (**c).clone()).unwrap_or_default();
                    c.extend_from_slice(text.as_bytes());
                    tree.insert(p.clone(), Arc::new(c));
                }
                Edit::Delete(p) => {
                    tree.remove(p);
                }
                Edit::Rename(from, to) => {
                    if let Some(c) = tree.remove(from) {
                        tree.insert(to.clone(), c);
                        renames.push((from.clone(), to.clone()));
                    }
                }
            }
        }
        self.push(
            branch,
            parent.into_iter().collect(),
            author,
            offset,
            message,
            tree,
            &renames,
        )
    }

    /// Starts branch `name` at the head of `from`.
    pub fn branch(&mut self, name: &str, from: &str) {
        let head = self.heads[from].clone();
        self.fork_points.insert(name.to_string(), head.clone());
        self.heads.insert(name.to_string(), head);
    }

    /// Merges `from` into `into` with a merge commit (no conflicts: the changes made on
    /// `from` since it forked are laid over `into`'s tree).
    pub fn merge(
        &mut self,
        into: &str,
        from: &str,
        author: &Author,
        offset: i32,
        message: &str,
    ) -> String {
        let base = self.tree_of(self.fork_points.get(from).map(String::as_str));
        let theirs = self.tree_of(self.heads.get(from).map(String::as_str));
        let mut tree = self.tree_of(self.heads.get(into).map(String::as_str));
        for (p, c) in &theirs {
            if base.get(p) != Some(c) {
                tree.insert(p.clone(), c.clone());
            }
        }
        for p in base.keys() {
            if !theirs.contains_key(p) {
                tree.remove(p);
            }
        }
        let parents = vec![self.heads[into].clone(), self.heads[from].clone()];
        self.push(into, parents, author, offset, message, tree, &[])
    }

    /// Deletes branch `name` (its commits stay reachable through merges).
    pub fn delete_branch(&mut self, name: &str) {
        self.heads.remove(name);
    }

    /// Tags the head of `branch` as `name`.
    pub fn tag(&mut self, name: &str, branch: &str) {
        self.tags.push(Ref {
            name: name.to_string(),
            target: self.heads[branch].clone(),
        });
    }

    /// The commits in creation order, the branches and the tags.
    pub fn finish(self) -> (Vec<Commit>, Vec<Ref>, Vec<Ref>) {
        let branches = self
            .heads
            .into_iter()
            .map(|(name, target)| Ref { name, target })
            .collect();
        (self.commits, branches, self.tags)
    }
}
