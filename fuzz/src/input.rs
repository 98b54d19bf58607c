//! Splitting one fuzz input into the values a harness needs: a leading selector byte, and
//! newline-separated fields. Each target documents its shape, and the seeds in
//! `corpus/<target>/` are written in it.

/// The first byte (0 when the input is empty) and the rest.
pub fn selector(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, &[]),
    }
}

/// The first `n - 1` lines (without their `\n`) and everything after them as the last field;
/// missing lines are empty.
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut rest = data;
    while out.len() + 1 < n {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                out.push(rest);
                rest = &[];
            }
        }
    }
    out.push(rest);
    out
}

/// The bytes as text, invalid UTF-8 replaced (the APIs take `String`s).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_lines_and_keep_the_tail() {
        assert_eq!(fields(b"a\nb\nc\nd", 3), vec![&b"a"[..], b"b", b"c\nd"]);
        assert_eq!(fields(b"a", 3), vec![&b"a"[..], b"", b""]);
        assert_eq!(selector(b""), (0, &b""[..]));
        assert_eq!(selector(b"\x03xy"), (3, &b"xy"[..]));
    }
}
