// Stands in for Spin's `fermyon:spin/variables@2.0.0` when the Spin component runs under
// `jco serve`: `get(name)` reads `SPIN_VARIABLE_<NAME>` from the environment, as Spin's
// environment-variable provider does. A name the environment does not set reads as "", the
// default spin.toml gives every variable but `bitbucket_workspace`.
export function get(name) {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) {
    throw Object.assign(new Error(`invalid variable name ${name}`), {
      payload: { tag: 'invalid-name', val: name },
    });
  }
  return process.env[`SPIN_VARIABLE_${name.toUpperCase()}`] ?? '';
}
