//! Field errors: what the API reports in a 422 problem document's `errors` array.

use serde::Serialize;

/// One invalid field, named by its dotted path (`origin.postal_code`, `parcels[0].weight_grams`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Dotted path of the field in the request body.
    pub field: String,
    /// What is wrong with it, in a sentence a developer can act on.
    pub message: String,
}

/// Every problem found in one request, collected so a client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records that a required field is absent.
    pub fn missing(&mut self, field: impl Into<String>) {
        self.add(field, "is required");
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded errors, in the order they were found.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// The recorded errors.
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded, the errors otherwise.
    pub fn finish<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// Joins a parent path and a child name: `join("origin", "city") == "origin.city"`.
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// Checks a required, trimmed, bounded text field and records what is wrong with it.
pub fn text(errors: &mut FieldErrors, field: &str, value: &str, max_chars: usize) {
    if value.trim().is_empty() {
        errors.add(field, "must not be empty");
    } else if value.chars().count() > max_chars {
        errors.add(field, format!("must be at most {max_chars} characters"));
    } else if value.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
    }
}

/// Like [`text`], for an optional field (`None` is fine).
pub fn optional_text(errors: &mut FieldErrors, field: &str, value: Option<&str>, max_chars: usize) {
    if let Some(value) = value {
        text(errors, field, value, max_chars);
    }
}
