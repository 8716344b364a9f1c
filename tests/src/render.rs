//! Turns model objects into the JSON Bitbucket sends (the "full" representation; the
//! `fields` filter then trims it to the default or requested view).

use crate::http::encode_path;
use crate::ids::encode_braces;
use crate::model::*;
use crate::time::{iso_micros, iso_millis_z};
use serde_json::{Value, json};

/// Pull requests created from then on (Unix microseconds, 2022-06-06) link three-dot
/// (`topic=true`) diffs.
pub const TOPIC_DIFFS_SINCE: i64 = 1_654_473_600_000_000;

/// Where links point: the API base of the fake server and Bitbucket's web host.
#[derive(Clone, Debug)]
pub struct Links {
    /// e.g. `http://127.0.0.1:PORT/2.0`.
    pub api: String,
    /// `https://bitbucket.org`.
    pub web: String,
}

fn href(url: String) -> Value {
    json!({ "href": url })
}

impl Links {
    /// Links rooted at the API base `api` (no trailing slash).
    pub fn new(api: &str) -> Links {
        Links {
            api: api.trim_end_matches('/').to_string(),
            web: "https://bitbucket.org".into(),
        }
    }

    fn repo_api(&self, ws: &Workspace, r: &Repository) -> String {
        format!("{}/repositories/{}/{}", self.api, ws.slug, r.slug)
    }

    fn repo_web(&self, ws: &Workspace, r: &Repository) -> String {
        format!("{}/{}/{}", self.web, ws.slug, r.slug)
    }

    /// An account object: a `user`, a `team` or an `app_user` (REFERENCE §1).
    pub fn user(&self, u: &User) -> Value {
        let id = encode_braces(&u.uuid);
        match u.kind {
            AccountKind::User => {}
            // INFERRED: the spec's `team` has `display_name`, `uuid`, `links`, `created_on`
            // and no `nickname` or `account_id`; `username` (the team's slug, here the
            // nickname) is what team objects carried before the 2019 username removal.
            AccountKind::Team => {
                return json!({
                    "display_name": u.display_name,
                    "links": {
                        "self": href(format!("{}/teams/{id}", self.api)),
                        "avatar": href(format!("{}/account/{}/avatar/", self.web, u.nickname)),
                        "html": href(format!("{}/{}/", self.web, u.nickname)),
                    },
                    "type": "team",
                    "uuid": u.uuid,
                    "username": u.nickname,
                });
            }
            // INFERRED: the spec's `app_user` has `display_name`, `uuid`, `account_id`,
            // `account_status`, `kind` and no `nickname`; `kind` as REFERENCE-REVIEW §5
            // quotes for commits made with a repository access token.
            AccountKind::AppUser => {
                return json!({
                    "display_name": u.display_name,
                    "links": {
                        "self": href(format!("{}/users/{id}", self.api)),
                        "avatar": href(format!("https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{}/128", u.account_id)),
                        "html": href(format!("{}/{id}/", self.web)),
                    },
                    "type": "app_user",
                    "uuid": u.uuid,
                    "account_id": u.account_id,
                    "account_status": "active",
                    "kind": "repository_access_token",
                });
            }
        }
        json!({
            "display_name": u.display_name,
            "links": {
                "self": href(format!("{}/users/{id}", self.api)),
                "avatar": href(format!("https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{}/128", u.account_id)),
                "html": href(format!("{}/{id}/", self.web)),
            },
            "type": "user",
            "uuid": u.uuid,
            "account_id": u.account_id,
            "nickname": u.nickname,
        })
    }

    /// The condensed repository embedded in other objects.
    pub fn repo_condensed(&self, ws: &Workspace, r: &Repository) -> Value {
        json!({
            "type": "repository",
            "full_name": format!("{}/{}", ws.slug, r.slug),
            "links": {
                "self": href(self.repo_api(ws, r)),
                "html": href(self.repo_web(ws, r)),
                "avatar": href(format!("https://bytebucket.org/ravatar/{}?ts=default", encode_braces(&r.uuid))),
            },
            "name": r.name,
            "uuid": r.uuid,
        })
    }

    /// The full repository object.
    pub fn repository(&self, ws: &Workspace, r: &Repository) -> Value {
        let api = self.repo_api(ws, r);
        let size: usize = r
            .main_head()
            .map(|c| c.tree.values().map(|f| f.len()).sum())
            .unwrap_or(0);
        let owner = &ws.users[0];
        json!({
            "type": "repository",
            "full_name": format!("{}/{}", ws.slug, r.slug),
            "name": r.name,
            "slug": r.slug,
            "uuid": r.uuid,
            "description": r.description,
            "scm": "git",
            "website": "",
            "language": r.language,
            "is_private": r.is_private,
            "fork_policy": if r.is_private { "no_public_forks" } else { "allow_forks" },
            "has_issues": false,
            "has_wiki": false,
            "size": size,
            "created_on": iso_micros(r.created_on),
            "updated_on": iso_micros(r.updated_on),
            "mainbranch": r.mainbranch.as_ref().map(|m| json!({"type": "branch", "name": m})),
            "parent": null,
            "enforced_signed_commits": null,
            "override_settings": {"default_merge_strategy": false, "branching_model": false},
            "owner": self.user(owner),
            "workspace": {
                "type": "workspace",
                "uuid": ws.uuid,
                "name": ws.name,
                "slug": ws.slug,
                "links": {
                    "avatar": href(format!("{}/workspaces/{}/avatar/?ts=1700000000", self.web, ws.slug)),
                    "html": href(format!("{}/{}/", self.web, ws.slug)),
                    "self": href(format!("{}/workspaces/{}", self.api, ws.slug)),
                },
            },
            "project": {
                "type": "project",
                "key": r.project.key,
                "uuid": r.project.uuid,
                "name": r.project.name,
                "links": {
                    "self": href(format!("{}/workspaces/{}/projects/{}", self.api, ws.slug, r.project.key)),
                    "html": href(format!("{}/{}/workspace/projects/{}", self.web, ws.slug, r.project.key)),
                    "avatar": href(format!("{}/{}/workspace/projects/{}/avatar/32", self.web, ws.slug, r.project.key)),
                },
            },
            "links": {
                "self": href(api.clone()),
                "html": href(self.repo_web(ws, r)),
                "avatar": href(format!("https://bytebucket.org/ravatar/{}?ts=default", encode_braces(&r.uuid))),
                "pullrequests": href(format!("{api}/pullrequests")),
                "commits": href(format!("{api}/commits")),
                "forks": href(format!("{api}/forks")),
                "watchers": href(format!("{api}/watchers")),
                "downloads": href(format!("{api}/downloads")),
                "branches": href(format!("{api}/refs/branches")),
                "tags": href(format!("{api}/refs/tags")),
                "source": href(format!("{api}/src")),
                "hooks": href(format!("{api}/hooks")),
                "clone": [
                    {"href": format!("https://{}@bitbucket.org/{}/{}.git", owner.nickname, ws.slug, r.slug), "name": "https"},
                    {"href": format!("git@bitbucket.org:{}/{}.git", ws.slug, r.slug), "name": "ssh"},
                ],
            },
        })
    }

    /// A minimal commit reference: `{type, hash, links}`; `abbreviate` shortens the hash to
    /// 12 characters as pull requests do.
    pub fn commit_ref(
        &self,
        ws: &Workspace,
        r: &Repository,
        hash: &str,
        abbreviate: bool,
    ) -> Value {
        let h = if abbreviate {
            &hash[..12.min(hash.len())]
        } else {
            hash
        };
        json!({
            "type": "commit",
            "hash": h,
            "links": {
                "self": href(format!("{}/commit/{h}", self.repo_api(ws, r))),
                "html": href(format!("{}/commits/{h}", self.repo_web(ws, r))),
            },
        })
    }

    fn author(&self, ws: &Workspace, a: &Author) -> Value {
        let mut v = json!({"type": "author", "raw": a.raw()});
        if let Some(u) = a.user {
            v["user"] = self.user(&ws.users[u]);
        }
        v
    }

    fn rendered(text: &str) -> Value {
        let html = format!(
            "<p>{}</p>",
            text.trim_end()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        );
        json!({"type": "rendered", "raw": text, "markup": "markdown", "html": html})
    }

    /// A commit as listed (and, with `participants`, as `GET …/commit/{hash}` returns it).
    pub fn commit(&self, ws: &Workspace, r: &Repository, c: &Commit, detail: bool) -> Value {
        let api = self.repo_api(ws, r);
        let h = &c.hash;
        let mut v = json!({
            "type": "commit",
            "hash": h,
            "date": c.date(),
            "author": self.author(ws, &c.author),
            "message": c.message,
            "summary": Self::rendered(&c.message),
            "links": {
                "self": href(format!("{api}/commit/{h}")),
                "html": href(format!("{}/commits/{h}", self.repo_web(ws, r))),
                "diff": href(format!("{api}/diff/{h}")),
                "approve": href(format!("{api}/commit/{h}/approve")),
                "comments": href(format!("{api}/commit/{h}/comments")),
                "statuses": href(format!("{api}/commit/{h}/statuses")),
                "patch": href(format!("{api}/patch/{h}")),
            },
            "parents": c.parents.iter().map(|p| self.commit_ref(ws, r, p, false)).collect::<Vec<_>>(),
            "rendered": {"message": Self::rendered(&c.message)},
            "repository": self.repo_condensed(ws, r),
        });
        if detail {
            v["participants"] = json!([]);
        }
        v
    }

    fn src_url(&self, ws: &Workspace, r: &Repository, hash: &str, path: &str) -> String {
        format!("{}/src/{hash}/{}", self.repo_api(ws, r), encode_path(path))
    }

    /// A `commit_directory` object (`path` without trailing slash; `""` for the root).
    pub fn directory(&self, ws: &Workspace, r: &Repository, hash: &str, path: &str) -> Value {
        let base = self.src_url(ws, r, hash, path);
        // The root gives `…/src/{hash}//`, as Bitbucket does.
        let self_url = format!("{base}/");
        json!({
            "path": path,
            "type": "commit_directory",
            "links": {
                "self": href(self_url.clone()),
                "meta": href(format!("{self_url}?format=meta")),
            },
            "commit": self.commit_ref(ws, r, hash, false),
        })
    }

    /// A `commit_file` object.
    pub fn file(
        &self,
        ws: &Workspace,
        r: &Repository,
        hash: &str,
        path: &str,
        content: &[u8],
    ) -> Value {
        let url = self.src_url(ws, r, hash, path);
        // A symlink, submodule or LFS file has its own attribute (REFERENCE §9); its `size`
        // is that of what git stores (target path, SHA1, LFS pointer): INFERRED for LFS.
        let attributes: Vec<&str> = if let Some(kind) = r.special_files.get(path) {
            vec![kind.attribute()]
        } else if is_binary(content) {
            vec!["binary"]
        } else {
            vec![]
        };
        json!({
            "path": path,
            "type": "commit_file",
            "attributes": attributes,
            "escaped_path": path,
            "size": content.len(),
            "mimetype": mimetype(path),
            "links": {
                "self": href(url.clone()),
                "meta": href(format!("{url}?format=meta")),
                "history": href(format!("{}/filehistory/{hash}/{}", self.repo_api(ws, r), encode_path(path))),
            },
            "commit": self.commit_ref(ws, r, hash, false),
        })
    }

    /// One diffstat entry; `old_hash`/`new_hash` are the base and new commits.
    pub fn diffstat(
        &self,
        ws: &Workspace,
        r: &Repository,
        d: &DiffEntry,
        old_hash: &str,
        new_hash: &str,
    ) -> Value {
        let side = |path: &Option<String>, hash: &str| match path {
            None => Value::Null,
            Some(p) => json!({
                "path": p,
                "type": "commit_file",
                "escaped_path": p,
                "links": {"self": href(self.src_url(ws, r, hash, p))},
            }),
        };
        let count = |n: u32| {
            if d.lines_unknown {
                Value::Null
            } else {
                json!(n)
            }
        };
        json!({
            "type": "diffstat",
            "lines_added": count(d.lines_added),
            "lines_removed": count(d.lines_removed),
            "status": d.status.as_str(),
            "old": side(&d.old_path, old_hash),
            "new": side(&d.new_path, new_hash),
        })
    }

    /// A branch or tag object.
    pub fn git_ref(&self, ws: &Workspace, r: &Repository, rf: &Ref, kind: &str) -> Value {
        let c = r.commit(&rf.target).expect("ref target exists");
        let plural = if kind == "branch" { "branches" } else { "tags" };
        let mut v = json!({
            "name": rf.name,
            "type": kind,
            "target": self.commit(ws, r, c, false),
            "links": {
                "self": href(format!("{}/refs/{plural}/{}", self.repo_api(ws, r), encode_path(&rf.name))),
                "commits": href(format!("{}/commits/{}", self.repo_api(ws, r), encode_path(&rf.name))),
                "html": href(format!("{}/branch/{}", self.repo_web(ws, r), encode_path(&rf.name))),
            },
        });
        if kind == "branch" {
            v["merge_strategies"] = json!(["merge_commit", "squash", "fast_forward"]);
            v["default_merge_strategy"] = json!("merge_commit");
        }
        v
    }

    /// Where a pull request's `diff`, `diffstat` or `patch` redirects to, and what its links
    /// say: `…/{kind}/{ws}/{repo}:{src12}%0D{dst12}?from_pullrequest_id={id}`, with
    /// `&topic=true` for pull requests created after mid-2022 (REFERENCE-REVIEW §2a).
    pub fn pull_request_diff(
        &self,
        ws: &Workspace,
        r: &Repository,
        pr: &PullRequest,
        kind: &str,
    ) -> String {
        let topic = if pr.created_on >= TOPIC_DIFFS_SINCE {
            "&topic=true"
        } else {
            ""
        };
        format!(
            "{}/{kind}/{}/{}:{}%0D{}?from_pullrequest_id={}{topic}",
            self.repo_api(ws, r),
            ws.slug,
            r.slug,
            &pr.source_commit[..12],
            &pr.destination_commit[..12],
            pr.id
        )
    }

    /// The full pull request (reviewers, participants and rendered included; the list
    /// endpoint hides those by default).
    pub fn pull_request(&self, ws: &Workspace, r: &Repository, pr: &PullRequest) -> Value {
        let api = format!("{}/pullrequests/{}", self.repo_api(ws, r), pr.id);
        let side = |branch: &str, hash: &str| {
            json!({
                "branch": {"name": branch},
                "commit": self.commit_ref(ws, r, hash, true),
                "repository": self.repo_condensed(ws, r),
            })
        };
        json!({
            "comment_count": pr.comment_count,
            "task_count": pr.task_count,
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "description": pr.description,
            "state": pr.state.as_str(),
            "draft": pr.draft,
            "merge_commit": pr.merge_commit.as_ref().map(|h| self.commit_ref(ws, r, h, true)),
            "close_source_branch": pr.close_source_branch,
            "closed_by": pr.closed_by.map(|u| self.user(&ws.users[u])),
            "author": self.user(&ws.users[pr.author]),
            "reason": pr.reason,
            "created_on": iso_micros(pr.created_on),
            "updated_on": iso_micros(pr.updated_on),
            "destination": side(&pr.destination_branch, &pr.destination_commit),
            "source": side(&pr.source_branch, &pr.source_commit),
            "summary": Self::rendered(&pr.description),
            "rendered": {
                "title": Self::rendered(&pr.title),
                "description": Self::rendered(&pr.description),
            },
            "reviewers": pr.reviewers.iter().map(|&u| self.user(&ws.users[u])).collect::<Vec<_>>(),
            "participants": pr.participants.iter().map(|p| json!({
                "type": "participant",
                "user": self.user(&ws.users[p.user]),
                "role": p.role,
                "approved": p.state.as_deref() == Some("approved"),
                "state": p.state,
                "participated_on": p.participated_on.map(iso_micros),
            })).collect::<Vec<_>>(),
            "links": {
                "self": href(api.clone()),
                "html": href(format!("{}/pull-requests/{}", self.repo_web(ws, r), pr.id)),
                "commits": href(format!("{api}/commits")),
                "approve": href(format!("{api}/approve")),
                "request-changes": href(format!("{api}/request-changes")),
                "diff": href(self.pull_request_diff(ws, r, pr, "diff")),
                "diffstat": href(self.pull_request_diff(ws, r, pr, "diffstat")),
                "comments": href(format!("{api}/comments")),
                "activity": href(format!("{api}/activity")),
                "merge": href(format!("{api}/merge")),
                "decline": href(format!("{api}/decline")),
                "statuses": href(format!("{api}/statuses")),
            },
        })
    }

    /// A pull request comment (REFERENCE-REVIEW §3a): `inline` only on inline comments,
    /// `parent` only on replies, deleted comments blanked.
    pub fn pr_comment(
        &self,
        ws: &Workspace,
        r: &Repository,
        pr: &PullRequest,
        c: &PrComment,
    ) -> Value {
        let api = format!("{}/pullrequests/{}", self.repo_api(ws, r), pr.id);
        let web = format!("{}/pull-requests/{}", self.repo_web(ws, r), pr.id);
        let mut v = json!({
            "id": c.id,
            "type": "pullrequest_comment",
            "created_on": iso_micros(c.created_on),
            "updated_on": iso_micros(c.created_on + 1_000),
            "content": Self::rendered(&c.content),
            "user": self.user(&ws.users[c.user]),
            "deleted": c.deleted,
            "pending": false,
            "resolution": null,
            "pullrequest": {
                "type": "pullrequest",
                "id": pr.id,
                "title": pr.title,
                "links": {"self": href(api.clone()), "html": href(web.clone())},
            },
            "links": {
                "self": href(format!("{api}/comments/{}", c.id)),
                "html": href(format!("{web}/_/diff#comment-{}", c.id)),
            },
        });
        if let Some(i) = &c.inline {
            v["inline"] = json!({
                "path": i.path, "from": i.from, "to": i.to,
                "start_from": null, "start_to": null, "outdated": false,
            });
        }
        if let Some(p) = c.parent {
            v["parent"] = json!({
                "id": p,
                "links": {
                    "self": href(format!("{api}/comments/{p}")),
                    "html": href(format!("{web}/_/diff#comment-{p}")),
                },
            });
        }
        v
    }

    /// A commit build status (REFERENCE-REVIEW §4).
    pub fn build_status(&self, ws: &Workspace, r: &Repository, s: &BuildStatus) -> Value {
        let commit = format!("{}/commit/{}", self.repo_api(ws, r), s.commit);
        json!({
            "key": s.key,
            "type": "build",
            "state": s.state,
            "name": s.name,
            "refname": s.refname,
            "commit": self.commit_ref(ws, r, &s.commit, false),
            "url": s.url,
            "repository": self.repo_condensed(ws, r),
            "description": s.description,
            "created_on": iso_micros(s.created_on),
            "updated_on": iso_micros(s.updated_on),
            "links": {
                "self": href(format!("{commit}/statuses/build/{}", s.key)),
                "commit": href(commit),
            },
        })
    }

    /// A pipeline step (REFERENCE-REVIEW §6b): nanosecond `Z` timestamps, `teardown_commands`,
    /// `trigger`, `maxTime`; a manual step waiting is `PENDING` with stage `PAUSED`.
    pub fn pipeline_step(&self, p: &Pipeline, s: &Step) -> Value {
        let state = match &s.state {
            StepState::Pending { paused: false } => {
                json!({"name": "PENDING", "type": "pipeline_step_state_pending"})
            }
            StepState::Pending { paused: true } => json!({
                "name": "PENDING", "type": "pipeline_step_state_pending",
                "stage": {"name": "PAUSED", "type": "pipeline_step_state_pending_paused"},
            }),
            StepState::InProgress => {
                json!({"name": "IN_PROGRESS", "type": "pipeline_step_state_in_progress"})
            }
            StepState::Completed(result) => json!({
                "name": "COMPLETED", "type": "pipeline_step_state_completed",
                "result": {"name": result, "type": format!("pipeline_step_state_completed_{}", result.to_lowercase())},
            }),
        };
        let nanos = |t: i64| {
            let text = iso_millis_z(t);
            // 2026-01-03T07:36:40.109Z → …40.109572944Z (nanoseconds, as steps have).
            format!(
                "{}{:06}Z",
                text.trim_end_matches('Z'),
                (t.rem_euclid(1000)) * 1000 + 944
            )
        };
        let mut v = json!({
            "type": "pipeline_step",
            "uuid": s.uuid,
            "name": s.name,
            "run_number": 1,
            "pipeline": {"type": "pipeline", "uuid": p.uuid},
            "setup_commands": [{"commandType": "user", "name": "umask 000", "command": "umask 000"}],
            "script_commands": [{"commandType": "user", "name": "cargo test", "command": "cargo test"}],
            "teardown_commands": [{"commandType": "system", "action": "UPLOAD_METRICS", "name": "Upload Metrics", "command": "echo \"Uploading metrics\""}],
            "image": {"name": "rust:1.95"},
            "maxTime": 120,
            "trigger": {"type": if matches!(s.state, StepState::Pending { paused: true }) { "pipeline_step_trigger_manual" } else { "pipeline_step_trigger_automatic" }},
            "state": state,
        });
        if let Some(t) = s.started_on {
            v["started_on"] = json!(nanos(t));
            let until = s.completed_on.unwrap_or(t);
            v["duration_in_seconds"] = json!((until - t) / 1_000_000);
            v["build_seconds_used"] = json!((until - t) / 1_000_000);
        }
        if let Some(t) = s.completed_on {
            v["completed_on"] = json!(nanos(t));
        }
        v
    }

    /// A pipeline run.
    pub fn pipeline(&self, ws: &Workspace, r: &Repository, p: &Pipeline) -> Value {
        let state = match &p.state {
            PipelineState::Parsing => {
                json!({"name": "PARSING", "type": "pipeline_state_parsing", "stage": {"name": "PARSING", "type": "pipeline_state_parsing_parsing"}})
            }
            PipelineState::Pending => {
                json!({"name": "PENDING", "type": "pipeline_state_pending", "stage": {"name": "PENDING", "type": "pipeline_state_pending_pending"}})
            }
            PipelineState::Running => {
                json!({"name": "IN_PROGRESS", "type": "pipeline_state_in_progress", "stage": {"name": "RUNNING", "type": "pipeline_state_in_progress_running"}})
            }
            PipelineState::Paused => {
                json!({"name": "IN_PROGRESS", "type": "pipeline_state_in_progress", "stage": {"name": "PAUSED", "type": "pipeline_state_in_progress_paused"}})
            }
            PipelineState::Halted => {
                json!({"name": "IN_PROGRESS", "type": "pipeline_state_in_progress", "stage": {"name": "HALTED", "type": "pipeline_state_in_progress_halted"}})
            }
            PipelineState::Completed(res) => {
                let mut result = json!({"name": res.as_str(), "type": format!("pipeline_state_completed_{}", res.as_str().to_lowercase())});
                match res {
                    PipelineResult::Stopped(u) => result["terminator"] = self.user(&ws.users[*u]),
                    PipelineResult::Error => {
                        result["error"] = json!({"key": "agent.build.container-error", "message": "The build container exited unexpectedly."})
                    }
                    _ => {}
                }
                json!({"name": "COMPLETED", "type": "pipeline_state_completed", "result": result})
            }
        };
        let commit = json!({
            "type": "commit",
            "hash": p.commit,
            "links": {
                "self": href(format!("{}/commit/{}", self.repo_api(ws, r), p.commit)),
                "html": href(format!("{}/commits/{}", self.repo_web(ws, r), p.commit)),
            },
        });
        let mut selector = json!({"type": p.selector_type});
        if let Some(pat) = &p.selector_pattern {
            selector["pattern"] = json!(pat);
        }
        let pull_request = p
            .pull_request
            .and_then(|id| r.pull_requests.iter().find(|pr| pr.id == id));
        let target = match (pull_request, &p.ref_type, &p.ref_name) {
            // REFERENCE §15 ([GILDAS] pipeline-pr.json): branches as plain strings, a
            // 12-character destination commit, a condensed pull request.
            (Some(pr), _, _) => {
                let dst = &pr.destination_commit[..12.min(pr.destination_commit.len())];
                json!({
                    "type": "pipeline_pullrequest_target",
                    "source": pr.source_branch,
                    "destination": pr.destination_branch,
                    "destination_commit": {
                        "type": "commit",
                        "hash": dst,
                        "links": {
                            "self": href(format!("{}/commit/{dst}", self.repo_api(ws, r))),
                            "html": href(format!("{}/commits/{dst}", self.repo_web(ws, r))),
                        },
                    },
                    "commit": commit,
                    "selector": selector,
                    "pullrequest": {
                        "type": "pullrequest",
                        "id": pr.id,
                        "title": pr.title,
                        "draft": pr.draft,
                        "links": {
                            "self": href(format!("{}/pullrequests/{}", self.repo_api(ws, r), pr.id)),
                            "html": href(format!("{}/pull-requests/{}", self.repo_web(ws, r), pr.id)),
                        },
                    },
                })
            }
            (None, Some(t), Some(n)) => {
                json!({"type": "pipeline_ref_target", "ref_type": t, "ref_name": n, "selector": selector, "commit": commit})
            }
            _ => json!({"type": "pipeline_commit_target", "selector": selector, "commit": commit}),
        };
        let trigger_type = match p.trigger {
            Trigger::Push => "pipeline_trigger_push",
            Trigger::Manual => "pipeline_trigger_manual",
            Trigger::Schedule => "pipeline_trigger_schedule",
        };
        let service = format!(
            "https://bitbucket-pipelines.prod.public.atl-paas.net//rest/1.0/accounts/{}/repositories/{}/pipelines/{}",
            encode_braces(&ws.uuid),
            encode_braces(&r.uuid),
            encode_braces(&p.uuid)
        );
        let first_successful = matches!(
            p.state,
            PipelineState::Completed(PipelineResult::Successful)
        ) && !r.pipelines.iter().any(|q| {
            q.build_number < p.build_number
                && matches!(
                    q.state,
                    PipelineState::Completed(PipelineResult::Successful)
                )
        });
        let mut v = json!({
            "type": "pipeline",
            "uuid": p.uuid,
            "repository": self.repo_condensed(ws, r),
            "state": state,
            "build_number": p.build_number,
            "created_on": iso_millis_z(p.created_on),
            "target": target,
            "trigger": {"name": p.trigger.name(), "type": trigger_type},
            "run_number": 1,
            "duration_in_seconds": p.duration_in_seconds,
            "build_seconds_used": p.duration_in_seconds,
            "first_successful": first_successful,
            "expired": matches!(p.state, PipelineState::Completed(PipelineResult::Expired)),
            "links": {"self": href(service.clone()), "steps": href(format!("{service}/steps"))},
            "has_variables": false,
        });
        if p.spec_fields_only {
            let obj = v.as_object_mut().expect("object");
            obj.remove("duration_in_seconds");
            obj["trigger"] = json!({"type": trigger_type});
        }
        if let Some(u) = p.creator {
            v["creator"] = self.user(&ws.users[u]);
        }
        if let Some(done) = p.completed_on {
            v["completed_on"] = json!(iso_millis_z(done));
        }
        v
    }
}

/// The MIME type Bitbucket reports for a file name (by extension; `None` when unknown).
pub fn mimetype(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "py" => "text/x-python",
        "md" => "text/markdown",
        "rst" => "text/x-rst",
        "txt" => "text/plain",
        "json" => "application/json",
        "js" => "application/javascript",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "sh" => "application/x-sh",
        "bat" => "application/x-msdos-program",
        "rs" => "text/x-rust",
        "go" => "text/x-go",
        "yml" | "yaml" => "application/x-yaml",
        "xml" => "application/xml",
        _ => return None,
    })
}

/// The `Content-Type` of a raw file download: its MIME type without charset, or
/// `application/octet-stream` when the extension is unknown.
pub fn raw_content_type(path: &str) -> &'static str {
    mimetype(path).unwrap_or("application/octet-stream")
}
