//! Where a policy or an entity was written, so reports and answers can point at it.

use crate::diagnostics::SourceFile;
use std::ops::Range;

/// Where a policy was written.
#[derive(Debug, Clone)]
pub struct PolicyOrigin {
    /// The file.
    pub file: SourceFile,
    /// Byte range of the policy's text in the file.
    pub span: Range<usize>,
}

/// Where an entity was written.
#[derive(Debug, Clone)]
pub struct EntityOrigin {
    /// The file.
    pub file: SourceFile,
    /// Byte range of (the start of) the entity in the file.
    pub span: Range<usize>,
}
