//! rolegrid's expectation format (`*.test.yaml`): matrix rows and cases.

use super::fixture::{Fixture, short_uid};
use super::item::{Item, ItemKind, Requests};
use super::model::{
    Check, Expected, ReasonMatch, as_expectation, location_of, parse_decision, problem_at,
};
use super::row::{InvalidRequest, RowAction, RowAsk, RowPlan, Who, same_tenant};
use crate::diagnostics::text::error_chain;
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::limits::Limits;
use crate::request::RequestSpec;
use crate::snapshot::Snapshot;
use crate::store::with_entity_values;
use crate::yaml::{span_of, yaml_problem};
use cedar_policy::{Context, Decision, Entities, EntityTypeName, EntityUid};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    tenant: Option<Spanned<String>>,
    #[serde(default)]
    matrix: Option<Vec<Spanned<RawRow>>>,
    #[serde(default)]
    cases: Option<Vec<Spanned<RawCase>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    name: Option<String>,
    source: Option<String>,
    action: Spanned<serde_json::Value>,
    resource: Spanned<String>,
    allow: Spanned<Vec<Spanned<String>>>,
    principals: Option<Vec<Spanned<String>>>,
    context: Option<Spanned<serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Option<String>,
    source: Option<String>,
    principal: Spanned<String>,
    action: Spanned<String>,
    resource: Spanned<String>,
    context: Option<Spanned<serde_json::Value>>,
    entities: Option<Vec<Spanned<serde_json::Value>>>,
    decision: Spanned<String>,
    reasons: Option<Vec<String>>,
    errors: Option<usize>,
}

/// YAML options as the store uses them: duplicate keys are errors, only
/// `true`/`false` are booleans.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// What every row and case of one file shares.
struct Ctx<'a> {
    snapshot: &'a Snapshot,
    fixture: &'a Fixture<'a>,
    file: &'a SourceFile,
    tenant: Option<EntityTypeName>,
    /// For rows of a file without `tenant:` in a fixture of several tenants.
    tenant_hint: Option<String>,
}

impl Ctx<'_> {
    fn span(&self, location: &serde_saphyr::Location) -> Range<usize> {
        span_of(self.file, location)
    }

    fn problem(
        &self,
        location: &serde_saphyr::Location,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Problem {
        problem_at(self.file, self.span(location), message, label)
    }

    /// An action written as an id or a uid, checked against the schema; the
    /// problem at `location` lists the schema's actions.
    fn action(&self, text: &str, location: &serde_saphyr::Location) -> Result<EntityUid, Problem> {
        self.fixture.action(text).map_err(|message| {
            self.problem(location, message, "this action")
                .with_help(format!(
                    "the schema's actions: {}",
                    self.fixture.action_ids().join(", ")
                ))
        })
    }

    fn tenants(&self, entities: &Entities, uid: &EntityUid) -> Vec<EntityUid> {
        match &self.tenant {
            Some(t) => self.fixture.tenants_of(entities, uid, t),
            None => Vec::new(),
        }
    }

    fn roles_help(&self) -> String {
        if self.fixture.roles().is_empty() {
            format!(
                "the fixture has no `{}Role` entities",
                ns_prefix(self.fixture.namespace())
            )
        } else {
            format!("the fixture's roles: {}", self.fixture.roles().join(", "))
        }
    }
}

fn ns_prefix(namespace: &str) -> String {
    if namespace.is_empty() {
        String::new()
    } else {
        format!("{namespace}::")
    }
}

/// A saphyr error as an expectation problem at its place.
fn parse_problem(file: &SourceFile, error: &serde_saphyr::Error) -> Problem {
    let text = error.without_snippet().to_string();
    let mut message = text.lines().next().unwrap_or_default().to_owned();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    let problem = Problem::new(
        ProblemKind::Expectation,
        format!("invalid expectation file: {message}"),
    )
    .in_file(file)
    .with_help(
        "an expectation file has `tenant:`, `matrix:` (rows: action, resource, allow, and optionally principals, context, source, name) and `cases:` (name, source, principal, action, resource, context, entities, decision, reasons, errors)",
    );
    match error.location() {
        Some(location) => problem.at(span_of(file, &location), "here"),
        None => problem,
    }
}

/// Loads one `*.test.yaml` file.
pub(super) fn load(
    snapshot: &Snapshot,
    fixture: &Fixture,
    file: &SourceFile,
) -> Result<Vec<Item>, Problems> {
    if file.text().trim().is_empty() {
        return Err(Problem::new(
            ProblemKind::Expectation,
            format!("{} is empty", file.path().display()),
        )
        .in_file(file)
        .with_help("write `matrix:` rows and/or `cases:`, or delete the file")
        .into());
    }
    let raw: RawFile =
        serde_saphyr::from_str_with_options(file.text(), yaml_options()).map_err(|e| {
            // YAML syntax errors read as such; otherwise the shape is wrong
            match serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(
                file.text(),
                yaml_options(),
            ) {
                Err(syntax) => Problems::from(as_expectation(&yaml_problem(file, &syntax))),
                Ok(_) => Problems::from(parse_problem(file, &e)),
            }
        })?;
    let mut ctx = Ctx {
        snapshot,
        fixture,
        file,
        tenant: None,
        tenant_hint: None,
    };
    let mut problems = Problems::new();
    if let Some(tenant) = &raw.tenant {
        match fixture.entity_type(&tenant.value) {
            Ok(t) => ctx.tenant = Some(t),
            Err(message) => problems.push(
                ctx.problem(&tenant.referenced, message, "the tenant type")
                    .with_help("`tenant:` names the entity type of tenants, e.g. `Account`"),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if raw.tenant.is_none() {
        ctx.tenant_hint = fixture
            .tenant_candidate(snapshot.entities())
            .map(|(t, count)| {
                let short = short_type(&t, fixture.namespace());
                format!(
                    "this file has no `tenant:`, so its rows ask every role user about every resource, across the fixture's {count} `{short}`s; add `tenant: {short}` to ask inside each one"
                )
            });
    }
    let mut items = Vec::new();
    for row in raw.matrix.unwrap_or_default() {
        match expand_row(&ctx, row) {
            Ok(item) => items.push(item),
            Err(more) => problems.extend(more),
        }
    }
    for case in raw.cases.unwrap_or_default() {
        match expand_case(&ctx, case) {
            Ok(item) => items.push(item),
            Err(problem) => problems.extend(problem),
        }
    }
    // file order, whichever of `matrix:` and `cases:` comes first
    items.sort_by_key(|item: &Item| (item.location.line, item.location.column));
    problems.into_result(items)
}

/// The action ids of a row: one string or a list of strings.
fn row_action_ids(value: &serde_json::Value) -> Option<Vec<String>> {
    match value {
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .filter(|v| !v.is_empty()),
        _ => None,
    }
}

/// A context value: an object, or nothing.
fn context_value(
    ctx: &Ctx<'_>,
    context: Option<&Spanned<serde_json::Value>>,
) -> Result<serde_json::Value, Box<Problem>> {
    match context {
        None => Ok(serde_json::json!({})),
        Some(c) if c.value.is_null() => Ok(serde_json::json!({})),
        Some(c) if c.value.is_object() => Ok(c.value.clone()),
        Some(c) => Err(Box::new(ctx.problem(
            &c.referenced,
            "`context` must be a mapping of the action's context attributes",
            "not a mapping",
        ))),
    }
}

/// Where a row's requests go: a type, or one named entity.
enum Target {
    Type(EntityTypeName),
    Named(EntityUid),
}

fn expand_row(ctx: &Ctx<'_>, spanned: Spanned<RawRow>) -> Result<Item, Problems> {
    let row = spanned.value;
    let at = &spanned.referenced;
    let mut problems = Problems::new();
    let actions = row_actions(ctx, &row, &mut problems);
    let target = row_target(ctx, &row, &mut problems);
    if let Some(target) = &target {
        check_actions_apply(ctx, &row, &actions, target, &mut problems);
    }
    let allow = row_allow(ctx, &row, &mut problems);
    let principals = row_principals(ctx, &row, &mut problems);
    let context = match context_value(ctx, row.context.as_ref()) {
        Ok(c) => c,
        Err(p) => {
            problems.push(*p);
            serde_json::json!({})
        }
    };
    let (Some(target), false) = (target, !problems.is_empty()) else {
        return Err(problems);
    };
    let ask = RowAsk {
        actions: row_contexts(ctx, &row, at, &actions, &context)?,
        who: row_who(ctx, principals),
        resources: row_resources(ctx, &target),
        named: matches!(target, Target::Named(_)),
        tenanted: ctx.tenant.is_some(),
        allow,
        context,
    };
    let plan = RowPlan::new(ask);
    if let Some(schema) = ctx.snapshot.schema() {
        plan.validate(schema)
            .map_err(|invalid| invalid_request(ctx, at, invalid))?;
    }
    // a role expecting allow that no request asks about is an expectation that checks nothing
    if row.principals.is_none() && !plan.is_empty() {
        let unasked = unasked_roles(ctx, &row, &target, &plan.asked_roles());
        if !unasked.is_empty() {
            return Err(unasked);
        }
    }
    if plan.is_empty() {
        return Err(nothing_checked(ctx, at, &target).into());
    }
    Ok(Item {
        kind: ItemKind::Row,
        location: location_of(ctx.file, ctx.span(at).start),
        name: row
            .name
            .unwrap_or_else(|| row_label(ctx, &actions, &target)),
        source: row.source,
        hint: ctx.tenant_hint.clone(),
        requests: Requests::Row(Box::new(plan)),
    })
}

/// The row's actions, each an action of the schema.
fn row_actions(ctx: &Ctx<'_>, row: &RawRow, problems: &mut Problems) -> Vec<EntityUid> {
    let mut actions = Vec::new();
    match row_action_ids(&row.action.value) {
        Some(ids) => {
            for id in ids {
                match ctx.action(&id, &row.action.referenced) {
                    Ok(uid) => actions.push(uid),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        None => problems.push(ctx.problem(
            &row.action.referenced,
            "`action` must be an action id or a list of action ids",
            "here",
        )),
    }
    actions
}

/// The row's resources: a type, or a named fixture entity.
fn row_target(ctx: &Ctx<'_>, row: &RawRow, problems: &mut Problems) -> Option<Target> {
    let fixture = ctx.fixture;
    let resource_text = row.resource.value.trim().to_owned();
    if resource_text.contains('"') {
        match fixture.entity_uid(&resource_text) {
            Ok(uid) if fixture.contains(&uid) => Some(Target::Named(uid)),
            Ok(uid) => {
                problems.push(
                    ctx.problem(
                        &row.resource.referenced,
                        format!("no fixture entity {uid}"),
                        "not in the fixture",
                    )
                    .with_help(
                        "a named row asks about an entity of the product's entity files; use `cases:` with `entities:` for others",
                    ),
                );
                None
            }
            Err(message) => {
                problems.push(ctx.problem(&row.resource.referenced, message, "this resource"));
                None
            }
        }
    } else {
        match fixture.entity_type(&resource_text) {
            Ok(t) => Some(Target::Type(t)),
            Err(message) => {
                problems.push(
                    ctx.problem(&row.resource.referenced, message, "this resource type")
                        .with_help(
                            "write a resource type (`File`) or a named fixture entity (`File::\"logo\"`)",
                        ),
                );
                None
            }
        }
    }
}

/// Each of the row's actions must apply to the type of its resources.
fn check_actions_apply(
    ctx: &Ctx<'_>,
    row: &RawRow,
    actions: &[EntityUid],
    target: &Target,
    problems: &mut Problems,
) {
    let Some(schema) = ctx.snapshot.schema() else {
        return;
    };
    let resource_type = match target {
        Target::Type(t) => t,
        Target::Named(uid) => uid.type_name(),
    };
    for action in actions {
        let applies: Vec<String> = schema
            .resources_for_action(action)
            .map(|types| types.map(ToString::to_string).collect())
            .unwrap_or_default();
        if applies.iter().any(|t| *t == resource_type.to_string()) {
            continue;
        }
        problems.push(
            ctx.problem(
                &row.resource.referenced,
                format!(
                    "action `{}` does not apply to resources of type `{resource_type}`",
                    action.id().unescaped()
                ),
                "this resource",
            )
            .with_help(format!(
                "`{}` applies to: {}",
                action.id().unescaped(),
                if applies.is_empty() {
                    "nothing".to_owned()
                } else {
                    applies.join(", ")
                }
            )),
        );
    }
}

/// The roles the row allows, each a role of the fixture.
fn row_allow(ctx: &Ctx<'_>, row: &RawRow, problems: &mut Problems) -> HashSet<String> {
    let mut allow: HashSet<String> = HashSet::new();
    for role in &row.allow.value {
        if ctx.fixture.roles().contains(&role.value) {
            allow.insert(role.value.clone());
        } else {
            problems.push(
                ctx.problem(
                    &role.referenced,
                    format!("no role `{}` in the fixture", role.value),
                    "unknown role",
                )
                .with_help(ctx.roles_help()),
            );
        }
    }
    allow
}

/// The row's own principals, each a fixture entity (`None`: the role users).
fn row_principals(ctx: &Ctx<'_>, row: &RawRow, problems: &mut Problems) -> Option<Vec<EntityUid>> {
    let entities = ctx.snapshot.entities();
    let list = row.principals.as_ref()?;
    let mut uids = Vec::new();
    for p in list {
        match ctx.fixture.entity_uid(&p.value) {
            Ok(uid) if entities.get(&uid).is_some() => uids.push(uid),
            Ok(uid) => problems.push(
                ctx.problem(
                    &p.referenced,
                    format!("no fixture entity {uid}"),
                    "not in the fixture",
                )
                .with_help("a row's principals are fixture users; use `cases:` for others"),
            ),
            Err(message) => {
                problems.push(ctx.problem(&p.referenced, message, "this principal"));
            }
        }
    }
    Some(uids)
}

/// The principals a row asks as: its own, or the fixture's role users.
fn row_who(ctx: &Ctx<'_>, principals: Option<Vec<EntityUid>>) -> Vec<Who> {
    let fixture = ctx.fixture;
    let entities = ctx.snapshot.entities();
    match principals {
        Some(uids) => uids
            .into_iter()
            .map(|uid| {
                let roles = fixture.roles_of(entities, &uid);
                let role = match roles.as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                };
                Who {
                    tenants: ctx.tenants(entities, &uid),
                    uid,
                    roles,
                    role,
                    explicit: true,
                }
            })
            .collect(),
        None => fixture
            .role_users()
            .iter()
            .map(|(uid, role)| Who {
                uid: uid.clone(),
                roles: vec![role.clone()],
                role: Some(role.clone()),
                tenants: ctx.tenants(entities, uid),
                explicit: false,
            })
            .collect(),
    }
}

/// The row's resources with their tenants.
fn row_resources(ctx: &Ctx<'_>, target: &Target) -> Vec<(EntityUid, Vec<EntityUid>)> {
    let entities = ctx.snapshot.entities();
    match target {
        Target::Named(uid) => vec![(uid.clone(), ctx.tenants(entities, uid))],
        Target::Type(t) => ctx
            .fixture
            .entities_of_type(t)
            .iter()
            .map(|uid| (uid.clone(), ctx.tenants(entities, uid)))
            .collect(),
    }
}

/// Each of the row's actions with the row's context as Cedar reads it for
/// that action, and the principal types that may ask it.
fn row_contexts(
    ctx: &Ctx<'_>,
    row: &RawRow,
    at: &serde_saphyr::Location,
    actions: &[EntityUid],
    context: &serde_json::Value,
) -> Result<Vec<RowAction>, Problem> {
    let schema = ctx.snapshot.schema();
    actions
        .iter()
        .map(|action| {
            let cedar_context =
                Context::from_json_value(context.clone(), schema.map(|s| (s, action))).map_err(
                    |e| {
                        ctx.problem(
                    row.context.as_ref().map_or(at, |c| &c.referenced),
                    format!(
                        "invalid context for `{}`: {}",
                        action.id().unescaped(),
                        error_chain(&e)
                    ),
                    "this context",
                )
                .with_help(
                    "a row's `context:` must fit the context of each of its actions in the schema",
                )
                    },
                )?;
            Ok(RowAction {
                uid: action.clone(),
                context: cedar_context,
                principal_types: schema.and_then(|s| {
                    s.principals_for_action(action)
                        .map(|types| types.cloned().collect())
                }),
            })
        })
        .collect()
}

/// The problem of a row one of whose requests the schema refuses.
fn invalid_request(
    ctx: &Ctx<'_>,
    at: &serde_saphyr::Location,
    invalid: Box<InvalidRequest>,
) -> Problem {
    let namespace = ctx.fixture.namespace();
    ctx.problem(
        at,
        format!(
            "this row makes an invalid request ({} {} {}): {}",
            short_uid(&invalid.principal, namespace),
            invalid.action.id().unescaped(),
            short_uid(&invalid.resource, namespace),
            invalid.why
        ),
        "this row",
    )
}

/// A problem for each role the row allows that none of its requests asks as.
fn unasked_roles(ctx: &Ctx<'_>, row: &RawRow, target: &Target, asked: &HashSet<&str>) -> Problems {
    let namespace = ctx.fixture.namespace();
    let mut problems = Problems::new();
    for role in &row.allow.value {
        if asked.contains(role.value.as_str()) {
            continue;
        }
        let why = match target {
            Target::Named(uid) => format!(
                "no user holding only `{}` lies in the tenant of {}",
                role.value,
                short_uid(uid, namespace)
            ),
            Target::Type(t) => format!(
                "no user holding only `{}` has a `{}` in its tenant",
                role.value,
                short_type(t, namespace)
            ),
        };
        problems.push(
            ctx.problem(
                &role.referenced,
                format!(
                    "role `{}` expects allow, but nothing asks it: {why}",
                    role.value
                ),
                "checks nothing",
            )
            .with_help("add such a user to the fixture, or take the role out of `allow`"),
        );
    }
    problems
}

/// A row's name when it has none: its actions and target (`view on File`).
fn row_label(ctx: &Ctx<'_>, actions: &[EntityUid], target: &Target) -> String {
    let namespace = ctx.fixture.namespace();
    format!(
        "{} on {}",
        actions
            .iter()
            .map(|a| a.id().unescaped().to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        match target {
            Target::Named(uid) => short_uid(uid, namespace),
            Target::Type(t) => short_type(t, namespace),
        }
    )
}

/// The problem of a row that makes no request, naming the cause.
fn nothing_checked(ctx: &Ctx<'_>, at: &serde_saphyr::Location, target: &Target) -> Problem {
    let namespace = ctx.fixture.namespace();
    let entities = ctx.snapshot.entities();
    let (why, help) = match (target, &ctx.tenant) {
        (Target::Type(t), Some(tenant))
            if !ctx.fixture.entities_of_type(t).is_empty()
                && ctx
                    .fixture
                    .entities_of_type(t)
                    .iter()
                    .all(|uid| ctx.tenants(entities, uid).is_empty()) =>
        {
            let (t, tenant) = (short_type(t, namespace), short_type(tenant, namespace));
            (
                format!(
                    "no `{t}` of the fixture has an ancestor of type `{tenant}` (the file's `tenant:`), so none lies in a role user's tenant"
                ),
                format!(
                    "give each `{t}` a parent in its `{tenant}` (directly or through its ancestors)"
                ),
            )
        }
        (Target::Type(t), _) if ctx.fixture.entities_of_type(t).is_empty() => (
            format!("the fixture has no `{}`", short_type(t, namespace)),
            "add the entities the row needs to the fixture, or remove the row".to_owned(),
        ),
        (Target::Type(t), _) => (
            format!(
                "no fixture entity of type `{}` lies in a role user's tenant",
                short_type(t, namespace)
            ),
            "add the entities the row needs to the fixture, or remove the row".to_owned(),
        ),
        (Target::Named(uid), _) => (
            format!(
                "no role user (a fixture user holding exactly one role) lies in the tenant of {}",
                short_uid(uid, namespace)
            ),
            "add the entities the row needs to the fixture, or remove the row".to_owned(),
        ),
    };
    ctx.problem(at, format!("this row checks nothing: {why}"), "this row")
        .with_help(help)
}

/// A type name without the namespace prefix.
pub(crate) fn short_type(t: &EntityTypeName, namespace: &str) -> String {
    let text = t.to_string();
    text.strip_prefix(&format!("{namespace}::"))
        .map(str::to_owned)
        .unwrap_or(text)
}

fn expand_case(ctx: &Ctx<'_>, spanned: Spanned<RawCase>) -> Result<Item, Problems> {
    let mut case = spanned.value;
    let at = &spanned.referenced;
    let mut problems = Problems::new();
    let principal = case_uid(ctx, &case.principal, "principal", &mut problems);
    let resource = case_uid(ctx, &case.resource, "resource", &mut problems);
    let action = ctx
        .action(&case.action.value, &case.action.referenced)
        .map_err(|p| problems.push(p))
        .ok();
    let decision = parse_decision(&case.decision.value);
    if decision.is_none() {
        problems.push(ctx.problem(
            &case.decision.referenced,
            format!(
                "`decision` must be `allow` or `deny`, not `{}`",
                case.decision.value
            ),
            "here",
        ));
    }
    let context = match context_value(ctx, case.context.as_ref()) {
        Ok(c) => c,
        Err(p) => {
            problems.push(*p);
            serde_json::json!({})
        }
    };
    let extra = case_entities(ctx, case.entities.take(), &mut problems);
    let entities = extra.as_ref().unwrap_or_else(|| ctx.snapshot.entities());
    for (uid, field, what) in [
        (&principal, &case.principal, "principal"),
        (&resource, &case.resource, "resource"),
    ] {
        if let Some(uid) = uid
            && entities.get(uid).is_none()
        {
            problems.push(unknown_entity(ctx, uid, field, what));
        }
    }
    let (Some(principal), Some(action), Some(resource), Some(decision), true) =
        (principal, action, resource, decision, problems.is_empty())
    else {
        return Err(problems);
    };
    let spec = RequestSpec {
        principal,
        action,
        resource,
        context: Some(context),
    };
    case_item(ctx, at, case, spec, decision, extra)
}

/// A case naming an entity that neither the product's entity files nor the
/// case's `entities:` define (most likely a typo): Cedar would decide it as
/// an entity with no attributes and no parents, which proves nothing.
fn unknown_entity(ctx: &Ctx<'_>, uid: &EntityUid, field: &Spanned<String>, what: &str) -> Problem {
    let same_type = ctx
        .fixture
        .entities_of_type(uid.type_name())
        .iter()
        .map(|known| known.id().unescaped().to_owned());
    let help = match crate::diagnostics::text::closest_name(same_type, uid.id().unescaped()) {
        Some(near) => format!(
            "did you mean `{}::\"{near}\"`? (or add the entity to the case's `entities:`)",
            uid.type_name()
        ),
        None => {
            "add the entity to the product's entity files or to the case's `entities:`".to_owned()
        }
    };
    ctx.problem(
        &field.referenced,
        format!("{uid} is in neither the product's entity files nor this case's `entities:`"),
        format!("this {what}"),
    )
    .with_help(help)
}

/// An entity uid a case names (with or without the namespace).
fn case_uid(
    ctx: &Ctx<'_>,
    field: &Spanned<String>,
    what: &str,
    problems: &mut Problems,
) -> Option<EntityUid> {
    match ctx.fixture.entity_uid(&field.value) {
        Ok(uid) => Some(uid),
        Err(message) => {
            problems.push(ctx.problem(&field.referenced, message, format!("this {what}")));
            None
        }
    }
}

/// A case's own entities, joined with the snapshot's (`None` when it has none).
fn case_entities(
    ctx: &Ctx<'_>,
    list: Option<Vec<Spanned<serde_json::Value>>>,
    problems: &mut Problems,
) -> Option<Entities> {
    let list = list.filter(|list| !list.is_empty())?;
    let items = list
        .into_iter()
        .map(|item| (item.value, ctx.span(&item.referenced)))
        .collect();
    match with_entity_values(ctx.snapshot, ctx.file, items, true, &Limits::default()) {
        Ok(entities) => Some(entities),
        Err(more) => {
            problems.extend(more.iter().map(as_expectation));
            None
        }
    }
}

/// The item of a case whose names resolved: its request, checked against
/// the schema, with the expected decision, reasons and errors.
fn case_item(
    ctx: &Ctx<'_>,
    at: &serde_saphyr::Location,
    case: RawCase,
    spec: RequestSpec,
    decision: Decision,
    extra: Option<Entities>,
) -> Result<Item, Problems> {
    let entities = extra.as_ref().unwrap_or_else(|| ctx.snapshot.entities());
    let request = ctx.snapshot.build_request(spec.clone()).map_err(|p| {
        Problems::from(ctx.problem(
            at,
            format!("this case makes an invalid request: {}", p.message()),
            "this case",
        ))
    })?;
    let RequestSpec {
        principal,
        action,
        resource,
        context,
    } = spec;
    let roles = ctx.fixture.roles_of(entities, &principal);
    let role = match roles.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    let same = same_tenant(
        &ctx.tenants(entities, &principal),
        &ctx.tenants(entities, &resource),
    );
    let ns = ctx.fixture.namespace();
    let name = case.name.unwrap_or_else(|| {
        format!(
            "{} {} {}",
            short_uid(&principal, ns),
            action.id().unescaped(),
            short_uid(&resource, ns)
        )
    });
    let mut reasons = case.reasons;
    if let Some(r) = reasons.as_mut() {
        r.sort();
        r.dedup();
    }
    Ok(Item {
        kind: ItemKind::Case,
        location: location_of(ctx.file, ctx.span(at).start),
        name,
        source: case.source,
        hint: None,
        requests: Requests::Listed(vec![Check {
            principal,
            action,
            resource,
            context: context.unwrap_or_default(),
            roles,
            role,
            same_tenant: same,
            expected: Expected {
                decision,
                reasons,
                reason_match: ReasonMatch::Exact,
                errors: Some(case.errors.unwrap_or(0)),
            },
            request,
            entities: extra.map(Arc::new),
        }]),
    })
}
