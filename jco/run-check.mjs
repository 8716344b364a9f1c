// Runs the jco-transpiled component (out/) in Node against a Bitbucket API (the fake one in
// scripts/jco-check.sh). The connection comes from the process environment (BITBUCKET_*),
// which preview2-shim passes to the component as its WASI environment, as every host does.
// Prints one JSON line: what each call returned, for the script to compare with host-demo.
import { tools } from './out/bitbucket_connector.js';

function fail(what, detail) {
  console.error(`jco check failed: ${what}: ${detail}`);
  process.exit(1);
}

// A WIT `err` is thrown as a ComponentError whose `payload` is the tool-error record.
function expectError(call) {
  try {
    call();
  } catch (e) {
    if (e.payload && typeof e.payload.kind === 'string') return e.payload;
    throw e;
  }
  fail('an error was expected', 'the call succeeded');
}

const started = Date.now();
const page = tools.listRepositories(undefined, 5, undefined);
if (page.repositories.length !== 5 || typeof page.nextPage !== 'string') {
  fail('listRepositories', JSON.stringify(page));
}

const file = tools.readFile('widgets', 'README.md', undefined, 1, 3);
if (file.repo !== 'acme/widgets' || file.lines.length !== 3 || file.lines[0].number !== 1) {
  fail('readFile', JSON.stringify(file));
}

const missing = expectError(() => tools.readFile('no-such-repo', 'README.md'));
if (missing.kind !== 'not-found') fail('readFile of a missing repository', JSON.stringify(missing));

// WIT u64 values (here the file size) arrive as BigInt, which JSON.stringify refuses; a
// replacer that turns them into numbers makes the result printable.
if (typeof file.size !== 'bigint') fail('readFile size', `a ${typeof file.size}, not a bigint`);
let bigintRefused = '';
try {
  JSON.stringify(file);
} catch (e) {
  bigintRefused = `${e.name}: ${e.message}`;
}
if (!bigintRefused) fail('JSON.stringify of a result with a u64', 'did not throw');
const bigintAsNumber = (_, v) => (typeof v === 'bigint' ? Number(v) : v);
const printable = JSON.parse(JSON.stringify(file, bigintAsNumber));
if (printable.size !== Number(file.size)) fail('the replacer', JSON.stringify(printable));

console.log(JSON.stringify({
  ms: Date.now() - started,
  slugs: page.repositories.map((r) => r.slug),
  readme_first_line: file.lines[0].text,
  error_kind: missing.kind,
  readme_size: printable.size,
  json_stringify_without_replacer: bigintRefused,
}));
