//! `rolegrid matrix`: the effective role × action tables of the seed models,
//! checked against the products' documentation (../shared/seeds) and
//! snapshotted in every format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use assert_cmd::Command;
use rolegrid::matrix::{Matrix, Verdict};
use rolegrid::{LoadOptions, Store};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PRODUCTS: [&str; 5] = [
    "dataimporter",
    "fireworks",
    "imagekit",
    "imagekit-2020",
    "rudderstack",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn matrix(product: &str) -> &'static Matrix {
    static CACHE: OnceLock<Vec<(String, Matrix)>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        let store = Store::open(root()).unwrap();
        PRODUCTS
            .iter()
            .map(|p| {
                let snapshot = store.load(p, &LoadOptions::default()).unwrap();
                ((*p).to_owned(), Matrix::build(&snapshot).unwrap())
            })
            .collect()
    });
    &all.iter().find(|(p, _)| p == product).unwrap().1
}

/// Asserts a cell's verdict, and for a conditional cell that its condition
/// contains `condition`.
#[track_caller]
fn expect(product: &str, role: &str, action: &str, ty: &str, verdict: Verdict, condition: &str) {
    let cell = matrix(product)
        .cell(role, action, ty)
        .unwrap_or_else(|| panic!("{product}: no cell for {role} {action} {ty}"));
    assert_eq!(
        cell.verdict, verdict,
        "{product}: {role} {action} on {ty}: {cell:?}"
    );
    if verdict == Verdict::Conditional {
        let text = cell.condition.as_deref().unwrap_or_default();
        assert!(
            text.contains(condition),
            "{product}: {role} {action} on {ty}: condition {text:?} lacks {condition:?}"
        );
    } else {
        assert_eq!(cell.condition, None);
    }
}

use Verdict::{Allowed as Y, Conditional as C, Denied as N};

// ---- cells against the documents ------------------------------------------

/// 004 (Fireworks): the two tables "Resource management" and "API key &
/// account management".
#[test]
fn fireworks_agrees_with_the_document() {
    let p = "fireworks";
    for ty in ["Deployment", "Model", "FineTuningJob", "Dataset"] {
        // "View all resources": ✅ for every role
        for role in ["inference-user", "contributor", "user", "admin"] {
            expect(p, role, "view", ty, Y, "");
        }
        // "Create new resources": ❌ ✅ ✅ ✅
        expect(p, "inference-user", "create", ty, N, "");
        expect(p, "contributor", "create", ty, Y, "");
        expect(p, "user", "create", ty, Y, "");
        // "Manage their own resources" ✅ for contributor, "resources owned by others" ❌
        for action in ["update", "delete"] {
            expect(p, "inference-user", action, ty, N, "");
            expect(p, "contributor", action, ty, C, "own resources only");
            expect(p, "user", action, ty, Y, "");
            expect(p, "admin", action, ty, Y, "");
        }
    }
    // "Execute inference on any deployment": ✅ for every role
    expect(p, "inference-user", "runInference", "Deployment", Y, "");
    expect(p, "admin", "runInference", "Deployment", Y, "");
    // "Manage self-owned API keys": every role, own keys only;
    // "Create service account API keys": admin only
    for role in ["inference-user", "contributor", "user"] {
        expect(
            p,
            role,
            "createApiKey",
            "ApiKey",
            C,
            "own non-service-account keys only",
        );
        let cell = matrix(p).cell(role, "createApiKey", "ApiKey").unwrap();
        assert!(
            !cell
                .condition
                .as_ref()
                .unwrap()
                .contains("service account keys only")
        );
    }
    expect(
        p,
        "admin",
        "createApiKey",
        "ApiKey",
        C,
        "service account keys only",
    );
    // "Delete other users and service accounts API keys": admin only
    expect(
        p,
        "user",
        "deleteApiKey",
        "ApiKey",
        C,
        "own non-service-account keys only",
    );
    expect(p, "admin", "deleteApiKey", "ApiKey", Y, "");
    // "View all users and service accounts" ✅; "Add/modify/delete users" admin only
    expect(p, "inference-user", "viewUsers", "Account", Y, "");
    for role in ["inference-user", "contributor", "user"] {
        expect(p, role, "addUser", "Account", N, "");
        expect(p, role, "updateUserRole", "User", N, "");
        expect(p, role, "deleteUser", "User", N, "");
    }
    expect(p, "admin", "addUser", "Account", Y, "");
    expect(p, "admin", "deleteUser", "User", Y, "");
}

/// 003 (RudderStack): the three roles' sections.
#[test]
fn rudderstack_agrees_with_the_document() {
    let p = "rudderstack";
    for ty in ["Source", "Destination", "Connection", "Transformation"] {
        // view-only: "| Sources | Yes | No | No | No |" and likewise
        expect(p, "view-only", "view", ty, Y, "");
        for action in ["add", "modify", "delete"] {
            expect(p, "view-only", action, ty, N, "");
            expect(p, "read-write", action, ty, Y, "");
            expect(p, "admin", action, ty, Y, "");
        }
    }
    // "secrets like access keys are hidden from them"
    expect(p, "view-only", "viewSecrets", "Destination", N, "");
    expect(p, "read-write", "viewSecrets", "Destination", Y, "");
    // "View-only users can run tests on existing transformations"
    expect(
        p,
        "view-only",
        "testTransformation",
        "Transformation",
        Y,
        "",
    );
    // "Can view live events at both the source and destination level."
    for ty in ["Source", "Destination"] {
        expect(p, "view-only", "viewLiveEvents", ty, Y, "");
    }
    // "Cannot sync the Cloud Extract and Warehouse Actions sources" / "Can sync ..."
    expect(p, "view-only", "sync", "Source", N, "");
    expect(
        p,
        "read-write",
        "sync",
        "Source",
        C,
        "cloud-extract and warehouse-actions",
    );
    expect(
        p,
        "admin",
        "sync",
        "Source",
        C,
        "cloud-extract and warehouse-actions",
    );
    expect(p, "view-only", "viewSyncs", "Source", Y, "");
    // "Cannot view all the audit logs." / "Can view all the audit logs."
    expect(p, "view-only", "viewAuditLogs", "Workspace", N, "");
    expect(p, "read-write", "viewAuditLogs", "Workspace", Y, "");
    // Team: everyone views; only admins manage (within the plan's teammate limit)
    for role in ["view-only", "read-write", "admin"] {
        expect(p, role, "viewTeam", "Workspace", Y, "");
    }
    for role in ["view-only", "read-write"] {
        expect(p, role, "inviteUser", "Workspace", N, "");
        expect(p, role, "deleteInvitation", "Workspace", N, "");
        expect(p, role, "changeRole", "User", N, "");
        expect(p, role, "removeMember", "User", N, "");
    }
    expect(
        p,
        "admin",
        "inviteUser",
        "Workspace",
        C,
        "below the plan's limit",
    );
    expect(p, "admin", "deleteInvitation", "Workspace", Y, "");
    expect(p, "admin", "changeRole", "User", Y, "");
    expect(p, "admin", "removeMember", "User", Y, "");
}

/// 001 (ImageKit, six roles).
#[test]
fn imagekit_agrees_with_the_document() {
    let p = "imagekit";
    // "Media library view-only access ... cannot upload media assets or create new folders"
    for ty in ["File", "Folder", "Collection"] {
        expect(p, "media-view", "viewMedia", ty, Y, "");
        expect(p, "media-view", "editMedia", ty, N, "");
        expect(p, "media-view", "deleteMedia", ty, N, "");
        expect(p, "media-full", "deleteMedia", ty, Y, "");
        // "can only access and operate on files, folders, and media collections shared with them"
        expect(
            p,
            "media-restricted",
            "viewMedia",
            ty,
            C,
            "shared with the user as viewer or editor",
        );
        expect(
            p,
            "media-restricted",
            "editMedia",
            ty,
            C,
            "shared with the user as editor",
        );
        expect(p, "finance", "viewMedia", ty, N, "");
    }
    expect(p, "media-view", "uploadMedia", "Folder", N, "");
    expect(p, "media-view", "createFolder", "Folder", N, "");
    expect(p, "media-full", "uploadMedia", "Folder", Y, "");
    expect(p, "media-full", "tagMedia", "File", Y, "");
    // "Developer ... everything except user management and billing"
    expect(p, "developer", "purgeCache", "Account", Y, "");
    expect(p, "developer", "viewAnalytics", "Account", Y, "");
    expect(p, "developer", "uploadMedia", "Folder", Y, "");
    expect(p, "developer", "viewBilling", "Account", N, "");
    expect(p, "developer", "viewUsers", "Account", N, "");
    // "Finance ... analytics and billing section ... cancel the subscription"
    expect(p, "finance", "viewAnalytics", "Account", Y, "");
    expect(p, "finance", "viewBilling", "Account", Y, "");
    expect(p, "finance", "cancelSubscription", "Account", Y, "");
    expect(p, "finance", "purgeCache", "Account", N, "");
    // "Account administrator ... full access ... can add other users"; paid plans only, 5 users
    expect(p, "account-admin", "purgeCache", "Account", Y, "");
    expect(
        p,
        "account-admin",
        "viewUsers",
        "Account",
        C,
        "plan is free",
    );
    expect(p, "account-admin", "addUser", "Account", C, "maxUsers");
    expect(
        p,
        "account-admin",
        "addUser",
        "Account",
        C,
        "media-restricted outside the enterprise plan",
    );
    expect(p, "account-admin", "removeUser", "User", C, "plan is free");
    for role in [
        "developer",
        "media-full",
        "media-view",
        "media-restricted",
        "finance",
    ] {
        expect(p, role, "addUser", "Account", N, "");
        expect(p, role, "changeUserRole", "User", N, "");
    }
}

/// 000 (ImageKit 2020, four roles).
#[test]
fn imagekit_2020_agrees_with_the_document() {
    let p = "imagekit-2020";
    // "Accountant ... analytics and billing section ... change the subscription"
    expect(p, "accountant", "viewAnalytics", "Account", Y, "");
    expect(p, "accountant", "manageSubscription", "Account", Y, "");
    expect(p, "accountant", "viewMedia", "File", N, "");
    expect(p, "accountant", "purgeCache", "Account", N, "");
    // "Developer ... integration, media-library, analytics, cache purge, performance, developers, image settings"
    for action in [
        "manageIntegration",
        "viewAnalytics",
        "purgeCache",
        "viewPerformance",
        "manageDeveloperSettings",
        "manageImageSettings",
    ] {
        expect(p, "developer", action, "Account", Y, "");
        expect(p, "marketer", action, "Account", N, "");
    }
    expect(p, "developer", "viewBilling", "Account", N, "");
    expect(p, "developer", "uploadMedia", "Folder", Y, "");
    // "Marketer ... can access media-library ... upload marketing assets"
    expect(p, "marketer", "uploadMedia", "Folder", Y, "");
    expect(p, "marketer", "deleteMedia", "Collection", Y, "");
    expect(p, "marketer", "viewBilling", "Account", N, "");
    // "Account administrator ... full access ... can add other users" (paid plan only, max 5)
    expect(p, "account-admin", "viewBilling", "Account", Y, "");
    expect(p, "account-admin", "addUser", "Account", C, "paid plan");
    expect(
        p,
        "account-admin",
        "viewUsers",
        "Account",
        C,
        "paid plan only",
    );
    expect(p, "developer", "addUser", "Account", N, "");
}

/// 002 (Dataimporter).
#[test]
fn dataimporter_agrees_with_the_document() {
    let p = "dataimporter";
    for ty in ["Job", "Instance", "Connection", "Schedule", "Formula"] {
        for action in ["view", "create", "update", "delete"] {
            expect(p, "user", action, ty, Y, "");
            expect(p, "admin", action, ty, Y, "");
        }
    }
    expect(p, "user", "run", "Job", Y, "");
    expect(p, "admin", "run", "Job", Y, "");
    for action in ["viewBilling", "updateSubscription", "updateLicences"] {
        expect(p, "user", action, "Account", N, "");
        expect(p, "admin", action, "Account", Y, "");
    }
    // "If there are spare licences, you will have a button called Invite User."
    expect(p, "user", "inviteUser", "Account", N, "");
    expect(p, "admin", "inviteUser", "Account", C, "spare licence");
    expect(p, "admin", "manageUserAccess", "User", Y, "");
    expect(p, "admin", "viewUserActivity", "User", Y, "");
    expect(p, "user", "viewUserActivity", "User", N, "");
}

// ---- how the matrix is computed ---------------------------------------------

#[test]
fn columns_follow_the_fixture_and_rows_the_schema() {
    let m = matrix("fireworks");
    let roles: Vec<&str> = m.roles.iter().map(|r| r.id.as_str()).collect();
    // the document's column order
    assert_eq!(roles, ["inference-user", "contributor", "user", "admin"]);
    let groups: Vec<&str> = m.groups.iter().map(|g| g.resource_type.as_str()).collect();
    assert_eq!(
        groups,
        [
            "Fireworks::Deployment",
            "Fireworks::Model",
            "Fireworks::FineTuningJob",
            "Fireworks::Dataset",
            "Fireworks::ApiKey",
            "Fireworks::Account",
            "Fireworks::User"
        ]
    );
    let rows: Vec<&str> = m.groups[0]
        .rows
        .iter()
        .map(|r| r.action_id.as_str())
        .collect();
    assert_eq!(rows, ["runInference", "view", "create", "update", "delete"]);
}

#[test]
fn principals_hold_exactly_one_role_and_missing_ones_are_synthesized() {
    let m = matrix("fireworks");
    let inference = m.roles.iter().find(|r| r.id == "inference-user").unwrap();
    // acme has ivan-inference; globex has no inference user: one is made up
    assert!(
        inference
            .principals
            .iter()
            .any(|p| p.uid == r#"Fireworks::User::"ivan-inference""# && !p.synthesized)
    );
    let made: Vec<_> = inference
        .principals
        .iter()
        .filter(|p| p.synthesized)
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].tenant, [r#"Fireworks::Account::"globex""#]);
    // the two-role user is never asked as either role
    for role in &m.roles {
        assert!(
            role.principals
                .iter()
                .all(|p| !p.uid.contains("dan-contributor-inference"))
        );
    }
}

#[test]
fn tenants_and_context_values_are_sampled() {
    // addUser is denied on the free plan (initech) and for `media-restricted`
    // outside enterprise (globex): both forbids show, so both tenants and the
    // `role` context values were asked.
    let cell = matrix("imagekit")
        .cell("account-admin", "addUser", "Account")
        .unwrap();
    assert!(
        cell.forbids
            .contains(&"user-management-paid-only-account".to_owned()),
        "{cell:?}"
    );
    assert!(
        cell.forbids
            .contains(&"restricted-role-enterprise-only-add".to_owned()),
        "{cell:?}"
    );
    assert!(cell.forbids.contains(&"max-users".to_owned()), "{cell:?}");
    assert!(
        !cell.forbids.contains(&"tenant-isolation".to_owned()),
        "{cell:?}"
    );
    assert!(cell.requests > cell.allowed && cell.allowed > 0);
    // every cell of every model was asked something, without evaluation errors
    for product in PRODUCTS {
        let m = matrix(product);
        assert!(m.notes.is_empty(), "{product}: {:?}", m.notes);
        for cell in m.groups.iter().flat_map(|g| &g.rows).flat_map(|r| &r.cells) {
            assert_ne!(cell.verdict, Verdict::Untested, "{product}: {cell:?}");
            assert!(cell.errors.is_empty(), "{product}: {cell:?}");
        }
    }
}

// ---- the command: formats and exit codes -----------------------------------

fn rolegrid(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("rolegrid")
        .unwrap()
        .args(args)
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn run_matrix(product: &str, format: &str) -> String {
    let root = root();
    let (code, stdout, stderr) = rolegrid(&[
        "matrix",
        "--product",
        product,
        "--root",
        root.to_str().unwrap(),
        "--format",
        format,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    stdout
}

#[test]
fn markdown_of_every_model() {
    for product in PRODUCTS {
        let text = run_matrix(product, "markdown");
        insta::assert_snapshot!(format!("markdown_{product}"), text);
    }
}

#[test]
fn markdown_tables_are_well_formed() {
    for product in PRODUCTS {
        let text = run_matrix(product, "markdown");
        let columns = matrix(product).roles.len() + 1;
        for line in text.lines().filter(|l| l.starts_with('|')) {
            let unescaped = line.replace("\\|", "");
            assert_eq!(
                unescaped.matches('|').count(),
                columns + 1,
                "{product}: {line}"
            );
        }
    }
}

#[test]
fn human_json_and_html_of_fireworks() {
    insta::assert_snapshot!("human_fireworks", run_matrix("fireworks", "human"));
    let json = run_matrix("fireworks", "json");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["version"], 2);
    assert_eq!(value, matrix("fireworks").to_json());
    insta::assert_snapshot!("json_fireworks", json);
    let html = run_matrix("fireworks", "html");
    insta::assert_snapshot!("html_fireworks", html);
}

#[test]
fn html_is_self_contained() {
    for product in PRODUCTS {
        let html = run_matrix(product, "html");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<style>"));
        for external in ["http://", "https://", "<link", "<script", "src=", "url("] {
            assert!(!html.contains(external), "{product}: {external}");
        }
        assert_eq!(
            html.matches("<table>").count(),
            html.matches("</table>").count()
        );
    }
}

#[test]
fn human_is_the_default_format() {
    let root = root();
    let (code, stdout, _) = rolegrid(&[
        "matrix",
        "-p",
        "dataimporter",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(stdout, run_matrix("dataimporter", "human"));
}

#[test]
fn unknown_product_exits_2() {
    let root = root();
    let (code, stdout, stderr) = rolegrid(&[
        "matrix",
        "--product",
        "nope",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("no product `nope`"), "{stderr}");
    assert!(stderr.contains("fireworks"), "{stderr}");
}

#[test]
fn missing_store_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = rolegrid(&[
        "matrix",
        "--product",
        "fireworks",
        "--root",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a folder"), "{stderr}");
    let (code, _, _) = rolegrid(&["matrix"]);
    assert_eq!(code, 2);
    let (code, _, _) = rolegrid(&["matrix", "-p", "fireworks", "--format", "pdf"]);
    assert_eq!(code, 2);
}

/// Copies the store's `schemas/` and `policies/<product>/` to a temp dir.
fn copy_store(product: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    };
    copy(&root().join("schemas"), &dir.path().join("schemas"));
    copy(
        &root().join("policies").join(product),
        &dir.path().join("policies").join(product),
    );
    dir
}

#[test]
fn a_broken_policy_exits_2_with_its_location() {
    let dir = copy_store("fireworks");
    let file = dir.path().join("policies/fireworks/tenant.cedar");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("unless", "unles")).unwrap();
    let (code, stdout, stderr) = rolegrid(&[
        "matrix",
        "-p",
        "fireworks",
        "--root",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("tenant.cedar"), "{stderr}");
}

#[test]
fn conditions_fall_back_to_the_policy_text() {
    // without @condition annotations the `when` clause is shown, minus the
    // role test the column already says
    let dir = copy_store("fireworks");
    let file = dir.path().join("policies/fireworks/resources.cedar");
    let text = std::fs::read_to_string(&file).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.starts_with("@condition"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, stripped).unwrap();
    let snapshot = Store::open(dir.path())
        .unwrap()
        .load("fireworks", &LoadOptions::default())
        .unwrap();
    let m = Matrix::build(&snapshot).unwrap();
    let cell = m.cell("contributor", "update", "Model").unwrap();
    assert_eq!(
        cell.condition.as_deref(),
        Some("resource.owner == principal")
    );
}

/// A store with one small product.
fn tiny_store(schema: &str, policies: &str, entities: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schemas")).unwrap();
    std::fs::create_dir_all(dir.path().join("policies/tiny")).unwrap();
    std::fs::write(dir.path().join("schemas/tiny.cedarschema"), schema).unwrap();
    std::fs::write(dir.path().join("policies/tiny/p.cedar"), policies).unwrap();
    std::fs::write(
        dir.path().join("policies/tiny/fixture.entities.yaml"),
        entities,
    )
    .unwrap();
    dir
}

const TINY_SCHEMA: &str = r#"namespace T {
  entity Role;
  entity Team;
  entity User in [Role, Team] { level: Long };
  entity Doc in [Team] { public: Bool };
  action view appliesTo { principal: User, resource: Doc, context: { reason: String, hops?: Long } };
}"#;

#[test]
fn a_model_without_roles_exits_2() {
    let dir = tiny_store(
        TINY_SCHEMA,
        r#"@id("p") permit(principal, action, resource);"#,
        "- {uid: {type: T::Team, id: t}, attrs: {}, parents: []}\n\
         - {uid: {type: T::User, id: u}, attrs: {level: 1}, parents: [{type: T::Team, id: t}]}\n",
    );
    let (code, stdout, stderr) = rolegrid(&[
        "matrix",
        "-p",
        "tiny",
        "--root",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("no roles"), "{stderr}");
}

#[test]
fn context_values_come_from_the_policies() {
    // `reason` takes the literals it is compared with (and the role ids);
    // optional `hops` is also left out, and takes 0 and 2, 3, 4 around the literal 3
    let dir = tiny_store(
        TINY_SCHEMA,
        r#"@id("audit") permit(principal in T::Role::"reader", action, resource)
           when { context.reason == "audit" && !(context has hops && context.hops >= 3) };
           @id("public") @condition("public documents")
           permit(principal in T::Role::"reader", action, resource) when { resource.public };"#,
        "- {uid: {type: T::Role, id: reader}, attrs: {}, parents: []}\n\
         - {uid: {type: T::Team, id: t}, attrs: {}, parents: []}\n\
         - {uid: {type: T::User, id: u}, attrs: {level: 1}, parents: [{type: T::Team, id: t}, {type: T::Role, id: reader}]}\n\
         - {uid: {type: T::Doc, id: open}, attrs: {public: true}, parents: [{type: T::Team, id: t}]}\n\
         - {uid: {type: T::Doc, id: closed}, attrs: {public: false}, parents: [{type: T::Team, id: t}]}\n",
    );
    let snapshot = Store::open(dir.path())
        .unwrap()
        .load("tiny", &LoadOptions::default())
        .unwrap();
    let m = Matrix::build(&snapshot).unwrap();
    let cell = m.cell("reader", "view", "Doc").unwrap();
    // 2 docs × reason in {"audit", "reader"} × hops in {absent, 0, 2, 3, 4}
    assert_eq!(cell.requests, 2 * 2 * 5);
    // allowed: the open doc always (10); the closed one with reason "audit"
    // and hops absent, 0 or 2 (3)
    assert_eq!(cell.allowed, 13);
    assert_eq!(cell.verdict, Verdict::Conditional);
    assert_eq!(
        cell.condition.as_deref(),
        Some(
            r#"(context.reason == "audit" && !((context has hops) && (context.hops >= 3))) or public documents"#
        )
    );
}

/// The imagekit matrix was 110 columns wide at `COLUMNS=80`, with words cut
/// mid-word. Tables now fit the width, split the roles over several tables
/// when they do not fit side by side, and never cut a word.
#[test]
fn human_tables_fit_the_width_without_cutting_words() {
    let words = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|c: char| c.is_whitespace() || "│┆".contains(c))
            .filter(|w| !w.is_empty() && !w.chars().all(|c| "─┌┐└┘┬┴├┤┼╞╡╪═".contains(c)))
            .map(str::to_owned)
            .collect()
    };
    let matrix: serde_json::Value = serde_json::from_str(&run_matrix("imagekit", "json")).unwrap();
    let mut expected: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for role in matrix["roles"].as_array().unwrap() {
        expected.insert(role["id"].as_str().unwrap().to_owned());
    }
    for width in ["60", "80", "100", "140"] {
        let output = Command::cargo_bin("rolegrid")
            .unwrap()
            .args(["matrix", "-p", "imagekit"])
            .current_dir(root())
            .env("COLUMNS", width)
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let limit: usize = width.parse().unwrap();
        // the tables (prose lines wrap as the terminal wraps them)
        for line in text.lines().filter(|l| l.starts_with(['┌', '│', '╞', '└'])) {
            let shown = unicode_width::UnicodeWidthStr::width(line);
            assert!(shown <= limit, "COLUMNS={width}: {shown} wide: {line}");
        }
        let found = words(&text);
        for word in &expected {
            assert!(
                found.contains(word),
                "COLUMNS={width}: `{word}` cut or missing"
            );
        }
        // every word of every condition is whole somewhere in the output
        for group in matrix["groups"].as_array().unwrap() {
            for row in group["rows"].as_array().unwrap() {
                for cell in row["cells"].as_array().unwrap() {
                    if let Some(condition) = cell["condition"].as_str() {
                        for word in condition.split_whitespace() {
                            assert!(found.contains(word), "COLUMNS={width}: `{word}` cut");
                        }
                    }
                }
            }
        }
    }
}

/// With `--format json` a matrix error reached stderr only: it is now the
/// JSON problems document on stdout too (exit 2).
#[test]
fn json_errors_are_json_on_stdout() {
    let (code, stdout, stderr) = rolegrid(&["matrix", "-p", "no-such-product", "--format", "json"]);
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["status"], "error");
    assert_eq!(json["problems"][0]["kind"], "unknown-product");
    assert!(stderr.contains("no product `no-such-product`"), "{stderr}");
}
