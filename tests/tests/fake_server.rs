//! Tests of the fake server itself over HTTP (no host or component needed): it must
//! behave as REFERENCE.md describes Bitbucket Cloud.

mod common;

use common::{get, http};
use fake_bitbucket::auth::base64_encode;
use fake_bitbucket::model::{PipelineResult, PipelineState, PrState};
use fake_bitbucket::sample::*;
use fake_bitbucket::{FakeBitbucket, Fault, SearchMode};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const REPO_404: &str = "The requested repository either does not exist or you do not have access. If you believe this repository exists and you have access, make sure you're authenticated.";

fn w(path: &str) -> String {
    format!("/2.0/repositories/acme/widgets{path}")
}

#[test]
fn json_content_type_and_auth() {
    let fake = FakeBitbucket::start();
    let r = get(&fake, "/2.0/repositories/acme");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let body = String::from_utf8(r.body.clone()).unwrap();
    assert!(
        body.contains("\": ") && body.contains(", \""),
        "Bitbucket separators: {body:.80}"
    );

    for auth in [None, Some("Bearer wrong"), Some("Basic !!!")] {
        let r = http(&fake, "GET", "/2.0/repositories/acme", auth, b"");
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json()["error"]["message"],
            "Token is invalid, expired, or not supported for this endpoint."
        );
    }
    let basic = format!(
        "Basic {}",
        base64_encode(b"dev@example.com:test-api-token-valid")
    );
    assert_eq!(
        http(&fake, "GET", "/2.0/repositories/acme", Some(&basic), b"").status,
        200
    );

    fake.expire_token("test-token-valid");
    assert_eq!(get(&fake, "/2.0/repositories/acme").status, 401);
}

#[test]
fn invisible_repositories_are_absent_and_404() {
    let fake = FakeBitbucket::start();
    let limited = Some("Bearer test-token-limited");
    let list = http(
        &fake,
        "GET",
        "/2.0/repositories/acme?pagelen=100",
        limited,
        b"",
    )
    .json();
    let slugs: Vec<&str> = list["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert!(!slugs.contains(&SECRET_INFRA));
    assert_eq!(slugs.len(), fake.workspace().repositories.len() - 1);
    let r = http(
        &fake,
        "GET",
        "/2.0/repositories/acme/secret-infra",
        limited,
        b"",
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["message"], REPO_404);
    assert_eq!(
        get(&fake, "/2.0/repositories/acme/secret-infra").status,
        200
    );
    let r = get(&fake, "/2.0/repositories/acme/nope/commits");
    assert_eq!(
        (r.status, r.json()["error"]["message"].clone()),
        (404, Value::from(REPO_404))
    );
}

#[test]
fn unknown_routes_say_no_api() {
    let fake = FakeBitbucket::start();
    for target in [
        "/2.0/nothing",
        "/2.0/repositories/acme/widgets/bogus",
        "/other",
        &w("/commit/feature/login"),
    ] {
        let r = get(&fake, target);
        assert_eq!(r.status, 404, "{target}");
        let e = r.json();
        assert_eq!(e["type"], "error");
        assert_eq!(e["error"]["message"], "Resource not found", "{target}");
        assert!(
            e["error"]["detail"]
                .as_str()
                .unwrap()
                .starts_with("There is no API hosted at this URL")
        );
    }
}

#[test]
fn repository_list_pages_with_next_links() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let mut url = "/2.0/repositories/acme?pagelen=3&fields=%2Bvalues.mainbranch".to_string();
    let mut slugs = Vec::new();
    loop {
        let page = get(&fake, &url).json();
        assert_eq!(page["size"], ws.repositories.len());
        slugs.extend(
            page["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["slug"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(n) => {
                assert!(
                    n.contains("fields=%2Bvalues.mainbranch") && n.contains("pagelen=3"),
                    "{n}"
                );
                url = n.strip_prefix(fake.origin()).unwrap().to_string();
            }
            None => break,
        }
    }
    let expected: Vec<String> = ws.repositories.iter().map(|r| r.slug.clone()).collect();
    assert_eq!(slugs, expected);
    let q = get(
        &fake,
        "/2.0/repositories/acme?q=name+~+%22APP%22&sort=-updated_on",
    )
    .json();
    assert_eq!(q["values"].as_array().unwrap().len(), 1);
    assert_eq!(q["values"][0]["slug"], LEGACY_APP);
    assert_eq!(q["values"][0]["mainbranch"]["name"], "master");
    let empty = get(&fake, "/2.0/repositories/acme/empty-repo").json();
    assert_eq!(empty["mainbranch"], Value::Null);
    assert_eq!(get(&fake, "/2.0/repositories/acme?pagelen=101").status, 400);
}

#[test]
fn src_directory_listing_file_and_meta() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = ws.repository(WIDGETS).unwrap();
    let head = repo.main_head().unwrap();

    // Root needs the trailing slash.
    assert_eq!(get(&fake, &w("/src/main")).status, 404);
    let root = get(&fake, &w("/src/main/?pagelen=100")).json();
    let listed: Vec<&str> = root["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = repo
        .list_dir(head, "")
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(root["values"][0]["commit"]["hash"], head.hash.as_str());

    // Paging a big directory.
    let page = get(
        &fake,
        &w(&format!(
            "/src/{}/{GENERATED_DIR}/?pagelen=100",
            &head.hash[..10]
        )),
    )
    .json();
    assert!(page["size"].as_u64().unwrap() > 100);
    // An opaque token (REFERENCE §2), percent-encoded: it holds `+`, `/` and `=`.
    let next = page["next"].as_str().unwrap();
    assert!(
        next.contains("pagelen=100&page=") && next.contains("%2B"),
        "{next}"
    );
    let second = get(&fake, &next[fake.origin().len()..]).json();
    assert_eq!(
        second["values"].as_array().unwrap().len() as u64,
        page["size"].as_u64().unwrap() - 100
    );

    // A raw file: extension-based content type without charset, attachment.
    let raw = get(&fake, &w(&format!("/src/main/{BINARY_FILE}")));
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("image/png"));
    assert!(
        raw.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(raw.body.as_slice(), head.tree[BINARY_FILE].as_slice());
    let meta = get(&fake, &w(&format!("/src/main/{BINARY_FILE}?format=meta"))).json();
    assert_eq!(meta["type"], "commit_file");
    assert_eq!(meta["attributes"], serde_json::json!(["binary"]));
    assert_eq!(meta["size"], head.tree[BINARY_FILE].len());
    assert_eq!(meta["commit"]["hash"], head.hash.as_str());
    let text_meta = get(&fake, &w("/src/HEAD/README.md?format=meta")).json();
    assert_eq!(text_meta["attributes"], serde_json::json!([]));
    let dir_meta = get(&fake, &w("/src/main/src/?format=meta")).json();
    assert_eq!(dir_meta["type"], "commit_directory");

    let missing = get(&fake, &w("/src/main/no/such.txt"));
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json()["error"]["message"],
        "No such file or directory: no/such.txt"
    );
    let bad = get(&fake, &w("/src/0000000/README.md"));
    assert_eq!(bad.json()["error"]["message"], "Commit not found");

    // GET …/src redirects to the main branch's root listing.
    let redirect = get(&fake, &w("/src"));
    assert_eq!(redirect.status, 302);
    assert!(
        redirect
            .header("location")
            .unwrap()
            .ends_with(&format!("/src/{}/", head.hash))
    );
}

#[test]
fn slash_branches_only_through_refs_or_hash() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let login = ws
        .repository(WIDGETS)
        .unwrap()
        .resolve(SLASH_BRANCH)
        .unwrap();
    for target in [
        w(&format!("/src/feature/login/{SLASH_BRANCH_ONLY_FILE}")),
        w(&format!("/src/feature%2Flogin/{SLASH_BRANCH_ONLY_FILE}")),
    ] {
        assert_eq!(get(&fake, &target).status, 404, "{target}");
    }
    for target in [
        w("/refs/branches/feature/login"),
        w("/refs/branches/feature%2Flogin"),
    ] {
        let b = get(&fake, &target).json();
        assert_eq!(b["name"], SLASH_BRANCH);
        assert_eq!(b["target"]["hash"], login.hash.as_str());
    }
    let file = get(
        &fake,
        &w(&format!("/src/{}/{SLASH_BRANCH_ONLY_FILE}", login.hash)),
    );
    assert_eq!(file.status, 200);
    assert_eq!(get(&fake, &w("/commits/feature/login")).status, 404);
    assert_eq!(get(&fake, &w("/refs/branches/nope")).status, 404);
}

#[test]
fn commits_iterate_with_opaque_pages() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = ws.repository(WIDGETS).unwrap();
    let expected: Vec<String> = repo
        .log(&["main"], &[], None)
        .unwrap()
        .iter()
        .map(|c| c.hash.clone())
        .collect();
    let first = get(&fake, &w("/commits/main")).json();
    assert_eq!(first["pagelen"], 30);
    assert!(first.get("size").is_none() && first.get("page").is_none());
    let next = first["next"].as_str().unwrap();
    let token = next.rsplit("page=").next().unwrap();
    assert_ne!(token, "2");
    let second = get(&fake, next.strip_prefix(fake.origin()).unwrap()).json();
    let hashes: Vec<&str> = first["values"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["values"].as_array().unwrap())
        .map(|c| c["hash"].as_str().unwrap())
        .collect();
    assert_eq!(
        hashes,
        expected[..60]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );

    let by_path = get(&fake, &w(&format!("/commits/main?path={BIG_FILE}"))).json();
    assert_eq!(
        by_path["values"].as_array().unwrap().len(),
        repo.log(&["main"], &[], Some(BIG_FILE)).unwrap().len()
    );
    let only_login = get(&fake, &w("/commits?include=feature/login&exclude=main")).json();
    assert_eq!(only_login["values"].as_array().unwrap().len(), 2);
    assert_eq!(get(&fake, &w("/commits/nope")).status, 404);
    assert_eq!(get(&fake, &w("/commits/main?pagelen=101")).status, 400);

    let c = get(&fake, &w(&format!("/commit/{}", &expected[5][..7]))).json();
    assert_eq!(c["hash"], expected[5].as_str());
    assert_eq!(c["participants"], serde_json::json!([]));
    let trailing = get(&fake, &w(&format!("/commit/{}/", expected[5])));
    assert_eq!(trailing.status, 404);
    assert_eq!(
        trailing.json()["data"]["shas"][0],
        format!("{}/", expected[5])
    );
}

#[test]
fn diffstat_statuses_and_limits() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = ws.repository(WIDGETS).unwrap();
    let mixed = repo
        .commits
        .iter()
        .find(|c| c.subject() == MIXED_COMMIT_SUBJECT)
        .unwrap();
    let d = get(&fake, &w(&format!("/diffstat/{}", mixed.hash))).json();
    assert_eq!(d["pagelen"], 500);
    let values = d["values"].as_array().unwrap();
    assert_eq!(values.len(), mixed.diffstat.len());
    let status = |s: &str| {
        values
            .iter()
            .find(|v| v["status"] == s)
            .unwrap_or_else(|| panic!("{s}"))
    };
    assert_eq!(status("added")["old"], Value::Null);
    assert_eq!(status("removed")["new"], Value::Null);
    assert_eq!(status("renamed")["old"]["path"], "docs/guide.md");
    let png = values
        .iter()
        .find(|v| v["new"]["path"] == BINARY_FILE)
        .unwrap();
    assert_eq!(
        (png["lines_added"].as_u64(), png["lines_removed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        get(&fake, &w(&format!("/diffstat/{}?pagelen=5001", mixed.hash))).status,
        400
    );
    assert_eq!(
        get(&fake, &w(&format!("/diffstat/{}?pagelen=5000", mixed.hash))).status,
        200
    );
}

#[test]
fn pull_requests_list_and_detail() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = ws.repository(WIDGETS).unwrap();
    let open = repo
        .pull_requests
        .iter()
        .filter(|p| p.state == PrState::Open)
        .count();
    let page = get(&fake, &w("/pullrequests?pagelen=50")).json();
    assert_eq!(page["size"], open);
    let first = &page["values"][0];
    assert_eq!(first["state"], "OPEN");
    assert!(
        first.get("reviewers").is_none()
            && first.get("participants").is_none()
            && first.get("rendered").is_none()
    );
    assert_eq!(
        first["source"]["commit"]["hash"].as_str().unwrap().len(),
        12
    );
    assert!(
        first["links"]["html"]["href"]
            .as_str()
            .unwrap()
            .contains("/pull-requests/")
    );

    assert_eq!(get(&fake, &w("/pullrequests?pagelen=51")).status, 400);
    let with = get(&fake, &w("/pullrequests?state=MERGED&state=DECLINED&fields=%2Bvalues.reviewers,%2Bvalues.participants&sort=-updated_on&pagelen=50")).json();
    let values = with["values"].as_array().unwrap();
    assert!(
        values
            .iter()
            .all(|v| v["reviewers"].is_array() && v["participants"].is_array())
    );
    assert!(
        values
            .iter()
            .all(|v| v["state"] == "MERGED" || v["state"] == "DECLINED")
    );
    let times: Vec<&str> = values
        .iter()
        .map(|v| v["updated_on"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|t| t[0] >= t[1]));
    let q = get(&fake, &w("/pullrequests?q=state+%3D+%22SUPERSEDED%22")).json();
    assert_eq!(
        q["size"],
        repo.pull_requests
            .iter()
            .filter(|p| p.state == PrState::Superseded)
            .count()
    );

    let pr = repo
        .pull_requests
        .iter()
        .find(|p| !p.reviewers.is_empty())
        .unwrap();
    let detail = get(&fake, &w(&format!("/pullrequests/{}", pr.id))).json();
    assert_eq!(
        detail["reviewers"].as_array().unwrap().len(),
        pr.reviewers.len()
    );
    assert!(
        detail["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["role"] == "REVIEWER")
    );
}

#[test]
fn pipelines_sorting_filters_and_states() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = ws.repository(WIDGETS).unwrap();
    let oldest = get(&fake, &w("/pipelines/?pagelen=5")).json();
    assert_eq!(oldest["values"][0]["build_number"], 1);
    let newest = get(&fake, &w("/pipelines/?pagelen=5&sort=-created_on")).json();
    assert_eq!(newest["values"][0]["build_number"], repo.pipelines.len());
    let created = newest["values"][0]["created_on"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2024-01-01T00:00:00.000Z".len(),
        "{created}"
    );
    assert_eq!(newest["size"], repo.pipelines.len());

    let failed = get(&fake, &w("/pipelines/?status=FAILED&pagelen=100")).json();
    let n_failed = repo
        .pipelines
        .iter()
        .filter(|p| p.state == PipelineState::Completed(PipelineResult::Failed))
        .count();
    assert_eq!(failed["size"], n_failed);
    assert!(
        failed["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["state"]["result"]["name"] == "FAILED")
    );
    let passed = get(
        &fake,
        &w("/pipelines/?status=PASSED&target.branch=develop&pagelen=100"),
    )
    .json();
    assert!(
        passed["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["state"]["result"]["name"] == "SUCCESSFUL"
                && p["target"]["ref_name"] == "develop")
    );
    let building = get(&fake, &w("/pipelines/?status=BUILDING")).json();
    assert!(
        building["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["state"]["stage"]["name"] == "RUNNING")
    );
    assert_eq!(get(&fake, &w("/pipelines/?status=SUCCESSFUL")).status, 400);
    let sched = get(&fake, &w("/pipelines/?trigger_type=SCHEDULED&pagelen=100")).json();
    assert!(
        sched["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["trigger"]["name"] == "SCHEDULE" && p.get("creator").is_none())
    );
    assert_eq!(get(&fake, &w("/pipelines/?pagelen=0")).status, 400);
    assert_eq!(get(&fake, &w("/pipelines/?pagelen=101")).status, 400);
    assert_eq!(
        get(&fake, "/2.0/repositories/acme/data-pipeline/pipelines/").status,
        404
    );
    fake.disable_pipelines(WIDGETS);
    assert_eq!(get(&fake, &w("/pipelines/")).status, 404);
}

#[test]
fn code_search() {
    let fake = FakeBitbucket::start();
    let r = get(
        &fake,
        &format!("/2.0/workspaces/acme/search/code?search_query={SEARCH_WORD}&pagelen=100"),
    )
    .json();
    let values = r["values"].as_array().unwrap();
    assert!(values.len() >= 4);
    assert!(values.iter().all(|v| v["file"].get("commit").is_none()));
    assert!(values.iter().all(|v| {
        v["content_matches"][0]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| {
                l["segments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["match"] == true)
            })
    }));

    let with_repo = get(&fake, &format!("/2.0/workspaces/acme/search/code?search_query={SEARCH_WORD}+repo:legacy-app&fields=%2Bvalues.file.commit.repository")).json();
    let values = with_repo["values"].as_array().unwrap();
    assert!(!values.is_empty());
    assert!(
        values
            .iter()
            .all(|v| v["file"]["commit"]["repository"]["full_name"] == "acme/legacy-app")
    );
    assert!(
        values.iter().all(|v| v["file"]["commit"]["repository"]
            .get("mainbranch")
            .is_none()),
        "the condensed repository has no main branch unless it is asked for"
    );
    let with_main = get(&fake, &format!("/2.0/workspaces/acme/search/code?search_query={SEARCH_WORD}+repo:legacy-app&fields=%2Bvalues.file.commit.repository,%2Bvalues.file.commit.repository.mainbranch.name")).json();
    let values = with_main["values"].as_array().unwrap();
    assert!(!values.is_empty());
    assert!(
        values
            .iter()
            .all(|v| v["file"]["commit"]["repository"]["mainbranch"]["name"] == "master"),
        "{with_main}"
    );

    fake.set_search(SearchMode::Disabled);
    let off = get(&fake, "/2.0/workspaces/acme/search/code?search_query=x");
    assert_eq!(off.status, 404);
    assert_eq!(
        off.json()["error"]["message"],
        "Search is not enabled for the requested workspace, navigate to https://bitbucket.org/search to turn it on"
    );
    fake.set_search(SearchMode::Forbidden);
    assert_eq!(
        get(&fake, "/2.0/workspaces/acme/search/code?search_query=x").status,
        403
    );
}

#[test]
fn faults_apply_and_expire() {
    let fake = FakeBitbucket::start();
    fake.fail_next("/pullrequests", Fault::RateLimited, 2);
    for _ in 0..2 {
        let r = get(&fake, &w("/pullrequests"));
        assert_eq!(r.status, 429);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert!(r.header("retry-after").is_none());
        assert_eq!(r.body, b"Rate limit for this resource has been exceeded");
    }
    assert_eq!(get(&fake, &w("/pullrequests")).status, 200);

    fake.fail_always("/commits", Fault::missing_scope("repository"));
    let r = get(&fake, &w("/commits"));
    assert_eq!(r.status, 403);
    assert!(r.json()["error"]["detail"]["required"].is_array());
    fake.clear_faults();

    fake.fail_next("/refs", Fault::Huge(3_000_000), 1);
    let r = get(&fake, &w("/refs/branches"));
    assert_eq!(r.body.len(), 3_000_000);
    fake.fail_next("/refs", Fault::GarbageJson, 1);
    let r = get(&fake, &w("/refs/branches"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    fake.fail_next(
        "/refs",
        Fault::Redirect("http://elsewhere.invalid/".into()),
        1,
    );
    assert_eq!(get(&fake, &w("/refs/branches")).status, 302);
    fake.fail_next("/refs", Fault::Stall(Duration::from_secs(5)), 1);
    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    write!(
        s,
        "GET {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token-valid\r\n\r\n",
        w("/refs/branches")
    )
    .unwrap();
    let mut buf = [0u8; 16];
    assert!(
        s.read(&mut buf).is_err(),
        "a stalled request gets no answer"
    );
    let stalled = fake.requests().into_iter().last().unwrap();
    assert!(stalled.completed.is_none());
}

#[test]
fn latency_lets_parallel_requests_overlap() {
    let fake = FakeBitbucket::start();
    fake.set_latency(Duration::from_millis(200));
    std::thread::scope(|s| {
        s.spawn(|| get(&fake, &w("/commit/main")));
        s.spawn(|| get(&fake, &w("/diffstat/main")));
    });
    let log = fake.requests();
    assert_eq!(log.len(), 2);
    assert!(log[0].overlaps(&log[1]));
    assert_eq!(
        log[0].header("authorization"),
        Some("Bearer test-token-valid")
    );
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[test]
fn oauth_refresh_grant() {
    let fake = FakeBitbucket::start();
    let client = format!(
        "Basic {}",
        base64_encode(b"test-client-id:test-client-secret")
    );
    let r = http(
        &fake,
        "POST",
        "/site/oauth2/access_token",
        Some(&client),
        b"grant_type=refresh_token&refresh_token=test-refresh-token",
    );
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7200);
    let token = body["access_token"].as_str().unwrap();
    let ok = http(
        &fake,
        "GET",
        "/2.0/repositories/acme",
        Some(&format!("Bearer {token}")),
        b"",
    );
    assert_eq!(ok.status, 200);
    let bad = http(
        &fake,
        "POST",
        "/site/oauth2/access_token",
        Some(&client),
        b"grant_type=refresh_token&refresh_token=nope",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"], "invalid_grant");
}
