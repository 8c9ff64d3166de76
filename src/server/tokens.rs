//! Bearer tokens: read from a file, compared in constant time.

use crate::diagnostics::{Problem, ProblemKind};
use std::path::Path;
use subtle::ConstantTimeEq;

/// The tokens a client may present as `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct Tokens(Vec<Vec<u8>>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} hidden)", self.0.len())
    }
}

impl Tokens {
    /// The tokens of a file: one per line; blank lines and lines starting
    /// with `#` are skipped. A file with no token is an error.
    pub fn from_file(path: &Path) -> Result<Self, Problem> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::files::io_problem(path, &e))?;
        let tokens = Self::from_text(&text);
        if tokens.0.is_empty() {
            return Err(Problem::new(
                ProblemKind::Io,
                format!(
                    "{}: no token in the file (one token per line)",
                    path.display()
                ),
            ));
        }
        Ok(tokens)
    }

    /// The tokens of a text, one per line.
    pub fn from_text(text: &str) -> Self {
        Self(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(|line| line.as_bytes().to_vec())
                .collect(),
        )
    }

    /// Whether an `Authorization` header value carries one of the tokens.
    /// Every token is compared, each in constant time for its length.
    pub fn admits(&self, authorization: Option<&[u8]>) -> bool {
        let Some(given) = authorization.and_then(|value| {
            let (scheme, token) = value.split_at_checked(7)?;
            scheme.eq_ignore_ascii_case(b"bearer ").then_some(token)
        }) else {
            return false;
        };
        let mut admitted = subtle::Choice::from(0);
        for token in &self.0 {
            admitted |= token.as_slice().ct_eq(given);
        }
        admitted.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_token_with_the_bearer_scheme_is_admitted() {
        let tokens = Tokens::from_text("# ops\nalpha\n\n beta \n");
        assert!(tokens.admits(Some(b"Bearer alpha")));
        assert!(tokens.admits(Some(b"bearer beta")));
        assert!(!tokens.admits(Some(b"Bearer alph")));
        assert!(!tokens.admits(Some(b"Basic alpha")));
        assert!(!tokens.admits(Some(b"Bearer ")));
        assert!(!tokens.admits(None));
    }
}
