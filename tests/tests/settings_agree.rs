//! The host passes the component exactly the variables the component reads: host-demo's
//! pass-through list (plus the flag it sets itself in host-held credentials mode) equals the
//! connector's own list. A setting added to one side only would be silently ignored.

#[test]
fn host_demo_passes_exactly_the_variables_the_component_reads() {
    let mut host: Vec<&str> = host_demo::config::COMPONENT_VARS.to_vec();
    host.push("BITBUCKET_CREDENTIALS_FROM_HOST");
    host.sort_unstable();
    let mut component: Vec<&str> = bitbucket_connector::config::VARIABLES.to_vec();
    component.sort_unstable();
    assert_eq!(host, component);
}
