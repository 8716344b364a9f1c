//! The deterministic sample workspace `acme`, built in code.
//!
//! | repository | language | private | main branch | notes |
//! |---|---|---|---|---|
//! | `legacy-app` | python | yes | `master` | branch `release/2.x`, tag `2.0.0`, 3 PRs, 6 pipelines |
//! | `data-pipeline` | python | no | `master` | Pipelines not enabled (404) |
//! | `secret-infra` | shell | yes | `main` | invisible to the `test-token-limited` credential |
//! | `api-gateway` | go | yes | `main` | |
//! | `website` | javascript | no | `main` | |
//! | `widgets` | rust | yes | `main` | the rich one, see below |
//! | `empty-repo` | (none) | no | none | no commits |
//!
//! `widgets`: > 100 commits on `main` (one merge commit, authors with and without a
//! Bitbucket account, multi-line messages), branches `main`, `develop`, `feature/login`
//! (which adds `src/auth/`), tags `v0.9.0` and `v1.0.0`; nested `src/widgets/gears/`,
//! 121 entries in `src/generated/`, a binary `assets/logo.png`, a 3000-line text file over
//! 100 KB `data/numbers.txt`, a CRLF file `scripts/build.bat`; a commit touching files in
//! every diffstat status ([`MIXED_COMMIT_SUBJECT`]); 80 pull requests in all four states;
//! 130 pipeline runs in every state.
//!
//! `website` has a display name with spaces and unicode, a commit by an author with a
//! unicode name, a path with spaces and unicode and a file with tabs and trailing spaces.
//!
//! The word [`SEARCH_WORD`] appears in files of `widgets`, `legacy-app`, `website` and
//! `secret-infra`, for code search.

use crate::builder::{Edit, HistoryBuilder, write};
use crate::ids;
use crate::model::*;
use crate::sample_review as review;
use crate::time::{MICROS, unix};

/// The workspace slug.
pub const WORKSPACE: &str = "acme";
/// The richly populated repository.
pub const WIDGETS: &str = "widgets";
/// The python repository whose main branch is `master`.
pub const LEGACY_APP: &str = "legacy-app";
/// A repository that tests keep out of scope; hidden from `test-token-limited`.
pub const SECRET_INFRA: &str = "secret-infra";
/// The repository without commits.
pub const EMPTY_REPO: &str = "empty-repo";
/// A repository with Pipelines never enabled.
pub const NO_PIPELINES_REPO: &str = "data-pipeline";
/// The binary file of `widgets`.
pub const BINARY_FILE: &str = "assets/logo.png";
/// The 3000-line text file of `widgets` (over 100 KB).
pub const BIG_FILE: &str = "data/numbers.txt";
/// The number of lines of [`BIG_FILE`].
pub const BIG_FILE_LINES: u32 = 3000;
/// The file of `widgets` with CRLF line endings.
pub const CRLF_FILE: &str = "scripts/build.bat";
/// The directory of `widgets` with more than 100 entries.
pub const GENERATED_DIR: &str = "src/generated";
/// A file three directories deep in `widgets`.
pub const NESTED_FILE: &str = "src/widgets/gears/spur.rs";
/// The branch of `widgets` with a slash in its name.
pub const SLASH_BRANCH: &str = "feature/login";
/// A file that exists on [`SLASH_BRANCH`] but not on `main`.
pub const SLASH_BRANCH_ONLY_FILE: &str = "src/auth/login.rs";
/// The subject of the `widgets` commit whose diffstat has added, removed, modified
/// (text and binary) and renamed files.
pub const MIXED_COMMIT_SUBJECT: &str = "Reorganise docs and assets";
/// The repository `website`, whose display name has spaces and unicode.
pub const WEBSITE: &str = "website";
/// The display name of [`WEBSITE`].
pub const WEBSITE_NAME: &str = "Acme Website – Café ☕";
/// A file of [`WEBSITE`] whose path has spaces and unicode.
pub const UNICODE_FILE: &str = "docs/Anleitung für Anfänger.md";
/// A file of [`WEBSITE`] with tab-indented lines and trailing spaces.
pub const TABS_FILE: &str = "src/tab indented.txt";
/// The text of [`TABS_FILE`].
pub const TABS_TEXT: &str = "rules:\n\tindent\twith tabs\n  trailing spaces   \n\t\n\tend\t\n";
/// A word that code search finds in several repositories.
pub const SEARCH_WORD: &str = "frobnicate";

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

struct People {
    authors: Vec<(Author, i32)>,
}

impl People {
    fn get(&self, i: usize) -> (&Author, i32) {
        let (a, o) = &self.authors[i % self.authors.len()];
        (a, *o)
    }
}

fn users() -> Vec<User> {
    [
        ("Alice Anders", "alice"),
        ("Bob Baker", "bob"),
        ("Carol Chen", "carol"),
        ("Dave Diaz", "dave"),
        ("Erin Evans", "erin"),
    ]
    .iter()
    .map(|(name, nick)| User {
        kind: AccountKind::User,
        display_name: name.to_string(),
        nickname: nick.to_string(),
        uuid: ids::uuid(&format!("user:{nick}")),
        account_id: ids::account_id(nick),
    })
    .collect()
}

fn people() -> People {
    let a = |name: &str, email: &str, user: Option<usize>, offset: i32| {
        (
            Author {
                name: name.into(),
                email: email.into(),
                user,
            },
            offset,
        )
    };
    People {
        authors: vec![
            a("Alice Anders", "alice@acme.example", Some(0), 60),
            a("Bob Baker", "bob@acme.example", Some(1), -300),
            a("Carol Chen", "carol@acme.example", Some(2), 0),
            a("Dave Diaz", "dave@acme.example", Some(3), 330),
            a("acme-build-bot", "ci@acme.example", None, 0),
            a(
                "Mallory Contractor",
                "mallory@contractor.example",
                None,
                -420,
            ),
            a("Erin Evans", "erin@acme.example", Some(4), 120),
        ],
    }
}

fn project(key: &str, name: &str) -> Project {
    Project {
        key: key.into(),
        name: name.into(),
        uuid: ids::uuid(&format!("project:{key}")),
    }
}

const VERBS: [&str; 10] = [
    "Improve", "Fix", "Refactor", "Document", "Speed up", "Simplify", "Test", "Tidy", "Harden",
    "Rework",
];
const NOUNS: [&str; 12] = [
    "gear ratios",
    "counter overflow handling",
    "widget registry",
    "error messages",
    "spur gear maths",
    "build script",
    "release notes",
    "configuration loading",
    "generated items",
    "logging",
    "CLI flags",
    "benchmarks",
];

fn subject(i: usize) -> String {
    format!(
        "{} {}",
        VERBS[i % VERBS.len()],
        NOUNS[(i * 7 + i / 3) % NOUNS.len()]
    )
}

fn message(i: usize) -> String {
    let s = subject(i);
    if i.is_multiple_of(4) {
        format!(
            "{s}\n\nThis change touches step {i} of the widgets roadmap.\nIt keeps behaviour the same for existing callers.\n\nRefs: WID-{i}"
        )
    } else {
        s
    }
}

fn readme(version: usize) -> String {
    format!(
        "# Widgets\n\nA small Rust library of widgets for the Acme platform.\n\n## Usage\n\n```rust\nlet c = widgets::Counter::new();\n```\n\nRelease notes revision: {version}\n\n## License\n\nApache-2.0\n"
    )
}

fn counter_rs(step: usize, checked: bool) -> String {
    let add = if checked {
        "self.value = self.value.checked_add(STEP).unwrap_or(u32::MAX);"
    } else {
        "self.value += STEP;"
    };
    format!(
        "/// How much a counter advances per tick.\npub const STEP: u32 = {step};\n\n/// A counter widget.\n#[derive(Default)]\npub struct Counter {{\n    value: u32,\n}}\n\nimpl Counter {{\n    /// A counter at zero.\n    pub fn new() -> Self {{\n        Self::default()\n    }}\n\n    /// Advances the counter.\n    pub fn tick(&mut self) {{\n        {add}\n    }}\n}}\n"
    )
}

const SPUR_RS: &str = "//! Spur gears.\n\n/// Scrambles a gear id; used by the registry.\npub fn frobnicate(x: u32) -> u32 {\n    x.rotate_left(3) ^ 0x5a5a\n}\n\n/// The ratio of two spur gears.\npub fn ratio(a: u32, b: u32) -> f64 {\n    f64::from(a) / f64::from(b)\n}\n";

fn big_file(revised_line: Option<usize>) -> String {
    let mut s = String::new();
    for n in 1..=BIG_FILE_LINES as usize {
        if Some(n) == revised_line {
            s.push_str(&format!(
                "line {n}: this line was revised for widget number {n}\n"
            ));
        } else {
            s.push_str(&format!(
                "line {n}: the quick brown fox jumps over the lazy dog, widget number {n}\n"
            ));
        }
    }
    s
}

fn png(variant: u8) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    v.extend_from_slice(&[0, 0, 0, 13]);
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&[0, 0, 0, 32, 0, 0, 0, 32, 8, 6, 0, 0, 0]);
    v.extend_from_slice(&[0x73, 0x7a, 0x7a, 0xf4]);
    for i in 0..480u32 {
        v.push((ids::mix64("png", u64::from(i) + u64::from(variant) * 1000) & 0xff) as u8);
        if i.is_multiple_of(37) {
            v.push(0);
        }
    }
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(b"IEND");
    v.extend_from_slice(&[0xae, 0x42, 0x60, 0x82]);
    v
}

fn item_rs(n: usize, revision: usize) -> String {
    let mut s = format!("// Generated widget item {n}.\npub const ITEM_{n:03}: u32 = {n};\n");
    if revision > 0 {
        s.push_str(&format!("// revision {revision}\n"));
    }
    s
}

fn mainline(repo: &Repository, branch: &str) -> Vec<String> {
    // First-parent chain of a branch, oldest first.
    let mut out = Vec::new();
    let mut cur = repo.branch(branch).map(|b| b.target.clone());
    while let Some(h) = cur {
        let c = repo.commit(&h).expect("branch target exists");
        cur = c.parents.first().cloned();
        out.push(h);
    }
    out.reverse();
    out
}

fn build_widgets(p: &People) -> Repository {
    let start = unix(2024, 1, 8, 9, 0, 0);
    let mut h = HistoryBuilder::new("widgets", start, 16 * HOUR);
    let (a0, o0) = p.get(0);
    h.commit(
        "main",
        a0,
        o0,
        "Initial commit",
        &[
            write("README.md", readme(0)),
            write(
                "Cargo.toml",
                "[package]\nname = \"widgets\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            write(
                "src/lib.rs",
                "//! Widgets for the Acme platform.\n\npub mod widgets;\n",
            ),
            write(
                "src/main.rs",
                "fn main() {\n    println!(\"widgets\");\n}\n",
            ),
            write(".gitignore", "/target\n"),
            write(
                "LICENSE",
                "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n",
            ),
            write("CHANGELOG.md", "# Changelog\n\n"),
        ],
    );
    let mut counter_checked = false;
    for i in 1..=125usize {
        let (author, offset) = p.get(i);
        let msg = message(i);
        let edits: Vec<Edit> = match i {
            1 => vec![
                write("src/widgets/mod.rs", "pub mod counter;\npub mod gears;\n"),
                write("src/widgets/counter.rs", counter_rs(1, false)),
            ],
            2 => vec![
                write(
                    "docs/guide.md",
                    "# Guide\n\nStart with `Counter::new()`.\n\nThen tick it.\n",
                ),
                write(
                    "docs/old-notes.md",
                    "Old notes\n\n- counters used to be global\n- gears were floats\n",
                ),
            ],
            3 => vec![
                write(
                    "src/widgets/gears/mod.rs",
                    "pub mod helical;\npub mod spur;\n",
                ),
                write(NESTED_FILE, SPUR_RS),
                write(
                    "src/widgets/gears/helical.rs",
                    "//! Helical gears.\n\n/// The helix angle in degrees.\npub const ANGLE: f64 = 20.0;\n",
                ),
            ],
            4 => vec![write(
                "src/legacy.rs",
                "// Kept for compatibility with 0.0.x.\npub fn old_tick() {}\n",
            )],
            5 => vec![write(BINARY_FILE, png(1))],
            6 => vec![write(BIG_FILE, big_file(None))],
            7 => vec![write(
                CRLF_FILE,
                "@echo off\r\nrem Build the widgets on Windows\r\ncargo build --release\r\nif errorlevel 1 exit /b 1\r\necho done\r\n",
            )],
            8 => vec![write(
                "bitbucket-pipelines.yml",
                "image: rust:1.80\n\npipelines:\n  default:\n    - step:\n        name: Test\n        script:\n          - cargo test\n",
            )],
            9 => vec![
                write(
                    "config/settings.json",
                    "{\n  \"registry\": \"default\",\n  \"max_widgets\": 64\n}\n",
                ),
                write(
                    "tests/integration.rs",
                    "#[test]\nfn ticks() {\n    let mut c = widgets::widgets::counter::Counter::new();\n    c.tick();\n}\n",
                ),
            ],
            10..=21 => {
                let batch = i - 10;
                let mut e: Vec<Edit> = (1..=10)
                    .map(|k| {
                        let n = batch * 10 + k;
                        write(&format!("{GENERATED_DIR}/item_{n:03}.rs"), item_rs(n, 0))
                    })
                    .collect();
                let mods: String = (1..=(batch + 1) * 10)
                    .map(|n| format!("pub mod item_{n:03};\n"))
                    .collect();
                e.push(write(&format!("{GENERATED_DIR}/mod.rs"), mods));
                e
            }
            30 => vec![
                write(
                    "docs/architecture.md",
                    "# Architecture\n\nWidgets are plain structs.\nGears live in `src/widgets/gears`.\nNothing is global.\n",
                ),
                write("README.md", readme(i)),
                Edit::Delete("docs/old-notes.md".into()),
                Edit::Rename("docs/guide.md".into(), "docs/user-guide.md".into()),
                write(BINARY_FILE, png(2)),
            ],
            60 => vec![write(BIG_FILE, big_file(Some(1500)))],
            _ => match i % 5 {
                1 => vec![write(
                    "src/widgets/counter.rs",
                    counter_rs(i, counter_checked),
                )],
                2 => vec![Edit::Append(
                    NESTED_FILE.into(),
                    format!(
                        "\n/// Tooth count helper number {i}.\npub fn teeth_{i}(d: u32) -> u32 {{\n    d * {i}\n}}\n"
                    ),
                )],
                3 => vec![write("README.md", readme(i))],
                4 if i > 21 => {
                    let n = (i * 13) % 120 + 1;
                    vec![write(
                        &format!("{GENERATED_DIR}/item_{n:03}.rs"),
                        item_rs(n, i),
                    )]
                }
                _ => vec![Edit::Append(
                    "CHANGELOG.md".into(),
                    format!("- {}\n", subject(i)),
                )],
            },
        };
        let msg = if i == 30 {
            format!(
                "{MIXED_COMMIT_SUBJECT}\n\nMove the guide, drop the old notes, add an architecture page\nand refresh the logo."
            )
        } else {
            msg
        };
        h.commit("main", author, offset, &msg, &edits);

        match i {
            45 => {
                h.branch("hotfix/overflow", "main");
                let (a, o) = p.get(2);
                counter_checked = true;
                h.commit(
                    "hotfix/overflow",
                    a,
                    o,
                    "Fix counter overflow\n\nUse checked_add so that a counter saturates instead of panicking.",
                    &[write("src/widgets/counter.rs", counter_rs(41, true))],
                );
                let (a, o) = p.get(4);
                h.commit(
                    "main",
                    a,
                    o,
                    "Bump version to 0.4.0",
                    &[write(
                        "Cargo.toml",
                        "[package]\nname = \"widgets\"\nversion = \"0.4.0\"\nedition = \"2021\"\n",
                    )],
                );
                let (a, o) = p.get(0);
                h.merge(
                    "main",
                    "hotfix/overflow",
                    a,
                    o,
                    "Merge branch 'hotfix/overflow'",
                );
                h.delete_branch("hotfix/overflow");
            }
            50 => h.tag("v0.9.0", "main"),
            100 => h.tag("v1.0.0", "main"),
            110 => h.branch("develop", "main"),
            111 | 114 | 117 | 120 => {
                let (a, o) = p.get(i + 3);
                let edits = if i == 111 {
                    vec![write(
                        "src/widgets/experimental.rs",
                        "//! Experimental widgets, not yet stable.\npub struct Dial;\n",
                    )]
                } else {
                    vec![Edit::Append(
                        "src/widgets/experimental.rs".into(),
                        format!("pub struct Dial{i};\n"),
                    )]
                };
                h.commit("develop", a, o, &format!("Experimental dial {i}"), &edits);
            }
            122 => h.branch(SLASH_BRANCH, "main"),
            123 => {
                let (a, o) = p.get(1);
                h.commit(
                    SLASH_BRANCH,
                    a,
                    o,
                    "Add login module\n\nA first cut of the login flow.",
                    &[
                        write("src/auth/mod.rs", "pub mod login;\n"),
                        write(
                            SLASH_BRANCH_ONLY_FILE,
                            "//! Login.\n\n/// Checks a password.\npub fn login(user: &str, password: &str) -> bool {\n    !user.is_empty() && password.len() >= 12\n}\n",
                        ),
                    ],
                );
            }
            124 => {
                let (a, o) = p.get(1);
                h.commit(
                    SLASH_BRANCH,
                    a,
                    o,
                    "Wire login into lib",
                    &[write(
                        "src/lib.rs",
                        "//! Widgets for the Acme platform.\n\npub mod auth;\npub mod widgets;\n",
                    )],
                );
            }
            _ => {}
        }
    }
    let (commits, branches, tags) = h.finish();
    let last = commits.iter().map(|c| c.timestamp).max().unwrap_or(start);
    let mut repo = Repository::new(
        WIDGETS,
        "widgets",
        "Widgets for the Acme platform: counters, gears and more.",
        "rust",
        true,
        start * MICROS - 3 * DAY * MICROS + 123_456,
        (last + HOUR) * MICROS + 654_321,
        Some("main"),
        project("CORE", "Core"),
    );
    repo.set_history(commits, branches, tags);
    repo.pull_requests = widgets_pull_requests(&repo);
    review::add_pull_request_sources(&mut repo, &users());
    review::add_comments_and_statuses(&mut repo);
    repo.pipelines = widgets_pipelines(&repo);
    review::add_steps(&mut repo);
    repo
}

fn widgets_pull_requests(repo: &Repository) -> Vec<PullRequest> {
    let main = mainline(repo, "main");
    let develop_head = repo.branch("develop").expect("develop").target.clone();
    let login_head = repo.branch(SLASH_BRANCH).expect("login").target.clone();
    let main_head = repo.branch("main").expect("main").target.clone();
    let base = unix(2024, 1, 15, 10, 0, 0);
    let mut merged_seen = 0usize;
    (1..=80u64)
        .map(|id| {
            let n = id as usize;
            let mix = ids::mix64("pr", id);
            let state = if id == 79 {
                PrState::Open
            } else if id.is_multiple_of(13) {
                PrState::Superseded
            } else if id > 56 {
                PrState::Open
            } else if id % 7 == 3 {
                PrState::Declined
            } else {
                PrState::Merged
            };
            let author = (n * 3) % 5;
            let (source_branch, source_commit, title) = if id == 79 {
                (
                    SLASH_BRANCH.to_string(),
                    login_head.clone(),
                    "Add login flow".to_string(),
                )
            } else if id.is_multiple_of(10) {
                (
                    "develop".to_string(),
                    develop_head.clone(),
                    format!("Release develop into main ({id})"),
                )
            } else {
                let title = subject(n * 5 + 1);
                let slug = title.to_lowercase().replace(' ', "-");
                (
                    format!("feature/wid-{id}-{slug}"),
                    ids::sha(&format!("pr-source:{id}")),
                    title,
                )
            };
            let destination_branch = if source_branch != "develop" && id % 6 == 1 {
                "develop".to_string()
            } else {
                "main".to_string()
            };
            let (destination_commit, merge_commit) = if state == PrState::Merged {
                let idx = (10 + merged_seen * 2).min(main.len() - 1);
                merged_seen += 1;
                let merge = main[idx].clone();
                (main[idx - 1].clone(), Some(merge))
            } else if destination_branch == "develop" {
                (develop_head.clone(), None)
            } else {
                (main_head.clone(), None)
            };
            let created = base + n as i64 * 36 * HOUR + (mix % 7200) as i64;
            let updated = created + (mix % (20 * DAY as u64)) as i64 + 60;
            let reviewers: Vec<usize> = (0..n % 4).map(|j| (author + 1 + j) % 5).collect();
            // One pull request has more comments than get_pull_request returns.
            let comment_count = if id == 60 { 57 } else { (mix >> 8) as u32 % 12 };
            let mut participants: Vec<Participant> = reviewers
                .iter()
                .enumerate()
                .map(|(j, &u)| {
                    let state = match j {
                        0 => Some("approved"),
                        1 if state != PrState::Merged && id.is_multiple_of(3) => {
                            Some("changes_requested")
                        }
                        1 => Some("approved"),
                        _ => None,
                    };
                    Participant {
                        user: u,
                        role: "REVIEWER".into(),
                        state: state.map(str::to_string),
                        participated_on: state
                            .map(|_| (created + (j as i64 + 1) * HOUR) * MICROS + 111),
                    }
                })
                .collect();
            if comment_count > 3 {
                participants.push(Participant {
                    user: (author + 4) % 5,
                    role: "PARTICIPANT".into(),
                    state: None,
                    participated_on: Some((created + 5 * HOUR) * MICROS + 222),
                });
            }
            let closed_by = match state {
                PrState::Merged | PrState::Declined => Some((author + 2) % 5),
                _ => None,
            };
            PullRequest {
                id,
                title,
                description: format!(
                    "Closes WID-{id}.\n\nSee the linked issue for the background."
                ),
                state,
                draft: state == PrState::Open && id.is_multiple_of(9),
                author,
                source_branch,
                source_commit,
                destination_branch,
                destination_commit,
                merge_commit,
                closed_by,
                reason: if state == PrState::Declined {
                    "We went with a different approach.".into()
                } else {
                    String::new()
                },
                close_source_branch: id.is_multiple_of(2),
                comment_count,
                task_count: (mix >> 16) as u32 % 3,
                created_on: created * MICROS + (mix % 1_000_000) as i64,
                updated_on: updated * MICROS + ((mix >> 20) % 1_000_000) as i64,
                reviewers,
                participants,
                comments: Vec::new(),
            }
        })
        .collect()
}

fn widgets_pipelines(repo: &Repository) -> Vec<Pipeline> {
    let main = mainline(repo, "main");
    let develop = mainline(repo, "develop");
    let login = mainline(repo, SLASH_BRANCH);
    let tag = repo.tag("v1.0.0").expect("tag").target.clone();
    let base = unix(2024, 3, 1, 8, 0, 0);
    (1..=130u64)
        .map(|n| {
            let mix = ids::mix64("pipeline", n);
            let created = (base + n as i64 * 9 * HOUR) * MICROS + ((mix % 1000) as i64) * 1000;
            let pick = |chain: &[String]| chain[(n as usize * 7) % chain.len()].clone();
            let (ref_type, ref_name, commit, selector_type, selector_pattern) =
                if n.is_multiple_of(25) {
                    (Some("tag"), Some("v1.0.0"), tag.clone(), "tags", Some("v*"))
                } else if n.is_multiple_of(31) {
                    (None, None, pick(&main), "custom", Some("nightly-bench"))
                } else if n % 7 == 3 {
                    (
                        Some("branch"),
                        Some("develop"),
                        pick(&develop[develop.len() - 5..]),
                        "branches",
                        Some("develop"),
                    )
                } else if n % 9 == 4 {
                    (
                        Some("branch"),
                        Some(SLASH_BRANCH),
                        pick(&login[login.len() - 3..]),
                        "default",
                        None,
                    )
                } else {
                    (
                        Some("branch"),
                        Some("main"),
                        main[(n as usize * main.len()) / 131].clone(),
                        "branches",
                        Some("main"),
                    )
                };
            let trigger = if ref_type.is_none() || n.is_multiple_of(6) {
                Trigger::Manual
            } else if ref_name == Some("main") && n % 8 == 5 {
                Trigger::Schedule
            } else {
                Trigger::Push
            };
            let creator = (trigger != Trigger::Schedule).then_some(n as usize % 5);
            let state = match n {
                130 | 126 => PipelineState::Pending,
                129 | 127 => PipelineState::Running,
                128 => PipelineState::Paused,
                _ if n.is_multiple_of(17) => PipelineState::Completed(PipelineResult::Error),
                _ if n.is_multiple_of(13) => {
                    PipelineState::Completed(PipelineResult::Stopped((n as usize + 1) % 5))
                }
                _ if n.is_multiple_of(19) => PipelineState::Completed(PipelineResult::Expired),
                _ if n.is_multiple_of(5) => PipelineState::Completed(PipelineResult::Failed),
                _ => PipelineState::Completed(PipelineResult::Successful),
            };
            let (duration, completed_on) = match &state {
                PipelineState::Completed(_) => {
                    let d = 45 + mix % 900;
                    let queue = (5 + (mix >> 12) % 25) as i64;
                    (d, Some(created + (queue + d as i64) * MICROS + 345_000))
                }
                PipelineState::Running => (30 + n, None),
                PipelineState::Paused => (120, None),
                _ => (0, None),
            };
            Pipeline {
                uuid: ids::uuid(&format!("pipeline:widgets:{n}")),
                build_number: n,
                state,
                ref_type: ref_type.map(str::to_string),
                ref_name: ref_name.map(str::to_string),
                commit,
                selector_type: selector_type.into(),
                selector_pattern: selector_pattern.map(str::to_string),
                trigger,
                creator,
                created_on: created,
                completed_on,
                duration_in_seconds: duration,
                steps: Vec::new(),
                pull_request: None,
                spec_fields_only: false,
            }
        })
        .collect()
}

/// A handful of simple pipelines on `branch` of `repo`, all completed.
fn simple_pipelines(repo: &Repository, branch: &str, count: u64, start: i64) -> Vec<Pipeline> {
    let chain = mainline(repo, branch);
    (1..=count)
        .map(|n| {
            let created = (start + n as i64 * DAY) * MICROS + 250_000;
            let result = match n % 3 {
                0 => PipelineResult::Failed,
                _ => PipelineResult::Successful,
            };
            let d = 60 + n * 11;
            Pipeline {
                uuid: ids::uuid(&format!("pipeline:{}:{n}", repo.slug)),
                build_number: n,
                state: PipelineState::Completed(result),
                ref_type: Some("branch".into()),
                ref_name: Some(branch.into()),
                commit: chain[(n as usize) % chain.len()].clone(),
                selector_type: "default".into(),
                selector_pattern: None,
                trigger: Trigger::Push,
                creator: Some(n as usize % 5),
                created_on: created,
                completed_on: Some(created + (d as i64 + 10) * MICROS),
                duration_in_seconds: d,
                steps: Vec::new(),
                pull_request: None,
                spec_fields_only: false,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn small_repo(
    slug: &str,
    description: &str,
    language: &str,
    is_private: bool,
    mainbranch: &str,
    project: Project,
    start: i64,
    commits: &[(usize, &str, Vec<Edit>)],
) -> (Repository, HistoryBuilder) {
    let p = people();
    let mut h = HistoryBuilder::new(slug, start, 3 * DAY);
    for (who, msg, edits) in commits {
        let (a, o) = p.get(*who);
        h.commit(mainbranch, a, o, msg, edits);
    }
    let repo = Repository::new(
        slug,
        slug,
        description,
        language,
        is_private,
        (start - 2 * DAY) * MICROS + 101_010,
        0,
        Some(mainbranch),
        project,
    );
    (repo, h)
}

fn finish(mut repo: Repository, h: HistoryBuilder) -> Repository {
    let (commits, branches, tags) = h.finish();
    let last = commits.iter().map(|c| c.timestamp).max().unwrap_or(0);
    repo.updated_on = (last + 2 * HOUR) * MICROS + 424_242;
    repo.set_history(commits, branches, tags);
    repo
}

fn legacy_app() -> Repository {
    let (repo, mut h) = small_repo(
        LEGACY_APP,
        "The old billing application.",
        "python",
        true,
        "master",
        project("LEG", "Legacy"),
        unix(2019, 5, 6, 8, 30, 0),
        &[
            (
                0,
                "Initial import",
                vec![
                    write(
                        "README.rst",
                        "Legacy app\n==========\n\nThe old billing application.\n",
                    ),
                    write(
                        "setup.py",
                        "from setuptools import setup\n\nsetup(name=\"legacy-app\", version=\"1.0\")\n",
                    ),
                    write("requirements.txt", "requests==2.20.0\n"),
                    write("app/__init__.py", ""),
                ],
            ),
            (
                1,
                "Add invoice parsing",
                vec![write(
                    "app/billing.py",
                    "\"\"\"Billing.\"\"\"\n\n\ndef parse_invoice(raw):\n    \"\"\"Parse one invoice line.\"\"\"\n    number, amount = raw.split(\",\")\n    return number.strip(), float(amount)\n",
                )],
            ),
            (
                5,
                "Add helpers\n\nA couple of helpers used by billing.",
                vec![write(
                    "app/utils.py",
                    "\"\"\"Helpers.\"\"\"\n\n\ndef frobnicate(value):\n    \"\"\"Frobnicate a value.\"\"\"\n    return value[::-1]\n\n\ndef twice(value):\n    # frobnicate twice to get the original back\n    return frobnicate(frobnicate(value))\n",
                )],
            ),
            (
                2,
                "Test invoice parsing",
                vec![write(
                    "tests/test_billing.py",
                    "from app.billing import parse_invoice\n\n\ndef test_parse_invoice():\n    assert parse_invoice(\"A1, 2.5\") == (\"A1\", 2.5)\n",
                )],
            ),
            (
                4,
                "Bump requests",
                vec![write("requirements.txt", "requests==2.31.0\n")],
            ),
        ],
    );
    h.branch("release/2.x", "master");
    h.tag("2.0.0", "master");
    let p = people();
    let (a, o) = p.get(3);
    h.commit("release/2.x", a, o, "Backport invoice fix", &[write(
        "app/billing.py",
        "\"\"\"Billing.\"\"\"\n\n\ndef parse_invoice(raw):\n    \"\"\"Parse one invoice line.\"\"\"\n    number, amount = raw.split(\",\", 1)\n    return number.strip(), float(amount)\n",
    )]);
    let (a, o) = p.get(1);
    h.commit("master", a, o, "Handle empty invoices", &[write(
        "app/billing.py",
        "\"\"\"Billing.\"\"\"\n\n\ndef parse_invoice(raw):\n    \"\"\"Parse one invoice line.\"\"\"\n    if not raw:\n        return None\n    number, amount = raw.split(\",\", 1)\n    return number.strip(), float(amount)\n",
    )]);
    let mut repo = finish(repo, h);
    let master = mainline(&repo, "master");
    let release = repo.branch("release/2.x").expect("release").target.clone();
    let base = unix(2019, 6, 1, 12, 0, 0);
    repo.pull_requests = vec![
        (
            1,
            "Add invoice parsing",
            PrState::Merged,
            1usize,
            "feature/invoices",
            master[1].clone(),
            Some(master[1].clone()),
        ),
        (
            2,
            "Rewrite in Go",
            PrState::Declined,
            3,
            "experiment/go",
            ids::sha("legacy-pr-2"),
            None,
        ),
        (
            3,
            "Backport invoice fix to 2.x",
            PrState::Open,
            3,
            "release/2.x",
            release,
            None,
        ),
    ]
    .into_iter()
    .map(
        |(id, title, state, author, source, source_commit, merge)| PullRequest {
            id,
            title: title.into(),
            description: String::new(),
            state,
            draft: false,
            author,
            source_branch: source.into(),
            source_commit,
            destination_branch: "master".into(),
            destination_commit: master[0].clone(),
            merge_commit: merge,
            closed_by: (state != PrState::Open).then_some(0),
            reason: String::new(),
            close_source_branch: true,
            comment_count: id as u32,
            task_count: 0,
            created_on: (base + id as i64 * 5 * DAY) * MICROS + 1,
            updated_on: (base + id as i64 * 6 * DAY) * MICROS + 2,
            reviewers: vec![0],
            participants: vec![Participant {
                user: 0,
                role: "REVIEWER".into(),
                state: Some("approved".into()),
                participated_on: Some((base + id as i64 * 5 * DAY + HOUR) * MICROS),
            }],
            comments: Vec::new(),
        },
    )
    .collect();
    review::add_pull_request_sources(&mut repo, &users());
    review::add_comments_and_statuses(&mut repo);
    repo.pipelines = simple_pipelines(&repo, "master", 6, unix(2020, 1, 1, 0, 0, 0));
    review::add_steps(&mut repo);
    repo
}

fn website() -> Repository {
    let (repo, h) = small_repo(
        "website",
        "The public acme.example website.",
        "javascript",
        false,
        "main",
        project("WEB", "Web"),
        unix(2024, 9, 2, 10, 0, 0),
        &[
            (
                2,
                "Scaffold site",
                vec![
                    write(
                        "package.json",
                        "{\n  \"name\": \"website\",\n  \"private\": true\n}\n",
                    ),
                    write("README.md", "# Website\n\nRun `npm start`.\n"),
                    write(
                        "public/index.html",
                        "<!doctype html>\n<title>Acme</title>\n<div id=\"root\"></div>\n",
                    ),
                ],
            ),
            (
                3,
                "Add app entry point",
                vec![
                    write(
                        "src/app.js",
                        "import { Header } from './components/Header.jsx';\n\n// frobnicate the banner text before rendering\nexport function render(root) {\n  root.innerHTML = Header();\n}\n",
                    ),
                    write(
                        "src/components/Header.jsx",
                        "export function Header() {\n  return '<h1>Acme</h1>';\n}\n",
                    ),
                ],
            ),
            (
                6,
                "Add styles",
                vec![write("src/styles/main.css", "body {\n  margin: 0;\n}\n")],
            ),
            (
                0,
                "Render into #root",
                vec![Edit::Append(
                    "src/app.js".into(),
                    "\nrender(document.getElementById('root'));\n".into(),
                )],
            ),
        ],
    );
    // Names with spaces and unicode, and a file with tabs and trailing spaces: text that a
    // rendering for a model must carry unchanged.
    let mut h = h;
    let zoe = Author {
        name: "Zoë Ölund-Åberg".into(),
        email: "zoe@agency.example".into(),
        user: None,
    };
    h.commit(
        "main",
        &zoe,
        60,
        "Übersetze die Anleitung ins Deutsche\n\nFür Anfänger: «Café» statt \"Kaffee\".",
        &[
            write(
                UNICODE_FILE,
                "# Anleitung für Anfänger\n\nÖffne `index.html` — fertig. ☕\n",
            ),
            write(TABS_FILE, TABS_TEXT),
        ],
    );
    let mut repo = finish(repo, h);
    repo.name = WEBSITE_NAME.into();
    repo.pipelines = simple_pipelines(&repo, "main", 4, unix(2025, 1, 10, 0, 0, 0));
    review::add_steps(&mut repo);
    repo
}

fn api_gateway() -> Repository {
    let (repo, h) = small_repo(
        "api-gateway",
        "Routes public API calls to the services.",
        "go",
        true,
        "main",
        project("CORE", "Core"),
        unix(2022, 3, 14, 9, 0, 0),
        &[
            (
                3,
                "Initial gateway",
                vec![
                    write("go.mod", "module acme.example/api-gateway\n\ngo 1.22\n"),
                    write("main.go", "package main\n\nfunc main() {\n\tserve()\n}\n"),
                ],
            ),
            (
                1,
                "Add invoice route",
                vec![write(
                    "internal/billing/invoice.go",
                    "package billing\n\n// ParseInvoice parses one invoice line.\nfunc ParseInvoice(raw string) (string, error) {\n\treturn raw, nil\n}\n",
                )],
            ),
            (
                0,
                "Add router",
                vec![write(
                    "internal/router/router.go",
                    "package router\n\n// Routes lists the routes.\nvar Routes = []string{\"/invoice\"}\n",
                )],
            ),
            (
                5,
                "Log startup",
                vec![write(
                    "main.go",
                    "package main\n\nimport \"log\"\n\nfunc main() {\n\tlog.Println(\"starting\")\n\tserve()\n}\n",
                )],
            ),
        ],
    );
    let mut repo = finish(repo, h);
    repo.pipelines = simple_pipelines(&repo, "main", 2, unix(2023, 1, 1, 0, 0, 0));
    review::add_steps(&mut repo);
    repo
}

fn data_pipeline() -> Repository {
    let (repo, h) = small_repo(
        NO_PIPELINES_REPO,
        "Nightly ETL jobs.",
        "python",
        false,
        "master",
        project("DATA", "Data"),
        unix(2020, 7, 1, 7, 0, 0),
        &[
            (
                2,
                "Add ETL script",
                vec![
                    write("README.md", "# Data pipeline\n"),
                    write(
                        "etl.py",
                        "def run():\n    print(\"extract, transform, load\")\n",
                    ),
                ],
            ),
            (
                4,
                "Add daily DAG",
                vec![write("dags/daily.py", "SCHEDULE = \"@daily\"\n")],
            ),
            (
                2,
                "Load in batches",
                vec![write(
                    "etl.py",
                    "def run(batch=100):\n    print(\"extract, transform, load\", batch)\n",
                )],
            ),
        ],
    );
    let mut repo = finish(repo, h);
    repo.pipelines_enabled = false;
    repo
}

fn secret_infra() -> Repository {
    let (repo, h) = small_repo(
        SECRET_INFRA,
        "Infrastructure definitions. Restricted.",
        "shell",
        true,
        "main",
        project("OPS", "Operations"),
        unix(2021, 2, 1, 6, 0, 0),
        &[
            (
                0,
                "Add deploy script",
                vec![
                    write("README.md", "# Secret infra\n\nDo not share.\n"),
                    write("deploy.sh", "#!/bin/sh\nset -eu\nterraform apply\n"),
                ],
            ),
            (
                3,
                "Add load balancer",
                vec![write(
                    "terraform/main.tf",
                    "# frobnicate the load balancer settings on every deploy\nresource \"lb\" \"main\" {\n  name = \"acme\"\n}\n",
                )],
            ),
        ],
    );
    let mut repo = finish(repo, h);
    repo.pipelines = simple_pipelines(&repo, "main", 2, unix(2021, 3, 1, 0, 0, 0));
    review::add_steps(&mut repo);
    repo
}

fn empty_repo() -> Repository {
    let created = unix(2025, 2, 3, 4, 5, 6) * MICROS + 777;
    let mut repo = Repository::new(
        EMPTY_REPO,
        "empty-repo",
        "",
        "",
        false,
        created,
        created,
        None,
        project("CORE", "Core"),
    );
    repo.pipelines_enabled = false;
    repo
}

/// Builds the `acme` workspace.
pub fn acme() -> Workspace {
    let p = people();
    Workspace {
        slug: WORKSPACE.into(),
        name: "Acme Corp".into(),
        uuid: ids::uuid("workspace:acme"),
        users: users(),
        repositories: vec![
            legacy_app(),
            data_pipeline(),
            secret_infra(),
            api_gateway(),
            website(),
            build_widgets(&p),
            empty_repo(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widgets_has_what_the_tests_need() {
        let ws = acme();
        let w = ws.repository(WIDGETS).unwrap();
        let main = w.main_head().unwrap();
        assert!(w.log(&["main"], &[], None).unwrap().len() > 100);
        assert!(w.list_dir(main, GENERATED_DIR).unwrap().len() > 100);
        assert!(is_binary(main.tree.get(BINARY_FILE).unwrap()));
        let big = main.tree.get(BIG_FILE).unwrap();
        assert!(big.len() > 100 * 1024);
        assert_eq!(line_count(big), BIG_FILE_LINES);
        assert!(
            main.tree
                .get(CRLF_FILE)
                .unwrap()
                .windows(2)
                .any(|w| w == b"\r\n")
        );
        assert!(main.tree.contains_key(NESTED_FILE));
        let login = w.resolve(SLASH_BRANCH).unwrap();
        assert!(login.tree.contains_key(SLASH_BRANCH_ONLY_FILE));
        assert!(!main.tree.contains_key(SLASH_BRANCH_ONLY_FILE));
        assert!(w.resolve("v1.0.0").is_some());
        assert!(w.resolve("develop").is_some());
        assert_eq!(w.resolve(&main.hash[..7]).unwrap().hash, main.hash);

        let mixed = w
            .commits
            .iter()
            .find(|c| c.subject() == MIXED_COMMIT_SUBJECT)
            .unwrap();
        let statuses: std::collections::HashSet<_> =
            mixed.diffstat.iter().map(|d| d.status).collect();
        assert_eq!(statuses.len(), 4);
        assert!(mixed.diffstat.iter().any(|d| d.path() == BINARY_FILE
            && d.status == DiffStatus::Modified
            && d.lines_added == 0
            && d.lines_removed == 0));

        assert!(w.commits.iter().any(|c| c.parents.len() == 2));
        assert!(w.commits.iter().any(|c| c.author.user.is_none()));
        assert!(
            w.commits
                .iter()
                .any(|c| c.message.trim_end().contains('\n'))
        );

        assert!(w.pull_requests.len() > 60);
        for st in ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"] {
            assert!(
                w.pull_requests.iter().any(|p| p.state.as_str() == st),
                "{st}"
            );
        }
        assert!(
            w.pull_requests
                .iter()
                .any(|p| p.source_branch == SLASH_BRANCH)
        );
        assert!(w.pipelines.len() > 120);
        for st in [
            "PENDING", "BUILDING", "PAUSED", "PASSED", "FAILED", "ERROR", "STOPPED", "UNKNOWN",
        ] {
            assert!(
                w.pipelines
                    .iter()
                    .any(|p| p.state.status_filter_name() == st),
                "{st}"
            );
        }
    }

    #[test]
    fn abbreviated_hashes_are_unambiguous() {
        let ws = acme();
        for r in &ws.repositories {
            for c in &r.commits {
                assert_eq!(r.resolve(&c.hash[..7]).map(|x| &x.hash), Some(&c.hash));
            }
        }
    }

    #[test]
    fn path_filter_keeps_only_touching_commits() {
        let ws = acme();
        let w = ws.repository(WIDGETS).unwrap();
        let hits = w.log(&["main"], &[], Some(BIG_FILE)).unwrap();
        assert_eq!(hits.len(), 2);
        let dir_hits = w.log(&["main"], &[], Some("docs")).unwrap();
        assert!(dir_hits.iter().any(|c| c.subject() == MIXED_COMMIT_SUBJECT));
    }
}
