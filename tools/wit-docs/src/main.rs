//! `wit-docs WIT IN.wasm OUT.wasm`: writes a copy of the component with the WIT package's doc
//! comments in a `package-docs` custom section, the way `wit-docs-inject` does for Wassette,
//! which reads tool and parameter descriptions from that section. The code, imports and
//! exports are untouched (hosts ignore custom sections).
//!
//! The section describes the source package (`bitbucket:connector`), not the `root` world a
//! decoder synthesises for a component, so `wasm-tools component wit` refuses the copy. That
//! is why the copy is a separate file and the main component stays without it.

use anyhow::{Context, Result, bail};
use wit_parser::{PackageMetadata, Resolve};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wit, input, output] = args.as_slice() else {
        bail!("usage: wit-docs WIT_FILE IN.wasm OUT.wasm");
    };
    let mut resolve = Resolve::default();
    let package = resolve
        .push_file(wit)
        .with_context(|| format!("parsing {wit}"))?;
    let docs = PackageMetadata::extract(&resolve, package).encode()?;

    let bytes = std::fs::read(input).with_context(|| format!("reading {input}"))?;
    let mut out = without_section(&bytes, PackageMetadata::SECTION_NAME)?;
    append_custom_section(&mut out, PackageMetadata::SECTION_NAME, &docs);
    std::fs::write(output, out).with_context(|| format!("writing {output}"))?;
    println!("{output}: {input} with {} bytes of WIT docs", docs.len());
    Ok(())
}

/// The binary without its top-level custom sections named `name`.
fn without_section(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!("not a WebAssembly binary");
    }
    let mut out = bytes[..8].to_vec();
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        let (size, used) = read_leb(&bytes[pos + 1..])?;
        let body = pos + 1 + used;
        let end = body + size as usize;
        if end > bytes.len() {
            bail!("truncated section at byte {start}");
        }
        let named_ours = id == 0 && {
            let (len, used) = read_leb(&bytes[body..end])?;
            bytes.get(body + used..body + used + len as usize) == Some(name.as_bytes())
        };
        if !named_ours {
            out.extend_from_slice(&bytes[start..end]);
        }
        pos = end;
    }
    Ok(out)
}

fn append_custom_section(out: &mut Vec<u8>, name: &str, payload: &[u8]) {
    let mut body = Vec::new();
    write_leb(&mut body, name.len() as u64);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    out.push(0);
    write_leb(out, body.len() as u64);
    out.extend_from_slice(&body);
}

fn read_leb(bytes: &[u8]) -> Result<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    bail!("bad LEB128 number")
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb_round_trips() {
        for n in [0u64, 1, 127, 128, 300, 16_384, u32::MAX as u64] {
            let mut buf = Vec::new();
            write_leb(&mut buf, n);
            assert_eq!(read_leb(&buf).unwrap(), (n, buf.len()));
        }
    }

    #[test]
    fn replaces_an_earlier_section_and_keeps_the_rest() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        append_custom_section(&mut module, "other", b"keep");
        append_custom_section(&mut module, "package-docs", b"old");
        let mut again = without_section(&module, "package-docs").unwrap();
        append_custom_section(&mut again, "package-docs", b"new");
        let mut expected = b"\0asm\x01\0\0\0".to_vec();
        append_custom_section(&mut expected, "other", b"keep");
        append_custom_section(&mut expected, "package-docs", b"new");
        assert_eq!(again, expected);
    }
}
