//! The component's export: each call reads the configuration from the environment, sends
//! through wasi:http, and runs one tool. No state survives between calls.

use crate::bindings::{
    BranchPage, CommitDetail, CommitPage, DirectoryListing, FileContent, Guest, PipelineDetail,
    PipelinePage, PullRequestDetail, PullRequestPage, RepositoryPage, SearchResults, ToolError,
};
use crate::config::Config;
use crate::tools::{self, Ctx};
use crate::wasi_http::WasiHttp;

struct Component;

crate::bindings::export!(Component with_types_in crate::bindings);

/// Runs `tool` with a fresh configuration and transport.
fn call<T>(tool: impl FnOnce(&Ctx) -> Result<T, ToolError>) -> Result<T, ToolError> {
    let config = Config::from_vars(|name| std::env::var(name).ok())?;
    let transport = WasiHttp {
        timeout_ns: config.timeout_seconds * 1_000_000_000,
    };
    let ctx = Ctx::new(&config, &transport);
    tool(&ctx)
}

impl Guest for Component {
    fn list_repositories(
        query: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<RepositoryPage, ToolError> {
        call(|ctx| tools::list_repositories::run(ctx, query, limit, page))
    }

    fn browse_repository(
        repo: Option<String>,
        path: Option<String>,
        branch: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<DirectoryListing, ToolError> {
        call(|ctx| tools::browse_repository::run(ctx, repo, path, branch, limit, page))
    }

    fn read_file(
        repo: Option<String>,
        path: String,
        branch: Option<String>,
        start_line: Option<u32>,
        end_line: Option<u32>,
    ) -> Result<FileContent, ToolError> {
        call(|ctx| tools::read_file::run(ctx, repo, path, branch, start_line, end_line))
    }

    fn search_code(
        query: String,
        repo: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<SearchResults, ToolError> {
        call(|ctx| tools::search_code::run(ctx, query, repo, limit, page))
    }

    fn list_commits(
        repo: Option<String>,
        branch: Option<String>,
        path: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<CommitPage, ToolError> {
        call(|ctx| tools::list_commits::run(ctx, repo, branch, path, limit, page))
    }

    fn get_commit(
        repo: Option<String>,
        commit: String,
        diff: Option<bool>,
        path: Option<String>,
    ) -> Result<CommitDetail, ToolError> {
        call(|ctx| tools::get_commit::run(ctx, repo, commit, diff, path))
    }

    fn list_pull_requests(
        repo: Option<String>,
        state: Option<Vec<String>>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<PullRequestPage, ToolError> {
        call(|ctx| tools::list_pull_requests::run(ctx, repo, state, limit, page))
    }

    fn list_pipelines(
        repo: Option<String>,
        branch: Option<String>,
        status: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<PipelinePage, ToolError> {
        call(|ctx| tools::list_pipelines::run(ctx, repo, branch, status, limit, page))
    }

    fn list_branches(
        repo: Option<String>,
        query: Option<String>,
        limit: Option<u32>,
        page: Option<String>,
    ) -> Result<BranchPage, ToolError> {
        call(|ctx| tools::list_branches::run(ctx, repo, query, limit, page))
    }

    fn get_pull_request(
        repo: Option<String>,
        id: u64,
        diff: Option<bool>,
        comments: Option<bool>,
    ) -> Result<PullRequestDetail, ToolError> {
        call(|ctx| tools::get_pull_request::run(ctx, repo, id, diff, comments))
    }

    fn get_pipeline(
        repo: Option<String>,
        pipeline: String,
        log_lines: Option<u32>,
    ) -> Result<PipelineDetail, ToolError> {
        call(|ctx| tools::get_pipeline::run(ctx, repo, pipeline, log_lines))
    }
}
