//! Deterministic identifiers: commit hashes, UUIDs and account ids derived from seed strings,
//! so that the sample data is the same on every run.

/// A 64-bit FNV-1a hash of `seed`, finished with a SplitMix64 round and mixed with `salt`.
pub fn mix64(seed: &str, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(h ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` lower-case hex digits derived from `seed`.
pub fn hex(seed: &str, n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    let mut salt = 0;
    while out.len() < n {
        out.push_str(&format!("{:016x}", mix64(seed, salt)));
        salt += 1;
    }
    out.truncate(n);
    out
}

/// A 40-hex-digit SHA-1-like hash derived from `seed`.
pub fn sha(seed: &str) -> String {
    hex(seed, 40)
}

/// A UUID in braces (`{xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx}`) derived from `seed`.
pub fn uuid(seed: &str) -> String {
    let h = hex(&format!("uuid:{seed}"), 32);
    format!(
        "{{{}-{}-4{}-8{}-{}}}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A `557058:`-style Atlassian account id derived from `seed`.
pub fn account_id(seed: &str) -> String {
    let u = uuid(&format!("account:{seed}"));
    format!("557058:{}", u.trim_matches(|c| c == '{' || c == '}'))
}

/// Percent-encodes braces the way Bitbucket does in links (`{` → `%7B`, `}` → `%7D`).
pub fn encode_braces(s: &str) -> String {
    s.replace('{', "%7B").replace('}', "%7D")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_is_40_hex_and_deterministic() {
        let a = sha("x");
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, sha("x"));
        assert_ne!(a, sha("y"));
    }

    #[test]
    fn uuid_has_braces_and_dashes() {
        let u = uuid("alice");
        assert_eq!(u.len(), 38);
        assert!(u.starts_with('{') && u.ends_with('}'));
        assert_eq!(u.matches('-').count(), 4);
    }
}
