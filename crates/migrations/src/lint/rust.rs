//! Finds the string literals of a Rust source file (where the crates keep their SQL), skipping
//! comments, char literals and lifetimes.

/// A string literal's content, escapes blanked out (so `\n` does not glue two words together),
/// the same length in bytes as in the source, and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Literal {
    pub content: String,
    pub offset: usize,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii()
}

/// Every string literal of `text`: `"…"`, `r"…"`, `r#"…"#`, and their `b`/`c` forms.
pub(crate) fn string_literals(text: &str) -> Vec<Literal> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let at = |i: usize| bytes.get(i).copied();
    let mut literals = Vec::new();
    let mut i = 0;
    let mut after_ident = false;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        // Comments (block comments nest in Rust).
        if c == b'/' && next == Some(b'/') {
            i = text[i..].find('\n').map_or(n, |e| i + e);
            after_ident = false;
            continue;
        }
        if c == b'/' && next == Some(b'*') {
            let mut depth = 0usize;
            while i < n {
                if at(i) == Some(b'/') && at(i + 1) == Some(b'*') {
                    depth += 1;
                    i += 2;
                } else if at(i) == Some(b'*') && at(i + 1) == Some(b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            after_ident = false;
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…", cr"…".
        if !after_ident {
            let prefix = match (c, next) {
                (b'r', _) => Some(1),
                (b'b' | b'c', Some(b'r')) => Some(2),
                _ => None,
            };
            if let Some(prefix) = prefix {
                let mut j = i + prefix;
                while at(j) == Some(b'#') {
                    j += 1;
                }
                let hashes = j - i - prefix;
                if at(j) == Some(b'"') {
                    let start = j + 1;
                    let closing = format!("\"{}", "#".repeat(hashes));
                    let end = text[start..].find(&closing).map_or(n, |e| start + e);
                    literals.push(Literal {
                        content: text[start..end].to_owned(),
                        offset: start,
                    });
                    i = (end + closing.len()).min(n);
                    after_ident = false;
                    continue;
                }
            }
        }
        // Ordinary strings: "…", b"…", c"…".
        let quote = if c == b'"' {
            Some(i)
        } else if !after_ident && (c == b'b' || c == b'c') && next == Some(b'"') {
            Some(i + 1)
        } else {
            None
        };
        if let Some(quote) = quote {
            let start = quote + 1;
            let mut content = String::new();
            let mut j = start;
            let mut run = start;
            while let Some(b) = at(j) {
                if b == b'"' {
                    break;
                }
                if b == b'\\' {
                    content.push_str(&text[run..j]);
                    content.push(' ');
                    match at(j + 1) {
                        Some(b'\n') => {
                            content.push('\n');
                        }
                        Some(e) if e.is_ascii() => content.push(' '),
                        _ => {}
                    }
                    j = (j + 2).min(n);
                    // A non-ASCII byte after a backslash is not valid Rust; resynchronise.
                    while j < n && !text.is_char_boundary(j) {
                        j += 1;
                    }
                    run = j;
                } else {
                    j += 1;
                }
            }
            let end = j.min(n);
            content.push_str(&text[run.min(end)..end]);
            literals.push(Literal {
                content,
                offset: start,
            });
            i = (end + 1).min(n);
            after_ident = false;
            continue;
        }
        // Char literals ('x', '\n', '"') and lifetimes ('a).
        if c == b'\'' {
            if next == Some(b'\\') {
                let mut j = i + 3;
                while at(j).is_some_and(|b| b != b'\'') {
                    j += 1;
                }
                i = (j + 1).min(n);
            } else if let Some(ch) = text[i + 1..].chars().next() {
                let width = ch.len_utf8();
                i += if at(i + 1 + width) == Some(b'\'') {
                    2 + width
                } else {
                    1
                };
            } else {
                i += 1;
            }
            after_ident = false;
            continue;
        }
        after_ident = is_ident_byte(c);
        i += 1;
    }
    literals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(text: &str) -> Vec<String> {
        string_literals(text)
            .into_iter()
            .map(|literal| literal.content)
            .collect()
    }

    #[test]
    fn finds_plain_raw_and_byte_strings() {
        let source = r###"let a = "one"; let b = r"two"; let c = r#"th"ree"#; let d = b"four"; let e = br"five";"###;
        assert_eq!(
            contents(source),
            vec!["one", "two", "th\"ree", "four", "five"]
        );
    }

    #[test]
    fn skips_comments_chars_and_lifetimes() {
        let source = "// \"not\"\n/* \"no\" /* nested \"x\" */ */ fn f<'a>(x: &'a str) -> char { let q = '\"'; let e = '\\''; \"yes\" }";
        assert_eq!(contents(source), vec!["yes"]);
    }

    #[test]
    fn escapes_are_blanked_but_offsets_and_lines_are_kept() {
        let source = "x(\"a\\nb\\\n c\")";
        let literals = string_literals(source);
        assert_eq!(literals.len(), 1);
        assert_eq!(literals[0].content, "a  b \n c");
        assert_eq!(literals[0].offset, 3);
        assert_eq!(literals[0].content.len(), source.len() - 5);
    }

    #[test]
    fn identifiers_ending_in_r_or_b_are_not_prefixes() {
        assert_eq!(
            contents("for\"x\"; br#\"y\"#; var\"z\""),
            vec!["x", "y", "z"]
        );
        assert_eq!(contents("let r#type = 1; \"s\""), vec!["s"]);
    }
}
