//! Review data of the sample workspace: real source commits for pull requests, their
//! comments (general, inline, replies, deleted) and the build statuses of their commits
//! (from Pipelines and from an external CI), all derived deterministically.

use crate::ids;
use crate::model::*;
use crate::time::MICROS;
use std::sync::Arc;

const HOUR: i64 = 3600;

/// Gives every pull request whose source commit is not in the history a real one: a child
/// of its destination commit that adds a note and extends the README, so that its diff and
/// diffstat exist as they do on Bitbucket. These commits are on no branch (their source
/// branches are not modelled), so no listing of branches or commits shows them.
pub fn add_pull_request_sources(repo: &mut Repository, users: &[User]) {
    let mut commits = repo.commits.clone();
    for pr in &repo.pull_requests {
        if repo.commit(&pr.source_commit).is_some() {
            continue;
        }
        let parent = repo
            .commit(&pr.destination_commit)
            .expect("a pull request's destination commit exists");
        let mut tree = (*parent.tree).clone();
        let note = format!(
            "# Change {id}\n\n{title}\n\n- what changed\n- why it changed\n",
            id = pr.id,
            title = pr.title
        );
        tree.insert(
            format!("changes/pr-{}.md", pr.id),
            Arc::new(note.into_bytes()),
        );
        if let Some(readme) = tree.get("README.md") {
            let mut text = (**readme).clone();
            text.extend(format!("\nSee change {}.\n", pr.id).bytes());
            tree.insert("README.md".into(), Arc::new(text));
        }
        let user = &users[pr.author];
        commits.push(Commit {
            hash: pr.source_commit.clone(),
            parents: vec![parent.hash.clone()],
            author: Author {
                name: user.display_name.clone(),
                email: format!("{}@acme.example", user.nickname),
                user: Some(pr.author),
            },
            timestamp: pr.created_on / MICROS - HOUR,
            utc_offset_minutes: 0,
            message: format!("{}\n", pr.title),
            diffstat: diff_trees(Some(&parent.tree), &tree, &[]),
            tree: Arc::new(tree),
        });
    }
    let (branches, tags) = (repo.branches.clone(), repo.tags.clone());
    repo.set_history(commits, branches, tags);
}

/// The files a pull request changes (its source against the merge base).
pub fn changed_files(repo: &Repository, pr: &PullRequest) -> Vec<DiffEntry> {
    let (Some(src), Some(dst)) = (
        repo.commit(&pr.source_commit),
        repo.commit(&pr.destination_commit),
    ) else {
        return Vec::new();
    };
    let base = repo.merge_base(src, dst).unwrap_or(dst);
    repo.diff_between(src, base)
}

/// Gives each pull request `comment_count` published comments (every third inline on a
/// changed file, every fourth a reply to the one before) plus one deleted comment when it
/// has two or more, and gives its source commit build statuses.
pub fn add_comments_and_statuses(repo: &mut Repository) {
    let mut statuses = Vec::new();
    for index in 0..repo.pull_requests.len() {
        let pr = &repo.pull_requests[index];
        let files = changed_files(repo, pr);
        let people: Vec<usize> = std::iter::once(pr.author)
            .chain(pr.participants.iter().map(|p| p.user))
            .collect();
        let mut comments = Vec::new();
        for k in 0..pr.comment_count as u64 {
            let id = pr.id * 1000 + k + 1;
            let inline = (k % 3 == 1)
                .then(|| files.get(k as usize % files.len().max(1)))
                .flatten()
                .map(|f| Inline {
                    path: f.path().to_string(),
                    from: None,
                    to: Some(1 + (k as u32 % 4)),
                });
            comments.push(PrComment {
                id,
                user: people[k as usize % people.len()],
                content: format!(
                    "Comment {} on #{}: please check the `{}` handling.\n\nThanks!",
                    k + 1,
                    pr.id,
                    ["error", "empty input", "overflow", "retry"][k as usize % 4]
                ),
                created_on: pr.created_on + (k as i64 + 1) * HOUR * MICROS + 17,
                inline,
                parent: (k % 4 == 3).then_some(id - 1),
                deleted: false,
            });
        }
        if pr.comment_count >= 2 {
            comments.insert(
                1,
                PrComment {
                    id: pr.id * 1000 + 999,
                    user: pr.author,
                    content: String::new(),
                    created_on: pr.created_on + HOUR * MICROS + 500,
                    inline: None,
                    parent: None,
                    deleted: true,
                },
            );
        }
        statuses.extend(statuses_for(pr));
        repo.pull_requests[index].comments = comments;
    }
    repo.statuses.extend(statuses);
}

/// The build statuses of a pull request's source commit: a Pipelines status for the source
/// branch, an external CI status without a refname, and (for some) one reported for
/// another branch, which the pull request does not show.
fn statuses_for(pr: &PullRequest) -> Vec<BuildStatus> {
    let at = pr.created_on + 2 * HOUR * MICROS;
    let mut out = Vec::new();
    let build = pr.id * 3 + 1;
    out.push(BuildStatus {
        commit: pr.source_commit.clone(),
        key: format!("{}", -(ids::mix64("status", pr.id) as i32 as i64).abs()),
        name: format!("Pipeline #{build} for {}", pr.source_branch),
        state: ["SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED"][pr.id as usize % 4].into(),
        url: format!("https://bitbucket.org/acme/widgets/pipelines/results/{build}"),
        refname: Some(pr.source_branch.clone()),
        description: String::new(),
        created_on: at,
        updated_on: at + 90 * MICROS,
    });
    if pr.id % 2 == 1 {
        out.push(BuildStatus {
            commit: pr.source_commit.clone(),
            key: format!("{:032x}", ids::mix64("jenkins", pr.id)),
            name: format!("ci » {} #{}", pr.source_branch, pr.id + 30),
            state: if pr.id.is_multiple_of(3) {
                "FAILED"
            } else {
                "SUCCESSFUL"
            }
            .into(),
            url: format!(
                "https://ci.acme.example/job/widgets/{}/display/redirect",
                pr.id + 30
            ),
            refname: None,
            description: "There was a failure building this commit.".into(),
            created_on: at + MICROS,
            updated_on: at + 300 * MICROS,
        });
    }
    if pr.id % 5 == 4 {
        out.push(BuildStatus {
            commit: pr.source_commit.clone(),
            key: "other-branch".into(),
            name: "Nightly on another branch".into(),
            state: "FAILED".into(),
            url: "https://ci.acme.example/job/nightly/".into(),
            refname: Some("nightly".into()),
            description: String::new(),
            created_on: at + 2 * MICROS,
            updated_on: at + 2 * MICROS,
        });
    }
    out
}

/// The build number of the `widgets` run whose failed step has a log of several megabytes.
pub const HUGE_LOG_BUILD: u64 = 10;
/// The last line of every failed step's log.
pub const FAILED_LOG_LAST_LINE: &str = "error: test failed, to rerun pass `--lib`";

/// Gives every pipeline run its steps: `Build`, then `Test` (which fails in failed runs,
/// with a log full of terminal colours), then `Deploy` (`NOT_RUN` after a failure, a manual
/// step waiting in paused runs). Completed steps' logs live in long-term storage; running
/// steps have the log so far; steps that never ran have none.
pub fn add_steps(repo: &mut Repository) {
    let slug = repo.slug.clone();
    for p in &mut repo.pipelines {
        p.steps = steps_for(&slug, p);
    }
}

fn steps_for(slug: &str, p: &Pipeline) -> Vec<Step> {
    let start = p.created_on + 7 * MICROS;
    let end = p
        .completed_on
        .unwrap_or(start + p.duration_in_seconds as i64 * MICROS);
    let third = (end - start) / 3;
    let step = |i: usize, name: &str, state: StepState, log: Option<Vec<u8>>| Step {
        uuid: ids::uuid(&format!("step:{slug}:{}:{i}", p.build_number)),
        name: name.into(),
        started_on: (!matches!(
            state,
            StepState::Pending { .. } | StepState::Completed("NOT_RUN")
        ))
        .then_some(start + i as i64 * third),
        completed_on: matches!(state, StepState::Completed(r) if r != "NOT_RUN")
            .then_some(start + (i as i64 + 1) * third),
        log: log.map(Arc::new),
        state,
    };
    let ok = |i: usize, name: &str| {
        step(
            i,
            name,
            StepState::Completed("SUCCESSFUL"),
            Some(log(name, p.build_number, None, 40)),
        )
    };
    let failing = |i: usize, result: &'static str| {
        let lines = if p.build_number == HUGE_LOG_BUILD && slug == "widgets" {
            60_000
        } else {
            300
        };
        step(
            i,
            "Test",
            StepState::Completed(result),
            Some(log("Test", p.build_number, Some(result), lines)),
        )
    };
    let not_run = |i: usize, name: &str| step(i, name, StepState::Completed("NOT_RUN"), None);
    match &p.state {
        PipelineState::Parsing | PipelineState::Halted => Vec::new(),
        PipelineState::Pending => {
            vec![step(0, "Build", StepState::Pending { paused: false }, None)]
        }
        PipelineState::Running => vec![
            ok(0, "Build"),
            step(
                1,
                "Test",
                StepState::InProgress,
                Some(log("Test", p.build_number, None, 25)),
            ),
        ],
        PipelineState::Paused => vec![
            ok(0, "Build"),
            ok(1, "Test"),
            step(2, "Deploy", StepState::Pending { paused: true }, None),
        ],
        PipelineState::Completed(result) => match result {
            PipelineResult::Successful => vec![ok(0, "Build"), ok(1, "Test"), ok(2, "Deploy")],
            PipelineResult::Failed => {
                vec![ok(0, "Build"), failing(1, "FAILED"), not_run(2, "Deploy")]
            }
            PipelineResult::Error => {
                vec![ok(0, "Build"), failing(1, "ERROR"), not_run(2, "Deploy")]
            }
            PipelineResult::Stopped(_) => {
                vec![ok(0, "Build"), failing(1, "STOPPED"), not_run(2, "Deploy")]
            }
            PipelineResult::Expired => vec![ok(0, "Build"), ok(1, "Test"), not_run(2, "Deploy")],
        },
    }
}

/// A step log of about `lines` lines as Bitbucket stores it: command echoes, coloured
/// compiler output, `\r` progress updates, and for a failed step a failing test at the end.
pub fn log(step: &str, build: u64, result: Option<&str>, lines: usize) -> Vec<u8> {
    let mut out = String::new();
    out.push_str(&format!(
        "+ umask 000\n+ echo \"step {step} of build {build}\"\nstep {step} of build {build}\n"
    ));
    out.push_str("\x1b[1m\x1b[32m    Updating\x1b[0m crates.io index\r\x1b[1m\x1b[32m    Updated\x1b[0m crates.io index\n");
    for i in 0..lines {
        out.push_str(&format!(
            "\x1b[1m\x1b[32m   Compiling\x1b[0m widgets-part-{i} v0.1.{} (/build/part-{i})\n",
            i % 7
        ));
    }
    if let Some(result) = result {
        out.push_str("test counter::ticks ... \x1b[32mok\x1b[0m\n");
        out.push_str("test gears::ratio ... \x1b[31mFAILED\x1b[0m\n\nfailures:\n\n");
        out.push_str("---- gears::ratio stdout ----\nthread 'gears::ratio' panicked at src/widgets/gears/spur.rs:9:5:\n");
        out.push_str("assertion `left == right` failed\n  left: 0.5\n right: 2.0\n");
        out.push_str(&format!("\x1b[31merror\x1b[0m: step ended with {result}\n"));
        out.push_str(FAILED_LOG_LAST_LINE);
        out.push('\n');
    } else {
        out.push_str(
            "\x1b[1m\x1b[32m    Finished\x1b[0m `release` profile [optimized] target(s)\n",
        );
    }
    out.into_bytes()
}
