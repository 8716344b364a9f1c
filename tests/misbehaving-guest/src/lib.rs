//! Exports the connector's interface, misbehaving on purpose: `list-repositories` traps,
//! `browse-repository` loops forever, `read-file` grows memory without bound, and
//! `search-code` answers normally, so a test can check that the host stops each bad call,
//! reports it as an error, and serves the next call.

wit_bindgen::generate!({ world: "connector", path: "../../wit" });

use exports::bitbucket::connector::tools::*;

struct Misbehaving;

export!(Misbehaving);

fn unused<T>() -> Result<T, ToolError> {
    Err(ToolError {
        kind: ErrorKind::InvalidInput,
        message: "not implemented by the misbehaving guest".into(),
    })
}

impl Guest for Misbehaving {
    fn list_repositories(
        _: Option<String>,
        _: Option<u32>,
        _: Option<String>,
    ) -> Result<RepositoryPage, ToolError> {
        panic!("the misbehaving guest traps on purpose")
    }

    fn browse_repository(
        _: Option<String>,
        _: Option<String>,
        _: Option<String>,
        _: Option<u32>,
        _: Option<String>,
    ) -> Result<DirectoryListing, ToolError> {
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn read_file(
        _: Option<String>,
        _: String,
        _: Option<String>,
        _: Option<u32>,
        _: Option<u32>,
    ) -> Result<FileContent, ToolError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 16 << 20]);
            std::hint::black_box(&hoard);
        }
    }

    fn search_code(
        query: String,
        _: Option<String>,
        _: Option<u32>,
        _: Option<String>,
    ) -> Result<SearchResults, ToolError> {
        Ok(SearchResults {
            results: vec![SearchHit {
                repo: "acme/echo".into(),
                path: "echo.txt".into(),
                matches: vec![SearchMatch {
                    line: 1,
                    text: query,
                }],
            }],
            next_page: None,
        })
    }

    fn list_commits(
        _: Option<String>,
        _: Option<String>,
        _: Option<String>,
        _: Option<u32>,
        _: Option<String>,
    ) -> Result<CommitPage, ToolError> {
        unused()
    }

    fn get_commit(_: Option<String>, _: String) -> Result<CommitDetail, ToolError> {
        unused()
    }

    fn list_pull_requests(
        _: Option<String>,
        _: Option<Vec<String>>,
        _: Option<u32>,
        _: Option<String>,
    ) -> Result<PullRequestPage, ToolError> {
        unused()
    }

    fn list_pipelines(
        _: Option<String>,
        _: Option<String>,
        _: Option<String>,
        _: Option<u32>,
        _: Option<String>,
    ) -> Result<PipelinePage, ToolError> {
        unused()
    }
}
