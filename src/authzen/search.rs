//! The search endpoints: which subjects, resources or actions the product
//! allows, over the entities its files define (its fixture and other
//! entity files) and the schema's actions, with the specification's
//! pagination.
//!
//! Results are in a fixed order (entities by id, actions in declaration
//! order). A page token names the last result given and a hash of the
//! request; the next page starts after that result in the snapshot being
//! served *then*. A token that outlives its snapshot (a reload between two
//! pages) therefore still works: results the new snapshot still allows are
//! neither repeated nor skipped, results it adds before the token's place
//! are not given (the specification allows both repeats and omissions).
//! A token sent with a changed request is refused (400).

use super::decide::Decider;
use super::document;
use super::rejection::Rejection;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cedar_policy::EntityUid;
use serde::Serialize;
use serde_json::{Map, Value};
use std::hash::{Hash, Hasher};

/// The most results one page holds (a larger `page.limit` is cut to it).
pub const MAX_PAGE: usize = 1000;

/// What is searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// Subjects that may do the action on the resource.
    Subject,
    /// Resources on which the subject may do the action.
    Resource,
    /// Actions the subject may do on the resource.
    Action,
}

/// One search result, serialized in the specification's member order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Found {
    /// A subject or resource: `type` as the request wrote it, then `id`.
    Entity {
        /// The type as the request wrote it.
        #[serde(rename = "type")]
        written_type: String,
        /// The entity's id.
        id: String,
    },
    /// An action: its `name`.
    Action {
        /// The action's id.
        name: String,
    },
}

/// The `page` member of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageOut {
    /// Empty on the last page.
    pub next_token: String,
    /// Results on this page.
    pub count: usize,
    /// Results in all.
    pub total: usize,
}

/// A search response: `page` (when paginated) first, then `results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResponse {
    /// Pagination, when the request had a `page` or the results span pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<PageOut>,
    /// The results of this page.
    pub results: Vec<Found>,
}

/// A request's `page` member.
#[derive(Debug, Default)]
struct PageIn {
    given: bool,
    limit: Option<usize>,
    token: Option<Token>,
}

/// Where a page starts: after the result `after` (at position `at` when it
/// was given), for the request whose hash is `request`.
#[derive(Debug, PartialEq, Eq)]
struct Token {
    request: u64,
    at: usize,
    after: String,
}

impl Token {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "1:{:016x}:{}:{}",
            self.request, self.at, self.after
        ))
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(4, ':');
        (parts.next()? == "1").then_some(())?;
        let request = u64::from_str_radix(parts.next()?, 16).ok()?;
        let at = parts.next()?.parse().ok()?;
        let after = parts.next()?.to_owned();
        Some(Self { request, at, after })
    }
}

/// Runs a search request (the body as JSON) against `decider`'s snapshot.
pub fn search(
    decider: &Decider<'_>,
    kind: SearchKind,
    body: &Value,
) -> Result<SearchResponse, Rejection> {
    let map = document::object(body, "")?;
    let page = page(map)?;
    let request_hash = hash_request(map);
    if let Some(token) = &page.token
        && token.request != request_hash
    {
        return Err(Rejection::bad_request(
            "`page.token` was given for another request: a request with a token must repeat the first page's subject, action, resource, context and limit",
        ));
    }
    let allowed = match kind {
        SearchKind::Subject | SearchKind::Resource => entities(decider, kind, map)?,
        SearchKind::Action => actions(decider, map)?,
    };
    Ok(paginate(
        allowed,
        kind != SearchKind::Action,
        &page,
        request_hash,
    ))
}

/// Every subject or resource of the searched type the product allows, in id order.
fn entities(
    decider: &Decider<'_>,
    kind: SearchKind,
    map: &Map<String, Value>,
) -> Result<Vec<Found>, Rejection> {
    let (searched, fixed, fixed_path) = match kind {
        SearchKind::Subject => ("subject", "resource", "resource"),
        _ => ("resource", "subject", "subject"),
    };
    let searched_ref = document::entity(required(map, searched)?, searched, false)?;
    let fixed_ref = document::entity(required(map, fixed)?, fixed, true)?;
    let action_name = document::action(required(map, "action")?, "action")?;
    let context = context(map)?;
    let action = decider.action(action_name, "action")?;
    let fixed_uid = decider.uid(&fixed_ref, fixed_ref.id.unwrap_or_default(), fixed_path)?;
    let searched_type = decider
        .uid(&searched_ref, "", searched)?
        .type_name()
        .clone();
    let overlay = decider.overlay(&[(&fixed_uid, fixed_ref.properties, fixed_path)])?;
    let mut found = Vec::new();
    for candidate in decider
        .snapshot()
        .directory()
        .entities_of_type(&searched_type)
    {
        let (principal, resource) = match kind {
            SearchKind::Subject => (candidate, &fixed_uid),
            _ => (&fixed_uid, candidate),
        };
        let answer = decider.answer(principal, &action, resource, context, overlay.as_ref())?;
        if answer.is_allowed() {
            found.push(Found::Entity {
                written_type: searched_ref.written_type.to_owned(),
                id: candidate.id().unescaped().to_owned(),
            });
        }
    }
    Ok(found)
}

/// Every schema action the product allows the subject on the resource, in
/// declaration order (actions that do not apply to their types are left out).
fn actions(decider: &Decider<'_>, map: &Map<String, Value>) -> Result<Vec<Found>, Rejection> {
    let subject = document::entity(required(map, "subject")?, "subject", true)?;
    let resource = document::entity(required(map, "resource")?, "resource", true)?;
    let context = context(map)?;
    let principal = decider.uid(&subject, subject.id.unwrap_or_default(), "subject")?;
    let resource_uid = decider.uid(&resource, resource.id.unwrap_or_default(), "resource")?;
    let overlay = decider.overlay(&[
        (&principal, subject.properties, "subject"),
        (&resource_uid, resource.properties, "resource"),
    ])?;
    let snapshot = decider.snapshot();
    let applicable: Vec<&EntityUid> = match snapshot.schema() {
        Some(schema) => snapshot
            .directory()
            .actions()
            .iter()
            .filter(|action| {
                schema
                    .actions_for_principal_and_resource(
                        principal.type_name(),
                        resource_uid.type_name(),
                    )
                    .any(|applies| applies == *action)
            })
            .collect(),
        None => Vec::new(),
    };
    let mut found = Vec::new();
    for action in applicable {
        let answer =
            decider.answer(&principal, action, &resource_uid, context, overlay.as_ref())?;
        if answer.is_allowed() {
            found.push(Found::Action {
                name: action.id().unescaped().to_owned(),
            });
        }
    }
    Ok(found)
}

fn required<'a>(map: &'a Map<String, Value>, member: &str) -> Result<&'a Value, Rejection> {
    map.get(member)
        .filter(|value| !value.is_null())
        .ok_or_else(|| Rejection::bad_request(format!("`{member}` is required")))
}

fn context(map: &Map<String, Value>) -> Result<Option<&Value>, Rejection> {
    match map.get("context") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => document::object(value, "context").map(|_| Some(value)),
    }
}

fn page(map: &Map<String, Value>) -> Result<PageIn, Rejection> {
    let Some(value) = map.get("page").filter(|value| !value.is_null()) else {
        return Ok(PageIn::default());
    };
    let page = document::object(value, "page")?;
    let limit = match page.get("limit") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(limit) => Some(usize::try_from(limit).unwrap_or(MAX_PAGE)),
            None => {
                return Err(Rejection::bad_request(format!(
                    "`page.limit` must be a non-negative integer, not {n}"
                )));
            }
        },
        Some(other) => {
            return Err(Rejection::bad_request(format!(
                "`page.limit` must be a non-negative integer, not {}",
                document::kind(other)
            )));
        }
    };
    let token = match page.get("token") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(Value::String(text)) => Some(Token::decode(text).ok_or_else(|| {
            Rejection::bad_request("`page.token` is not a token this server gave (send the `next_token` of the previous page as it was)")
        })?),
        Some(other) => {
            return Err(Rejection::bad_request(format!(
                "`page.token` must be a string, not {}",
                document::kind(other)
            )));
        }
    };
    Ok(PageIn {
        given: true,
        limit,
        token,
    })
}

/// A hash of what must stay the same from page to page: every member but
/// `page.token`.
fn hash_request(map: &Map<String, Value>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    for (key, value) in map {
        key.hash(&mut hasher);
        if key == "page" {
            if let Some(page) = value.as_object() {
                for (member, value) in page {
                    if member != "token" {
                        member.hash(&mut hasher);
                        value.to_string().hash(&mut hasher);
                    }
                }
            }
        } else {
            value.to_string().hash(&mut hasher);
        }
    }
    hasher.finish()
}

fn key(found: &Found) -> &str {
    match found {
        Found::Entity { id, .. } => id,
        Found::Action { name } => name,
    }
}

/// The page of `all` that `page` asks for.
fn paginate(all: Vec<Found>, sorted: bool, page: &PageIn, request: u64) -> SearchResponse {
    let total = all.len();
    let start = match &page.token {
        None => 0,
        // entities are in id order: start after the token's id, whatever
        // the snapshot holds now
        Some(token) if sorted => all.partition_point(|found| key(found) <= token.after.as_str()),
        Some(token) => match all.iter().position(|found| key(found) == token.after) {
            Some(at) => at + 1,
            // the action the token names is gone: continue from its place
            None => token.at.min(total),
        },
    };
    let size = match page.limit {
        Some(limit) if limit > 0 => limit.min(MAX_PAGE),
        _ => MAX_PAGE,
    };
    let end = start.saturating_add(size).min(total);
    let results: Vec<Found> = all.into_iter().skip(start).take(end - start).collect();
    let next_token = match results.last() {
        Some(last) if end < total => Token {
            request,
            at: end,
            after: key(last).to_owned(),
        }
        .encode(),
        _ => String::new(),
    };
    let paginated = page.given || !next_token.is_empty();
    SearchResponse {
        page: paginated.then_some(PageOut {
            next_token,
            count: results.len(),
            total,
        }),
        results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_it_was_written() {
        let token = Token {
            request: 0xdead_beef,
            at: 3,
            after: "a:b:c".to_owned(),
        };
        assert_eq!(Token::decode(&token.encode()), Some(token));
        assert_eq!(Token::decode("not a token"), None);
    }
}
