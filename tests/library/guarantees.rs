//! The seed models' shared guarantees, checked on every request the fixture
//! and the schema allow.
//!
//! For each of the five products, every (fixture user × action × fixture
//! resource of a type the action applies to × context) is decided, where
//! the contexts are `{}` or, for actions with a `role` context attribute,
//! every role id of the fixture and one unknown string (whichever the
//! schema accepts). On all of them:
//!
//! - **tenant isolation**: no allow when the resource lies in another tenant
//!   than the user (a user's tenant is its parent that is not a `Role`, and
//!   its `account`/`workspace` attribute names the same; a resource's tenant
//!   is its ancestor of the tenant type, or itself);
//! - **deny by default**: a user holding no role is denied everything;
//! - **user management**: only the roles the documents name (see
//!   `../shared/spec/products.md`) are allowed the user-management actions.
//!
//! The snapshot `guarantees__user_management` records, per product and
//! user-management action, the role sets of the users allowed it at least once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cedar_policy::{EntityTypeName, EntityUid, EvalResult};
use rolegrid::{LoadOptions, RequestSpec, Snapshot, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

/// A product with its user-management actions and the roles allowed them.
struct Product {
    name: &'static str,
    management: &'static [&'static str],
    managers: &'static [&'static str],
}

const PRODUCTS: [Product; 5] = [
    Product {
        name: "imagekit",
        management: &["viewUsers", "addUser", "changeUserRole", "removeUser"],
        managers: &["account-admin"],
    },
    Product {
        name: "imagekit-2020",
        management: &["viewUsers", "addUser", "changeUserRole", "removeUser"],
        managers: &["account-admin"],
    },
    Product {
        name: "dataimporter",
        management: &["inviteUser", "manageUserAccess", "viewUserActivity"],
        managers: &["admin"],
    },
    Product {
        name: "rudderstack",
        management: &[
            "inviteUser",
            "deleteInvitation",
            "changeRole",
            "removeMember",
        ],
        managers: &["admin"],
    },
    Product {
        name: "fireworks",
        management: &["addUser", "updateUserRole", "deleteUser"],
        managers: &["admin"],
    },
];

/// A context string no product names as a role.
const UNKNOWN_ROLE: &str = "no-such-role";

fn load(product: &str) -> Snapshot {
    let store = Store::open(PathBuf::from(env!("CARGO_MANIFEST_DIR"))).unwrap();
    store
        .load(product, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{product} does not load: {e:?}"))
}

/// A fixture user: its uid, tenant and role ids (held directly or through other roles).
struct User {
    uid: EntityUid,
    tenant: EntityUid,
    roles: BTreeSet<String>,
}

/// What one product's enumeration met.
#[derive(Default)]
struct Tally {
    requests: usize,
    allowed: usize,
    cross_tenant: usize,
    no_role: usize,
    management: usize,
    violations: Vec<String>,
    /// management action → the role sets (`a+b`) of users allowed it at least once
    managed_by: BTreeMap<String, BTreeSet<String>>,
}

/// An entity's parents as Cedar gives them back (`Entity::into_inner`: its
/// parents and their ancestors; for users, whose parents are roles and
/// tenants, the same when those have no parents of their own).
fn parents(snapshot: &Snapshot, uid: &EntityUid) -> Vec<EntityUid> {
    let entity = snapshot.entities().get(uid).unwrap();
    let (_, _, parents) = entity.clone().into_inner();
    let mut parents: Vec<EntityUid> = parents.into_iter().collect();
    parents.sort_by_key(ToString::to_string);
    parents
}

fn ancestors(snapshot: &Snapshot, uid: &EntityUid) -> Vec<EntityUid> {
    snapshot
        .entities()
        .ancestors(uid)
        .map(|a| a.cloned().collect())
        .unwrap_or_default()
}

fn check_product(product: &Product) -> Tally {
    check_snapshot(product, &load(product.name))
}

fn check_snapshot(product: &Product, snapshot: &Snapshot) -> Tally {
    let schema = snapshot.schema().unwrap();
    let namespace = product_namespace(snapshot);
    let type_name = |t: &str| -> EntityTypeName { format!("{namespace}::{t}").parse().unwrap() };
    let role_type = type_name("Role");
    let user_type = type_name("User");
    let mut tally = Tally::default();

    // fixture entities (not the schema's actions), sorted for a stable order
    let mut fixture: Vec<EntityUid> = snapshot
        .entities()
        .iter()
        .map(|e| e.uid())
        .filter(|uid| snapshot.entity_origin(uid).is_some())
        .collect();
    fixture.sort_by_key(ToString::to_string);
    let role_ids: Vec<String> = fixture
        .iter()
        .filter(|u| u.type_name() == &role_type)
        .map(|u| u.id().unescaped().to_owned())
        .collect();
    assert!(
        !role_ids.is_empty(),
        "{}: the fixture has no roles",
        product.name
    );
    for manager in product.managers {
        assert!(
            role_ids.iter().any(|r| r == manager),
            "{}: the fixture has no role `{manager}`",
            product.name
        );
    }

    // users, their tenants (the non-Role parent, also named by the tenant attribute) and roles
    let mut users = Vec::new();
    for uid in fixture.iter().filter(|u| u.type_name() == &user_type) {
        let tenants: Vec<EntityUid> = parents(snapshot, uid)
            .into_iter()
            .filter(|p| p.type_name() != &role_type)
            .collect();
        let [tenant] = tenants.as_slice() else {
            tally.violations.push(format!(
                "{uid} has {} non-Role parents, not one tenant: {tenants:?}",
                tenants.len()
            ));
            continue;
        };
        let entity = snapshot.entities().get(uid).unwrap();
        let attribute = if tenant.type_name().basename() == "Workspace" {
            "workspace"
        } else {
            "account"
        };
        match entity.attr(attribute) {
            Some(Ok(EvalResult::EntityUid(named))) if &named == tenant => {}
            other => tally.violations.push(format!(
                "{uid}: its tenant parent is {tenant} but its `{attribute}` attribute is {other:?}"
            )),
        }
        let roles = ancestors(snapshot, uid)
            .into_iter()
            .filter(|a| a.type_name() == &role_type)
            .map(|a| a.id().unescaped().to_owned())
            .collect();
        users.push(User {
            uid: uid.clone(),
            tenant: tenant.clone(),
            roles,
        });
    }
    assert!(
        users.iter().any(|u| u.roles.is_empty()),
        "{}: no user without a role",
        product.name
    );
    let tenant_type = users.first().map(|u| u.tenant.type_name().clone()).unwrap();

    // a resource's tenant: itself, or its ancestors of the tenant type
    let tenant_of = |uid: &EntityUid| -> Vec<EntityUid> {
        if uid.type_name() == &tenant_type {
            vec![uid.clone()]
        } else {
            ancestors(snapshot, uid)
                .into_iter()
                .filter(|a| a.type_name() == &tenant_type)
                .collect()
        }
    };

    let mut contexts = vec![serde_json::json!({})];
    contexts.extend(
        role_ids
            .iter()
            .map(String::as_str)
            .chain([UNKNOWN_ROLE])
            .map(|r| serde_json::json!({ "role": r })),
    );

    let mut actions: Vec<EntityUid> = schema.actions().cloned().collect();
    actions.sort_by_key(ToString::to_string);
    for management in product.management {
        assert!(
            actions.iter().any(|a| a.id().unescaped() == *management),
            "{}: no action `{management}`",
            product.name
        );
    }
    for action in &actions {
        let action_id = action.id().unescaped().to_owned();
        let is_management = product.management.contains(&action_id.as_str());
        let resource_types: BTreeSet<EntityTypeName> = schema
            .resources_for_action(action)
            .unwrap()
            .cloned()
            .collect();
        let principal_types: BTreeSet<EntityTypeName> = schema
            .principals_for_action(action)
            .unwrap()
            .cloned()
            .collect();
        assert!(
            principal_types.contains(&user_type),
            "{}: {action} does not apply to users",
            product.name
        );
        let resources: Vec<&EntityUid> = fixture
            .iter()
            .filter(|u| resource_types.contains(u.type_name()))
            .collect();
        assert!(
            !resources.is_empty(),
            "{}: no fixture resource for {action}",
            product.name
        );
        // the contexts the schema accepts for this action (they depend on the action only)
        let action_contexts: Vec<&serde_json::Value> = contexts
            .iter()
            .filter(|context| {
                RequestSpec {
                    principal: users[0].uid.clone(),
                    action: action.clone(),
                    resource: resources[0].clone(),
                    context: Some((*context).clone()),
                }
                .build(Some(schema))
                .is_ok()
            })
            .collect();
        assert!(
            !action_contexts.is_empty(),
            "{}: no context is accepted for {action}",
            product.name
        );
        for resource in resources {
            let resource_tenants = tenant_of(resource);
            if resource_tenants.len() != 1 {
                tally.violations.push(format!(
                    "{resource} lies in {} tenants, not one: {resource_tenants:?}",
                    resource_tenants.len()
                ));
            }
            for user in &users {
                for context in &action_contexts {
                    let spec = RequestSpec {
                        principal: user.uid.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                        context: Some((*context).clone()),
                    };
                    let request = spec.build(Some(schema)).unwrap_or_else(|e| {
                        panic!(
                            "{}: {} {action} {resource} {context}: {e}",
                            product.name, user.uid
                        )
                    });
                    tally.requests += 1;
                    let answer = snapshot.authorize(&request);
                    let same_tenant = resource_tenants.contains(&user.tenant);
                    tally.cross_tenant += usize::from(!same_tenant);
                    tally.no_role += usize::from(user.roles.is_empty());
                    tally.management += usize::from(is_management);
                    if !answer.is_allowed() {
                        continue;
                    }
                    tally.allowed += 1;
                    let what = format!(
                        "{} {action_id} {resource} with context {context} is allowed (reasons {:?})",
                        user.uid,
                        answer
                            .reasons()
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    );
                    if !same_tenant {
                        tally.violations.push(format!(
                            "tenant isolation: {what}, but the user lies in {} and the resource in {resource_tenants:?}",
                            user.tenant
                        ));
                    }
                    if user.roles.is_empty() {
                        tally.violations.push(format!(
                            "deny by default: {what}, but the user holds no role"
                        ));
                    }
                    if is_management {
                        let managers: BTreeSet<&str> = user
                            .roles
                            .iter()
                            .map(String::as_str)
                            .filter(|r| product.managers.contains(r))
                            .collect();
                        if managers.is_empty() {
                            tally.violations.push(format!(
                                "user management: {what}, but the user's roles {:?} are not among {:?}",
                                user.roles, product.managers
                            ));
                        }
                        tally
                            .managed_by
                            .entry(action_id.clone())
                            .or_default()
                            .insert(user.roles.iter().cloned().collect::<Vec<_>>().join("+"));
                    }
                }
            }
        }
    }
    tally
}

fn product_namespace(snapshot: &Snapshot) -> String {
    let action = snapshot.schema().unwrap().actions().next().unwrap().clone();
    let type_name = action.type_name().to_string();
    type_name.strip_suffix("::Action").unwrap().to_owned()
}

#[test]
fn seed_models_keep_the_shared_guarantees() {
    let mut failures = Vec::new();
    let mut table = String::new();
    // one thread per product; results in product order
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = PRODUCTS
            .iter()
            .map(|product| scope.spawn(move || check_product(product)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (product, tally) in PRODUCTS.iter().zip(tallies) {
        println!(
            "{}: {} requests ({} allowed, {} cross-tenant, {} by users with no role, {} user management); {} violations",
            product.name,
            tally.requests,
            tally.allowed,
            tally.cross_tenant,
            tally.no_role,
            tally.management,
            tally.violations.len()
        );
        assert!(
            tally.cross_tenant > 0 && tally.no_role > 0,
            "{}: the fixture cannot test isolation or deny-by-default",
            product.name
        );
        // the managers can manage users at all (the check is not vacuous)
        for management in product.management {
            assert!(
                tally.managed_by.contains_key(*management),
                "{}: no fixture request allows `{management}` to anyone",
                product.name
            );
        }
        let _ = writeln!(table, "{}:", product.name);
        for action in product.management {
            let roles = tally.managed_by.get(*action).cloned().unwrap_or_default();
            let _ = writeln!(
                table,
                "  {action}: allowed to users holding [{}]",
                roles.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        failures.extend(
            tally
                .violations
                .iter()
                .map(|v| format!("{}: {v}", product.name)),
        );
    }
    assert!(
        failures.is_empty(),
        "{} guarantee violations; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    insta::assert_snapshot!("user_management", table);
}

/// The checks bite: a copy of dataimporter without its tenant-isolation
/// policy, and with a policy allowing everything to everyone, breaks all three.
#[test]
fn a_broken_model_breaks_the_guarantees() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schemas")).unwrap();
    std::fs::create_dir_all(dir.path().join("policies/dataimporter")).unwrap();
    std::fs::copy(
        root.join("schemas/dataimporter.cedarschema"),
        dir.path().join("schemas/dataimporter.cedarschema"),
    )
    .unwrap();
    for entry in std::fs::read_dir(root.join("policies/dataimporter")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // drop every forbid of tenant.cedar; keep the rest
        let text = if path.file_name().unwrap() == "tenant.cedar" {
            "@id(\"everyone-everything\")\npermit(principal, action, resource);\n".to_owned()
        } else {
            text
        };
        std::fs::write(
            dir.path()
                .join("policies/dataimporter")
                .join(path.file_name().unwrap()),
            text,
        )
        .unwrap();
    }
    let snapshot = Store::open(dir.path())
        .unwrap()
        .load("dataimporter", &LoadOptions::default())
        .unwrap_or_else(|e| panic!("the broken copy does not load: {e:?}"));
    let product = PRODUCTS.iter().find(|p| p.name == "dataimporter").unwrap();
    let tally = check_snapshot(product, &snapshot);
    let count = |prefix: &str| {
        tally
            .violations
            .iter()
            .filter(|v| v.starts_with(prefix))
            .count()
    };
    assert!(count("tenant isolation") > 0, "{:?}", tally.violations);
    assert!(count("deny by default") > 0, "{:?}", tally.violations);
    assert!(count("user management") > 0, "{:?}", tally.violations);
}
