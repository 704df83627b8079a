//! A small SQL lexer: enough of MySQL's lexical rules to tell keywords from comments, string
//! literals and quoted identifiers, and to split a script into statements.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword, an unquoted identifier or a number.
    Word,
    /// A `` `quoted` `` identifier.
    Quoted,
    /// A `'…'` or `"…"` string literal.
    Str,
    /// `->` or `->>`.
    Arrow,
    /// Any other single character.
    Punct,
}

/// One token and where it starts (a byte offset into the lexed text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub offset: usize,
}

impl Token<'_> {
    /// Whether this is the keyword `keyword` (unquoted, any case).
    pub fn is(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// Whether this is one of `keywords`.
    pub fn is_any(&self, keywords: &[&str]) -> bool {
        keywords.iter().any(|keyword| self.is(keyword))
    }

    /// Whether this is the punctuation `c`.
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.len() == c.len_utf8() && self.text.starts_with(c)
    }

    /// The identifier this token names: backticks removed, lowercased.
    pub fn identifier(&self) -> String {
        let name = match self.kind {
            Kind::Quoted => self
                .text
                .get(1..self.text.len().saturating_sub(1))
                .unwrap_or_default()
                .replace("``", "`"),
            _ => self.text.to_owned(),
        };
        name.to_lowercase()
    }
}

/// A comment: its text without the `--`, `#` or `/* */` markers, and where it starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comment<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// A lexed script.
#[derive(Debug, Default)]
pub(crate) struct Lexed<'a> {
    pub tokens: Vec<Token<'a>>,
    pub comments: Vec<Comment<'a>>,
}

/// One statement: its tokens (without the `;`) and the offset where it begins (just after the
/// previous statement's `;`, so comments above the statement belong to it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Statement<'t, 'a> {
    pub tokens: &'t [Token<'a>],
    pub start: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii()
}

/// Lexes `text`. Unterminated strings and comments run to the end of the text.
pub(crate) fn lex(text: &str) -> Lexed<'_> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let at = |i: usize| bytes.get(i).copied();
    let mut lexed = Lexed::default();
    let mut i = 0;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#'
            || (c == b'-'
                && next == Some(b'-')
                && at(i + 2).is_none_or(|b| b.is_ascii_whitespace()))
        {
            let body = if c == b'#' { i + 1 } else { i + 2 };
            let end = text[i..].find('\n').map_or(n, |e| i + e);
            lexed.comments.push(Comment {
                text: &text[body..end],
                offset: i,
            });
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            let end = text[i + 2..].find("*/").map_or(n, |e| i + 2 + e);
            lexed.comments.push(Comment {
                text: &text[i + 2..end],
                offset: i,
            });
            i = (end + 2).min(n);
        } else if c == b'\'' || c == b'"' || c == b'`' {
            let mut j = i + 1;
            while let Some(b) = at(j) {
                if b == b'\\' && c != b'`' {
                    j += 2;
                } else if b == c {
                    if at(j + 1) == Some(c) {
                        j += 2;
                    } else {
                        j += 1;
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            let j = j.min(n);
            let kind = if c == b'`' { Kind::Quoted } else { Kind::Str };
            lexed.tokens.push(Token {
                kind,
                text: &text[i..j],
                offset: i,
            });
            i = j;
        } else if c == b'-' && next == Some(b'>') {
            let len = if at(i + 2) == Some(b'>') { 3 } else { 2 };
            lexed.tokens.push(Token {
                kind: Kind::Arrow,
                text: &text[i..i + len],
                offset: i,
            });
            i += len;
        } else if is_word_byte(c) {
            let mut j = i + 1;
            while at(j).is_some_and(is_word_byte) {
                j += 1;
            }
            lexed.tokens.push(Token {
                kind: Kind::Word,
                text: &text[i..j],
                offset: i,
            });
            i = j;
        } else {
            lexed.tokens.push(Token {
                kind: Kind::Punct,
                text: &text[i..i + 1],
                offset: i,
            });
            i += 1;
        }
    }
    lexed
}

/// Splits tokens into statements at `;`. Empty statements are dropped.
pub(crate) fn statements<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<Statement<'t, 'a>> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut first = 0;
    for (index, token) in tokens.iter().enumerate() {
        if token.is_punct(';') {
            if index > first {
                statements.push(Statement {
                    tokens: &tokens[first..index],
                    start,
                });
            }
            start = token.offset + 1;
            first = index + 1;
        }
    }
    if tokens.len() > first {
        statements.push(Statement {
            tokens: &tokens[first..],
            start,
        });
    }
    statements
}

/// Splits `tokens` at commas outside parentheses.
pub(crate) fn split_top_level_commas<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut first = 0;
    for (index, token) in tokens.iter().enumerate() {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && token.is_punct(',') {
            parts.push(&tokens[first..index]);
            first = index + 1;
        }
    }
    parts.push(&tokens[first..]);
    parts.retain(|part| !part.is_empty());
    parts
}

/// The tokens inside the parenthesised group opening at `tokens[0]`, if it is `(`.
pub(crate) fn parenthesised<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<&'t [Token<'a>]> {
    if !tokens.first()?.is_punct('(') {
        return None;
    }
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate() {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                return Some(&tokens[1..index]);
            }
        }
    }
    Some(&tokens[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        lex(text)
            .tokens
            .iter()
            .map(|token| (token.kind, token.text))
            .collect()
    }

    #[test]
    fn comments_strings_and_quoted_identifiers_are_not_words() {
        let lexed = lex("pick 'a -- b', \"c;d\", `e``f` -- tail\n# hash\n/* block; */ x->>'$.y'");
        assert_eq!(
            lexed
                .tokens
                .iter()
                .map(|token| (token.kind, token.text))
                .collect::<Vec<_>>(),
            vec![
                (Kind::Word, "pick"),
                (Kind::Str, "'a -- b'"),
                (Kind::Punct, ","),
                (Kind::Str, "\"c;d\""),
                (Kind::Punct, ","),
                (Kind::Quoted, "`e``f`"),
                (Kind::Word, "x"),
                (Kind::Arrow, "->>"),
                (Kind::Str, "'$.y'"),
            ]
        );
        let comments: Vec<&str> = lexed.comments.iter().map(|c| c.text).collect();
        assert_eq!(comments, vec![" tail", " hash", " block; "]);
        assert_eq!(lexed.tokens[5].identifier(), "e`f");
    }

    #[test]
    fn escapes_and_doubled_quotes_stay_inside_strings() {
        assert_eq!(
            kinds(r"'it''s' 'a\'b' x"),
            vec![
                (Kind::Str, "'it''s'"),
                (Kind::Str, r"'a\'b'"),
                (Kind::Word, "x")
            ]
        );
    }

    #[test]
    fn double_dash_needs_a_space_to_be_a_comment() {
        assert_eq!(
            kinds("1--2"),
            vec![
                (Kind::Word, "1"),
                (Kind::Punct, "-"),
                (Kind::Punct, "-"),
                (Kind::Word, "2")
            ]
        );
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for text in ["'abc", "`abc", "/* abc", "-- abc", "a-", "a->", "\"\\"] {
            let _ = lex(text);
        }
    }

    #[test]
    fn statements_split_at_semicolons_and_remember_their_start() {
        let text = "create table a (id int); -- about b\nalter table b add c int;;";
        let lexed = lex(text);
        let statements = statements(&lexed.tokens);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].start, 0);
        assert_eq!(
            &text[statements[1].start..statements[1].start + 11],
            " -- about b"
        );
    }

    #[test]
    fn commas_inside_parentheses_do_not_split() {
        let lexed = lex("a decimal(10, 2), b int, (c, d)");
        let parts = split_top_level_commas(&lexed.tokens);
        assert_eq!(parts.len(), 3);
        let inner = parenthesised(parts[2]).map(<[Token<'_>]>::len);
        assert_eq!(inner, Some(3));
    }
}
