//! The five seed models answer what their documents say.
//!
//! Written from the documents (`../shared/seeds/*.txt`) and the naming
//! contract (`../shared/spec/products.md`), not from the policies: one test
//! per role and per rule family (plan limits, tenant isolation, no role,
//! several roles), each request decided through the library against the
//! product's `fixture.entities.yaml`, plus outsider requests that bring their
//! own entities (`Snapshot::with_entities`, and `--entities` on the command
//! line). Every failing expectation of a test is listed at once, with the
//! sentence of the document it comes from.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use cedar_policy::Entities;
use rolegrid::{Limits, Snapshot, SourceFile};
use serde_json::{Value, json};
use std::sync::Arc;

/// Decides requests of one product and gathers every expectation that fails.
struct Checker {
    namespace: &'static str,
    snapshot: Arc<Snapshot>,
    entities: Option<Entities>,
    failures: Vec<String>,
    checked: usize,
}

impl Checker {
    fn new(product: &str, namespace: &'static str) -> Self {
        Self {
            namespace,
            snapshot: common::load(product),
            entities: None,
            failures: Vec::new(),
            checked: 0,
        }
    }

    /// Adds extra entities (YAML, Cedar's entity format) for the next requests.
    fn with_entities(mut self, yaml: &str) -> Self {
        let file = SourceFile::new("outsider.entities.yaml", yaml);
        match rolegrid::with_entities(&self.snapshot, &[file], &Limits::default()) {
            Ok(entities) => self.entities = Some(entities),
            Err(problems) => panic!("extra entities rejected:\n{}", common::render(&problems)),
        }
        self
    }

    /// `Type::id` to Cedar's `NS::Type::"id"`.
    fn uid(&self, short: &str) -> String {
        let (kind, id) = short.split_once("::").expect("Type::id");
        format!("{}::{kind}::\"{id}\"", self.namespace)
    }

    /// Expects `allow` for `user` doing `action` on `resource` (`Type::id`).
    fn expect(
        &mut self,
        allow: bool,
        user: &str,
        action: &str,
        resource: &str,
        context: Option<Value>,
        why: &str,
    ) {
        self.checked += 1;
        let principal = self.uid(&format!("User::{user}"));
        let action_uid = format!("{}::Action::\"{action}\"", self.namespace);
        let resource_uid = self.uid(resource);
        let request =
            match self
                .snapshot
                .request(&principal, &action_uid, &resource_uid, context.clone())
            {
                Ok(request) => request,
                Err(problem) => {
                    self.failures.push(format!(
                        "{user} {action} {resource}: invalid request: {}",
                        problem.message()
                    ));
                    return;
                }
            };
        let answer = match &self.entities {
            Some(entities) => self.snapshot.authorize_with(&request, entities),
            None => self.snapshot.authorize(&request),
        };
        if answer.is_allowed() != allow {
            let context = context.map(|c| format!(" {c}")).unwrap_or_default();
            self.failures.push(format!(
                "{user} {action} {resource}{context}: expected {}, got {} (reasons {:?}, errors {:?})\n    because: {why}",
                if allow { "ALLOW" } else { "DENY" },
                if answer.is_allowed() { "ALLOW" } else { "DENY" },
                common::reasons(&answer),
                answer.errors(),
            ));
        }
    }

    fn allow(&mut self, user: &str, action: &str, resource: &str, why: &str) {
        self.expect(true, user, action, resource, None, why);
    }

    fn deny(&mut self, user: &str, action: &str, resource: &str, why: &str) {
        self.expect(false, user, action, resource, None, why);
    }

    fn allow_with(&mut self, user: &str, action: &str, resource: &str, context: Value, why: &str) {
        self.expect(true, user, action, resource, Some(context), why);
    }

    fn deny_with(&mut self, user: &str, action: &str, resource: &str, context: Value, why: &str) {
        self.expect(false, user, action, resource, Some(context), why);
    }

    /// Expects `allowed(action, resource)` for every pair of `grid`.
    fn grid(
        &mut self,
        user: &str,
        grid: &[(&str, &str, Option<Value>)],
        allowed: impl Fn(&str, &str) -> bool,
        why: &str,
    ) {
        for (action, resource, context) in grid {
            let allow = allowed(action, resource);
            self.expect(allow, user, action, resource, context.clone(), why);
        }
    }

    #[track_caller]
    fn finish(self) {
        assert!(self.checked > 0);
        assert!(
            self.failures.is_empty(),
            "{} of {} expectations failed:\n  {}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n  ")
        );
    }
}

// ======================================================================
// imagekit (001_897ed4761c7c9bf8.txt): six roles
// ======================================================================

mod imagekit {
    use super::*;

    pub const MEDIA: [&str; 6] = [
        "viewMedia",
        "uploadMedia",
        "createFolder",
        "tagMedia",
        "editMedia",
        "deleteMedia",
    ];
    pub const BILLING: [&str; 3] = ["viewBilling", "manageSubscription", "cancelSubscription"];
    pub const OTHER_SECTIONS: [&str; 6] = [
        "viewAnalytics",
        "manageIntegration",
        "purgeCache",
        "viewPerformance",
        "manageDeveloperSettings",
        "manageImageSettings",
    ];
    pub const USER_MANAGEMENT: [&str; 4] = ["viewUsers", "addUser", "changeUserRole", "removeUser"];

    /// Every action on every kind of thing of the acme account, with a
    /// context where the action needs one.
    pub fn acme_grid() -> Vec<(&'static str, &'static str, Option<Value>)> {
        let mut grid = Vec::new();
        for item in [
            "File::file-private",
            "File::file-shared-other",
            "Folder::acme-root",
            "Collection::coll-private",
        ] {
            for action in MEDIA {
                let fits = match action {
                    "uploadMedia" | "createFolder" => item.starts_with("Folder"),
                    "tagMedia" => item.starts_with("File"),
                    _ => true,
                };
                if fits {
                    grid.push((action, item, None));
                }
            }
        }
        for action in BILLING.iter().chain(OTHER_SECTIONS.iter()) {
            grid.push((*action, "Account::acme", None));
        }
        grid.push(("viewUsers", "Account::acme", None));
        grid.push((
            "addUser",
            "Account::acme",
            Some(json!({"role": "developer"})),
        ));
        grid.push((
            "changeUserRole",
            "User::dev-dana",
            Some(json!({"role": "media-full"})),
        ));
        grid.push(("removeUser", "User::dev-dana", None));
        grid
    }

    fn checker() -> Checker {
        Checker::new("imagekit", "ImageKit")
    }

    #[test]
    fn account_admin_has_full_access() {
        let mut c = checker();
        c.grid(
            "ada-admin",
            &acme_grid(),
            |_, _| true,
            "Account administrator: \"User with this role has full access to your ImageKit.io account\"",
        );
        c.allow_with(
            "ada-admin",
            "addUser",
            "Account::acme",
            json!({"role": "account-admin"}),
            "\"can add other users with account administrator role\"",
        );
        for role in ["developer", "media-full", "media-view", "finance"] {
            c.allow_with(
                "ada-admin",
                "changeUserRole",
                "User::vic-view",
                json!({"role": role}),
                "full access includes giving users any of the six roles",
            );
        }
        c.finish();
    }

    #[test]
    fn developer_has_everything_but_user_management_and_billing() {
        let mut c = checker();
        c.grid(
            "dev-dana",
            &acme_grid(),
            |action, _| !USER_MANAGEMENT.contains(&action) && !BILLING.contains(&action),
            "Developer: \"can access everything except user management and billing\"",
        );
        c.finish();
    }

    #[test]
    fn media_full_access_has_every_media_action_and_nothing_else() {
        let mut c = checker();
        c.grid(
            "mel-full",
            &acme_grid(),
            |action, _| MEDIA.contains(&action),
            "Media library full access: \"full access to the media library ... upload marketing assets, create new folders or tag media files\"",
        );
        c.finish();
    }

    #[test]
    fn media_view_only_opens_and_searches() {
        let mut c = checker();
        c.grid(
            "vic-view",
            &acme_grid(),
            |action, _| action == "viewMedia",
            "Media library view-only: \"cannot upload media assets or create new folders. The user can only open and search\"",
        );
        c.finish();
    }

    #[test]
    fn media_restricted_only_reaches_what_is_shared_with_it() {
        let why = "Media library restricted: \"can only access and operate on files, folders, and media collections shared with them\"";
        let mut c = checker();
        // nothing that is not shared with rita, nor any dashboard section
        c.grid("rita-restricted", &acme_grid(), |_, _| false, why);
        // shared as viewer: view only
        for item in [
            "File::file-shared-viewer",
            "Folder::folder-shared-viewer",
            "Collection::coll-shared-viewer",
        ] {
            c.allow("rita-restricted", "viewMedia", item, why);
            c.deny(
                "rita-restricted",
                "editMedia",
                item,
                "a viewer share does not let them change it",
            );
            c.deny(
                "rita-restricted",
                "deleteMedia",
                item,
                "a viewer share does not let them change it",
            );
        }
        c.deny(
            "rita-restricted",
            "tagMedia",
            "File::file-shared-viewer",
            "viewer share",
        );
        c.deny(
            "rita-restricted",
            "uploadMedia",
            "Folder::folder-shared-viewer",
            "viewer share",
        );
        c.deny(
            "rita-restricted",
            "createFolder",
            "Folder::folder-shared-viewer",
            "viewer share",
        );
        // shared as editor: every media action that fits the item
        for item in [
            "File::file-shared-editor",
            "Folder::folder-shared-editor",
            "Collection::coll-shared-editor",
        ] {
            for action in ["viewMedia", "editMedia", "deleteMedia"] {
                c.allow(
                    "rita-restricted",
                    action,
                    item,
                    "contract: \"may do any media action on what is shared with it as an editor\"",
                );
            }
        }
        c.allow(
            "rita-restricted",
            "tagMedia",
            "File::file-shared-editor",
            "editor share",
        );
        c.allow(
            "rita-restricted",
            "uploadMedia",
            "Folder::folder-shared-editor",
            "editor share",
        );
        c.allow(
            "rita-restricted",
            "createFolder",
            "Folder::folder-shared-editor",
            "editor share",
        );
        // shared with someone else only
        c.deny(
            "rita-restricted",
            "viewMedia",
            "File::file-shared-other",
            why,
        );
        c.finish();
    }

    #[test]
    fn finance_has_analytics_and_billing() {
        let mut c = checker();
        c.grid(
            "fin-frank",
            &acme_grid(),
            |action, _| action == "viewAnalytics" || BILLING.contains(&action),
            "Finance: \"can access the analytics and billing section ... has permission to cancel the subscription\" (billing = viewBilling, manageSubscription, cancelSubscription)",
        );
        c.finish();
    }

    #[test]
    fn a_user_without_a_role_may_do_nothing() {
        let mut c = checker();
        c.grid(
            "ned-norole",
            &acme_grid(),
            |_, _| false,
            "contract: \"A user with no role may do nothing\"",
        );
        // even an item shared with it as an editor
        c.deny(
            "ned-norole",
            "editMedia",
            "File::file-shared-other",
            "shares only matter for the restricted role",
        );
        c.finish();
    }

    #[test]
    fn several_roles_give_the_union_of_their_grants() {
        let mut c = checker();
        c.grid(
            "tess-view-finance",
            &acme_grid(),
            |action, _| action == "viewMedia" || action == "viewAnalytics" || BILLING.contains(&action),
            "contract: \"a user with several roles gets the union of their grants\" (media-view + finance)",
        );
        let mut grid = acme_grid();
        grid.push(("viewMedia", "File::file-shared-other", None));
        c.grid(
            "rex-restricted-finance",
            &grid,
            |action, resource| {
                action == "viewAnalytics"
                    || BILLING.contains(&action)
                    || (action == "viewMedia" && resource == "File::file-shared-other")
            },
            "media-restricted (file-shared-other is shared with rex as viewer) + finance",
        );
        c.finish();
    }

    #[test]
    fn user_management_is_for_paid_plans_only() {
        let why =
            "\"Paid plan only: User access management is currently available only to paid users.\"";
        let mut c = checker();
        // initech is on the free plan
        c.deny("ian-admin", "viewUsers", "Account::initech", why);
        c.deny_with(
            "ian-admin",
            "addUser",
            "Account::initech",
            json!({"role": "developer"}),
            why,
        );
        c.deny_with(
            "ian-admin",
            "changeUserRole",
            "User::iris-full",
            json!({"role": "media-view"}),
            why,
        );
        c.deny("ian-admin", "removeUser", "User::iris-full", why);
        // the rest of a free account works
        c.allow(
            "ian-admin",
            "viewBilling",
            "Account::initech",
            "account admins keep full access to the rest",
        );
        c.allow(
            "ian-admin",
            "purgeCache",
            "Account::initech",
            "account admins keep full access to the rest",
        );
        // globex is paid
        c.allow("gus-admin", "viewUsers", "Account::globex", why);
        c.allow_with(
            "gus-admin",
            "addUser",
            "Account::globex",
            json!({"role": "media-full"}),
            why,
        );
        c.allow_with(
            "gus-admin",
            "changeUserRole",
            "User::gil-dev",
            json!({"role": "finance"}),
            why,
        );
        c.allow("gus-admin", "removeUser", "User::gwen-full", why);
        c.finish();
    }

    #[test]
    fn an_account_has_at_most_its_maximum_of_users() {
        let why =
            "\"An ImageKit.io account can have a maximum of 5 users.\" (userCount < maxUsers)";
        let mut c = checker();
        let developer = json!({"role": "developer"});
        c.allow_with(
            "ada-admin",
            "addUser",
            "Account::acme",
            developer.clone(),
            "9 of 10 users",
        );
        c.allow_with(
            "gus-admin",
            "addUser",
            "Account::globex",
            developer.clone(),
            "3 of 5 users",
        );
        c.deny_with(
            "uma-admin",
            "addUser",
            "Account::umbrella",
            developer.clone(),
            why,
        );
        c.deny_with(
            "val-admin",
            "addUser",
            "Account::vandelay",
            developer.clone(),
            why,
        );
        // the limit is on adding: the other user management goes on
        c.allow(
            "uma-admin",
            "viewUsers",
            "Account::umbrella",
            "only adding is limited",
        );
        c.allow_with(
            "uma-admin",
            "changeUserRole",
            "User::ugo-view",
            json!({"role": "media-full"}),
            "only adding is limited",
        );
        c.allow(
            "uma-admin",
            "removeUser",
            "User::ugo-view",
            "only adding is limited",
        );
        c.finish();
    }

    #[test]
    fn the_restricted_role_is_for_enterprise_plans_only() {
        let why = "Media library restricted access: \"Enterprise plan only This user is only available in custom enterprise pricing plans.\"";
        let mut c = checker();
        let restricted = json!({"role": "media-restricted"});
        c.allow_with(
            "ada-admin",
            "addUser",
            "Account::acme",
            restricted.clone(),
            "acme is enterprise",
        );
        c.allow_with(
            "ada-admin",
            "changeUserRole",
            "User::vic-view",
            restricted.clone(),
            "acme is enterprise",
        );
        c.deny_with(
            "gus-admin",
            "addUser",
            "Account::globex",
            restricted.clone(),
            why,
        );
        c.deny_with(
            "gus-admin",
            "changeUserRole",
            "User::gil-dev",
            restricted.clone(),
            why,
        );
        c.finish();
    }

    #[test]
    fn only_the_six_roles_can_be_given() {
        let why = "\"A user can have six different roles\"";
        let mut c = checker();
        for role in ["marketer", "accountant", "owner", ""] {
            c.deny_with(
                "ada-admin",
                "addUser",
                "Account::acme",
                json!({"role": role}),
                why,
            );
            c.deny_with(
                "ada-admin",
                "changeUserRole",
                "User::vic-view",
                json!({"role": role}),
                why,
            );
        }
        c.finish();
    }

    #[test]
    fn tenants_are_isolated() {
        let why = "contract: \"Any request whose resource lies in another tenant is denied, whatever the role, including account admins.\"";
        let mut c = checker();
        // globex's media, even when it lists acme's rita as an editor
        for user in [
            "ada-admin",
            "dev-dana",
            "mel-full",
            "vic-view",
            "rita-restricted",
        ] {
            c.deny(user, "viewMedia", "File::globex-logo", why);
            c.deny(user, "editMedia", "File::globex-logo", why);
            c.deny(user, "viewMedia", "Collection::globex-campaign", why);
            c.deny(user, "uploadMedia", "Folder::globex-root", why);
        }
        c.deny("ada-admin", "viewBilling", "Account::globex", why);
        c.deny("ada-admin", "viewUsers", "Account::globex", why);
        c.deny_with(
            "ada-admin",
            "addUser",
            "Account::globex",
            json!({"role": "developer"}),
            why,
        );
        c.deny_with(
            "ada-admin",
            "changeUserRole",
            "User::gil-dev",
            json!({"role": "finance"}),
            why,
        );
        c.deny("ada-admin", "removeUser", "User::gwen-full", why);
        c.deny("fin-frank", "cancelSubscription", "Account::globex", why);
        c.deny("gus-admin", "viewMedia", "File::file-private", why);
        c.deny("gus-admin", "removeUser", "User::dev-dana", why);
        c.finish();
    }

    #[test]
    fn outsiders_with_their_own_entities() {
        // a third tenant with its admin and a file; a new acme user; a new
        // acme file shared with rita as editor; a request from each side
        let mut c = checker().with_entities(
            r#"
- uid: {type: ImageKit::Account, id: hooli}
  attrs: {plan: enterprise, userCount: 2, maxUsers: 5}
- uid: {type: ImageKit::User, id: hal-admin}
  attrs: {account: {type: ImageKit::Account, id: hooli}}
  parents: [{type: ImageKit::Role, id: account-admin}, {type: ImageKit::Account, id: hooli}]
- uid: {type: ImageKit::File, id: hooli-photo}
  attrs: {viewers: [{type: ImageKit::User, id: rita-restricted}], editors: []}
  parents: [{type: ImageKit::Account, id: hooli}]
- uid: {type: ImageKit::User, id: nina-new}
  attrs: {account: {type: ImageKit::Account, id: acme}}
  parents: [{type: ImageKit::Role, id: media-view}, {type: ImageKit::Account, id: acme}]
- uid: {type: ImageKit::File, id: fresh-upload}
  attrs: {viewers: [], editors: [{type: ImageKit::User, id: rita-restricted}]}
  parents: [{type: ImageKit::Folder, id: acme-root}, {type: ImageKit::Account, id: acme}]
"#,
        );
        let tenant = "contract: tenant isolation, whatever the role";
        c.allow(
            "hal-admin",
            "deleteMedia",
            "File::hooli-photo",
            "full access in its own account",
        );
        c.allow_with(
            "hal-admin",
            "addUser",
            "Account::hooli",
            json!({"role": "media-restricted"}),
            "enterprise, 2 of 5",
        );
        c.deny("hal-admin", "viewMedia", "File::file-private", tenant);
        c.deny("hal-admin", "viewMedia", "File::fresh-upload", tenant);
        c.deny("hal-admin", "removeUser", "User::ada-admin", tenant);
        c.deny("ada-admin", "viewMedia", "File::hooli-photo", tenant);
        c.deny(
            "rita-restricted",
            "viewMedia",
            "File::hooli-photo",
            "shared across tenants: still denied",
        );
        c.allow(
            "nina-new",
            "viewMedia",
            "File::fresh-upload",
            "media view-only",
        );
        c.deny(
            "nina-new",
            "editMedia",
            "File::fresh-upload",
            "media view-only",
        );
        c.allow(
            "rita-restricted",
            "editMedia",
            "File::fresh-upload",
            "shared with rita as editor",
        );
        c.allow(
            "mel-full",
            "tagMedia",
            "File::fresh-upload",
            "media full access",
        );
        c.allow("ada-admin", "removeUser", "User::nina-new", "full access");
        c.finish();
    }
}

// ======================================================================
// imagekit-2020 (000_06c83b3344108a16.txt): four roles
// ======================================================================

mod imagekit_2020 {
    use super::*;
    use imagekit::{BILLING, MEDIA, USER_MANAGEMENT};

    fn checker() -> Checker {
        Checker::new("imagekit-2020", "ImageKit")
    }

    fn acme_grid() -> Vec<(&'static str, &'static str, Option<Value>)> {
        let mut grid = Vec::new();
        for item in [
            "File::acme-logo",
            "Folder::acme-marketing",
            "Collection::acme-campaign",
        ] {
            for action in MEDIA {
                let fits = match action {
                    "uploadMedia" | "createFolder" => item.starts_with("Folder"),
                    "tagMedia" => item.starts_with("File"),
                    _ => true,
                };
                if fits {
                    grid.push((action, item, None));
                }
            }
        }
        for action in [
            "viewAnalytics",
            "viewBilling",
            "manageSubscription",
            "cancelSubscription",
            "manageIntegration",
            "purgeCache",
            "viewPerformance",
            "manageDeveloperSettings",
            "manageImageSettings",
            "viewUsers",
        ] {
            grid.push((action, "Account::acme", None));
        }
        grid.push((
            "addUser",
            "Account::acme",
            Some(json!({"role": "marketer"})),
        ));
        grid.push((
            "changeUserRole",
            "User::mark-marketer",
            Some(json!({"role": "developer"})),
        ));
        grid.push(("removeUser", "User::mark-marketer", None));
        grid
    }

    #[test]
    fn account_admin_has_full_access_and_adds_users() {
        let mut c = checker();
        c.grid(
            "ada-admin",
            &acme_grid(),
            |_, _| true,
            "Account administrator: \"has full access to your ImageKit.io account and can add other users\"",
        );
        for role in ["account-admin", "accountant", "developer", "marketer"] {
            c.allow_with(
                "ada-admin",
                "addUser",
                "Account::acme",
                json!({"role": role}),
                "\"A user can have four different roles\"",
            );
        }
        c.finish();
    }

    #[test]
    fn accountant_has_analytics_and_billing_and_changes_the_subscription() {
        let mut c = checker();
        c.grid(
            "alan-accountant",
            &acme_grid(),
            |action, _| action == "viewAnalytics" || BILLING.contains(&action),
            "Accountant: \"can access analytics and billing section. The user has the permission to change the subscription.\"",
        );
        // a share does not give media access
        c.deny(
            "alan-accountant",
            "viewMedia",
            "Collection::acme-campaign",
            "no media library for accountants",
        );
        c.finish();
    }

    #[test]
    fn developer_has_its_seven_sections() {
        let sections = [
            "manageIntegration",
            "viewAnalytics",
            "purgeCache",
            "viewPerformance",
            "manageDeveloperSettings",
            "manageImageSettings",
        ];
        let mut c = checker();
        c.grid(
            "dev-dana",
            &acme_grid(),
            |action, _| MEDIA.contains(&action) || sections.contains(&action),
            "Developer: \"can access integration, media-library, analytics, cache purge utility, performance center, developers section, and image settings\"",
        );
        c.finish();
    }

    #[test]
    fn marketer_has_the_media_library() {
        let mut c = checker();
        c.grid(
            "mark-marketer",
            &acme_grid(),
            |action, _| MEDIA.contains(&action),
            "Marketer: \"A user with this role can access media-library.\"",
        );
        c.finish();
    }

    #[test]
    fn a_user_without_a_role_may_do_nothing() {
        let mut c = checker();
        c.grid(
            "nobody-nick",
            &acme_grid(),
            |_, _| false,
            "contract: no role, nothing",
        );
        c.deny(
            "nobody-nick",
            "editMedia",
            "File::file-shared-editor",
            "shares give nothing in this version",
        );
        c.finish();
    }

    #[test]
    fn several_roles_give_the_union_of_their_grants() {
        let mut c = checker();
        c.grid(
            "dora-dev-accountant",
            &acme_grid(),
            |action, _| !USER_MANAGEMENT.contains(&action),
            "developer + accountant: every section but user management",
        );
        c.finish();
    }

    #[test]
    fn user_management_is_for_paid_plans_below_the_limit() {
        let mut c = checker();
        let paid = "\"User access management is currently available only to paid users.\"";
        let max = "\"An ImageKit.io account can have a maximum of 5 users.\"";
        c.deny("uma-admin", "viewUsers", "Account::umbrella", paid);
        c.deny_with(
            "uma-admin",
            "addUser",
            "Account::umbrella",
            json!({"role": "marketer"}),
            paid,
        );
        c.allow(
            "uma-admin",
            "manageSubscription",
            "Account::umbrella",
            "the rest of a free account works",
        );
        c.allow(
            "uma-admin",
            "deleteMedia",
            "File::umbrella-photo",
            "the rest of a free account works",
        );
        c.allow_with(
            "gina-admin",
            "addUser",
            "Account::globex",
            json!({"role": "account-admin"}),
            "4 of 5",
        );
        c.deny_with(
            "ian-admin",
            "addUser",
            "Account::initech",
            json!({"role": "marketer"}),
            max,
        );
        c.deny_with(
            "hank-admin",
            "addUser",
            "Account::hooli",
            json!({"role": "marketer"}),
            max,
        );
        c.allow(
            "ian-admin",
            "viewUsers",
            "Account::initech",
            "only adding is limited",
        );
        c.allow(
            "ian-admin",
            "removeUser",
            "User::iris-developer",
            "only adding is limited",
        );
        c.allow_with(
            "ian-admin",
            "changeUserRole",
            "User::iris-developer",
            json!({"role": "marketer"}),
            "only adding is limited",
        );
        // roles of the newer version do not exist here
        c.deny_with(
            "gina-admin",
            "addUser",
            "Account::globex",
            json!({"role": "media-restricted"}),
            "\"A user can have four different roles\"",
        );
        c.deny_with(
            "ada-admin",
            "changeUserRole",
            "User::dev-dana",
            json!({"role": "finance"}),
            "\"A user can have four different roles\"",
        );
        c.finish();
    }

    #[test]
    fn tenants_are_isolated() {
        let why = "contract: tenant isolation, including account admins";
        let mut c = checker();
        for (user, action, resource) in [
            ("ada-admin", "viewMedia", "File::globex-report"),
            ("ada-admin", "viewBilling", "Account::globex"),
            ("ada-admin", "removeUser", "User::gus-developer"),
            ("dev-dana", "purgeCache", "Account::globex"),
            ("mark-marketer", "uploadMedia", "Folder::globex-root"),
            ("alan-accountant", "manageSubscription", "Account::globex"),
            ("gina-admin", "deleteMedia", "File::acme-logo"),
            ("gus-developer", "editMedia", "Collection::acme-campaign"),
        ] {
            c.deny(user, action, resource, why);
        }
        c.deny_with(
            "gina-admin",
            "addUser",
            "Account::acme",
            json!({"role": "marketer"}),
            why,
        );
        c.finish();
    }

    #[test]
    fn outsiders_with_their_own_entities() {
        let mut c = checker().with_entities(
            r#"
- uid: {type: ImageKit::Account, id: wayne}
  attrs: {plan: paid, userCount: 1, maxUsers: 5}
- uid: {type: ImageKit::User, id: bruce-marketer}
  attrs: {account: {type: ImageKit::Account, id: wayne}}
  parents: [{type: ImageKit::Role, id: marketer}, {type: ImageKit::Account, id: wayne}]
- uid: {type: ImageKit::Folder, id: wayne-cave}
  attrs: {viewers: [], editors: []}
  parents: [{type: ImageKit::Account, id: wayne}]
- uid: {type: ImageKit::File, id: new-banner}
  attrs: {viewers: [], editors: []}
  parents: [{type: ImageKit::Folder, id: acme-marketing}, {type: ImageKit::Account, id: acme}]
"#,
        );
        c.allow(
            "bruce-marketer",
            "uploadMedia",
            "Folder::wayne-cave",
            "marketer, own account",
        );
        c.deny(
            "bruce-marketer",
            "viewAnalytics",
            "Account::wayne",
            "marketer: media library only",
        );
        c.deny(
            "bruce-marketer",
            "viewMedia",
            "File::new-banner",
            "another tenant",
        );
        c.allow(
            "mark-marketer",
            "tagMedia",
            "File::new-banner",
            "marketer, own account",
        );
        c.deny(
            "ada-admin",
            "viewMedia",
            "Folder::wayne-cave",
            "another tenant",
        );
        c.finish();
    }
}

// ======================================================================
// dataimporter (002_dfb9659d5f94d741.txt): user and admin
// ======================================================================

mod dataimporter {
    use super::*;

    const OBJECTS: [&str; 5] = [
        "Job::job-acme-sync",
        "Instance::instance-acme-salesforce",
        "Connection::connection-acme-sheets",
        "Schedule::schedule-acme-nightly",
        "Formula::formula-acme-concat",
    ];
    const ADMIN_ONLY: [(&str, &str); 6] = [
        ("viewBilling", "Account::acme"),
        ("updateSubscription", "Account::acme"),
        ("updateLicences", "Account::acme"),
        ("inviteUser", "Account::acme"),
        ("manageUserAccess", "User::uma-user"),
        ("viewUserActivity", "User::uma-user"),
    ];

    fn checker() -> Checker {
        Checker::new("dataimporter", "Dataimporter")
    }

    fn acme_grid() -> Vec<(&'static str, &'static str, Option<Value>)> {
        let mut grid = Vec::new();
        for object in OBJECTS {
            for action in ["view", "create", "update", "delete"] {
                grid.push((action, object, None));
            }
        }
        grid.push(("run", "Job::job-acme-sync", None));
        for (action, resource) in ADMIN_ONLY {
            grid.push((action, resource, None));
        }
        grid
    }

    #[test]
    fn user_role_has_full_access_to_the_objects() {
        let mut c = checker();
        c.grid(
            "uma-user",
            &acme_grid(),
            |action, resource| {
                !ADMIN_ONLY.contains(&(action, resource))
            },
            "User Role: \"Access to the following objects: Jobs, Instances, Connections, Schedules, Formulas\"; \"Create, Update, Delete & Run Jobs.\", \"Create, Update, Delete Instances.\" ...",
        );
        c.finish();
    }

    #[test]
    fn admin_role_adds_billing_licences_and_users() {
        let mut c = checker();
        c.grid(
            "ada-admin",
            &acme_grid(),
            |_, _| true,
            "Admin Role: \"all of the permissions from the User role, plus ... Billing page ... Update Subscriptions and Licences ... invite and manage access for Users\"; \"limited access to other user's activity\"",
        );
        c.allow(
            "ada-admin",
            "viewUserActivity",
            "User::ada-admin",
            "admins see user activity",
        );
        c.finish();
    }

    #[test]
    fn inviting_needs_a_spare_licence() {
        let why = "\"If there are spare licences, you will have a button called Invite User.\"";
        let mut c = checker();
        c.allow(
            "ada-admin",
            "inviteUser",
            "Account::acme",
            "4 of 5 licences active",
        );
        c.allow(
            "gil-admin",
            "inviteUser",
            "Account::globex",
            "2 of 10 licences active",
        );
        c.deny("ian-admin", "inviteUser", "Account::initech", why);
        c.deny("ulla-admin", "inviteUser", "Account::umbrella", why);
        // the rest of the admin role does not depend on licences
        c.allow(
            "ian-admin",
            "updateLicences",
            "Account::initech",
            "buying more licences is how to get a spare one",
        );
        c.allow(
            "ulla-admin",
            "viewBilling",
            "Account::umbrella",
            "the billing page shows the licences",
        );
        c.finish();
    }

    #[test]
    fn a_user_without_a_role_may_do_nothing() {
        let mut c = checker();
        c.grid(
            "nobody",
            &acme_grid(),
            |_, _| false,
            "contract: no role, nothing",
        );
        c.finish();
    }

    #[test]
    fn several_roles_give_the_union_of_their_grants() {
        let mut c = checker();
        c.grid(
            "dual-dora",
            &acme_grid(),
            |_, _| true,
            "user + admin = admin",
        );
        c.finish();
    }

    #[test]
    fn tenants_are_isolated() {
        let why = "contract: tenant isolation, including admins";
        let mut c = checker();
        for (user, action, resource) in [
            ("ada-admin", "view", "Job::job-globex-sync"),
            ("ada-admin", "run", "Job::job-globex-sync"),
            ("ada-admin", "delete", "Formula::formula-globex-concat"),
            ("ada-admin", "viewBilling", "Account::globex"),
            ("ada-admin", "inviteUser", "Account::globex"),
            ("ada-admin", "manageUserAccess", "User::gus-user"),
            ("ada-admin", "viewUserActivity", "User::gil-admin"),
            ("uma-user", "update", "Connection::connection-globex-sheets"),
            ("gus-user", "view", "Schedule::schedule-acme-nightly"),
            ("gil-admin", "updateLicences", "Account::acme"),
        ] {
            c.deny(user, action, resource, why);
        }
        c.finish();
    }

    #[test]
    fn outsiders_with_their_own_entities() {
        let mut c = checker().with_entities(
            r#"
- uid: {type: Dataimporter::Account, id: hooli}
  attrs: {licences: 2, activeLicences: 1}
- uid: {type: Dataimporter::User, id: hal}
  attrs: {account: {type: Dataimporter::Account, id: hooli}, username: hal.oauth}
  parents: [{type: Dataimporter::Role, id: admin}, {type: Dataimporter::Account, id: hooli}]
- uid: {type: Dataimporter::Job, id: job-hooli}
  parents: [{type: Dataimporter::Account, id: hooli}]
- uid: {type: Dataimporter::Job, id: job-acme-new}
  parents: [{type: Dataimporter::Account, id: acme}]
"#,
        );
        c.allow("hal", "run", "Job::job-hooli", "admin, own account");
        c.allow(
            "hal",
            "inviteUser",
            "Account::hooli",
            "1 of 2 licences active",
        );
        c.deny("hal", "run", "Job::job-acme-sync", "another tenant");
        c.deny("hal", "view", "Job::job-acme-new", "another tenant");
        c.allow(
            "uma-user",
            "run",
            "Job::job-acme-new",
            "user role, own account",
        );
        c.deny("uma-user", "view", "Job::job-hooli", "another tenant");
        c.deny(
            "ada-admin",
            "manageUserAccess",
            "User::hal",
            "another tenant",
        );
        c.finish();
    }
}

// ======================================================================
// rudderstack (003_e74c79e16a084c33.txt): view-only, read-write, admin
// ======================================================================

mod rudderstack {
    use super::*;

    const THINGS: [&str; 4] = [
        "Source::acme-src-events",
        "Destination::acme-dest-bigquery",
        "Connection::acme-conn-web-to-bigquery",
        "Transformation::acme-tx-mask-pii",
    ];
    const TEAM_MANAGEMENT: [&str; 4] = [
        "inviteUser",
        "deleteInvitation",
        "changeRole",
        "removeMember",
    ];

    fn checker() -> Checker {
        Checker::new("rudderstack", "RudderStack")
    }

    fn acme_grid() -> Vec<(&'static str, &'static str, Option<Value>)> {
        let mut grid = Vec::new();
        for thing in THINGS {
            for action in ["view", "add", "modify", "delete"] {
                grid.push((action, thing, None));
            }
        }
        grid.push(("viewSecrets", "Destination::acme-dest-bigquery", None));
        grid.push((
            "testTransformation",
            "Transformation::acme-tx-mask-pii",
            None,
        ));
        grid.push(("viewLiveEvents", "Source::acme-src-events", None));
        grid.push(("viewLiveEvents", "Destination::acme-dest-bigquery", None));
        grid.push(("sync", "Source::acme-src-cloud", None));
        grid.push(("sync", "Source::acme-src-warehouse", None));
        grid.push(("viewSyncs", "Source::acme-src-cloud", None));
        for action in [
            "viewAuditLogs",
            "viewTeam",
            "inviteUser",
            "deleteInvitation",
        ] {
            grid.push((action, "Workspace::acme", None));
        }
        grid.push(("changeRole", "User::vera-view", None));
        grid.push(("removeMember", "User::vera-view", None));
        grid
    }

    #[test]
    fn view_only_reads_everything_but_secrets_and_audit_logs() {
        let allowed = |action: &str, _: &str| {
            matches!(
                action,
                "view" | "testTransformation" | "viewLiveEvents" | "viewSyncs" | "viewTeam"
            )
        };
        let mut c = checker();
        c.grid(
            "vera-view",
            &acme_grid(),
            allowed,
            "View-only: \"| Sources | Yes | No | No | No |\"; \"secrets like access keys are hidden from them\"; \"can run tests on existing transformations\"; \"Can view live events\"; \"Cannot sync\"; \"Can view all the details related to the sync\"; \"Cannot view all the audit logs.\"; \"Can view all the members of the team\"; \"Cannot invite new users\"",
        );
        c.finish();
    }

    #[test]
    fn read_write_has_all_but_team_management() {
        let mut c = checker();
        c.grid(
            "rita-rw",
            &acme_grid(),
            |action, _| !TEAM_MANAGEMENT.contains(&action),
            "Read-write: \"complete access to all the RudderStack workspace options included in the plan except team management\"; \"has all the permissions as an admin, except the team management options\"",
        );
        c.finish();
    }

    #[test]
    fn admin_has_complete_access_including_team_management() {
        let mut c = checker();
        c.grid(
            "ada-admin",
            &acme_grid(),
            |_, _| true,
            "Admin: \"complete access to the RudderStack workspace\"; \"Can invite a new user\", \"Can delete any pending invitation\", \"Can modify the roles of all the members (including other admins)\", \"Can remove any member\"",
        );
        c.allow(
            "ada-admin",
            "changeRole",
            "User::adam-admin",
            "\"(including other admins)\"",
        );
        c.allow(
            "ada-admin",
            "removeMember",
            "User::adam-admin",
            "\"Can remove any member from the workspace.\"",
        );
        c.finish();
    }

    #[test]
    fn only_cloud_extract_and_warehouse_actions_sources_sync() {
        let why =
            "\"Can sync the Cloud Extract and Warehouse Actions sources\" (contract: only those)";
        let mut c = checker();
        for user in ["rita-rw", "ada-admin", "vera-view", "dual-dana"] {
            c.deny(user, "sync", "Source::acme-src-events", why);
            c.allow(
                user,
                "viewSyncs",
                "Source::acme-src-events",
                "sync details are viewable by every role",
            );
        }
        c.deny(
            "vera-view",
            "sync",
            "Source::acme-src-cloud",
            "View-only: \"Cannot sync the Cloud Extract and Warehouse Actions sources\"",
        );
        c.allow(
            "dual-dana",
            "sync",
            "Source::acme-src-warehouse",
            "view-only + read-write",
        );
        c.finish();
    }

    #[test]
    fn inviting_stays_below_the_plans_teammate_limit() {
        let why = "\"| RudderStack Cloud Free | 3 |\", \"| RudderStack Cloud Pro | 10 |\", \"| RudderStack Cloud Enterprise | Unlimited |\"";
        let mut c = checker();
        c.allow(
            "ian-admin",
            "inviteUser",
            "Workspace::initech",
            "free, 2 teammates",
        );
        c.deny("hank-admin", "inviteUser", "Workspace::hooli", why);
        c.deny("uma-admin", "inviteUser", "Workspace::umbrella", why);
        c.allow(
            "ada-admin",
            "inviteUser",
            "Workspace::acme",
            "pro, 9 teammates",
        );
        c.deny("sam-admin", "inviteUser", "Workspace::stark", why);
        c.deny("wes-admin", "inviteUser", "Workspace::wayne", why);
        c.allow(
            "gina-admin",
            "inviteUser",
            "Workspace::globex",
            "enterprise: unlimited",
        );
        // removing invitations and members is how to get below the limit
        c.allow(
            "hank-admin",
            "deleteInvitation",
            "Workspace::hooli",
            "not limited",
        );
        c.allow("wes-admin", "viewTeam", "Workspace::wayne", "not limited");
        c.finish();
    }

    #[test]
    fn a_user_without_a_role_may_do_nothing() {
        let mut c = checker();
        c.grid(
            "nick-norole",
            &acme_grid(),
            |_, _| false,
            "contract: no role, nothing",
        );
        c.finish();
    }

    #[test]
    fn several_roles_give_the_union_of_their_grants() {
        let mut c = checker();
        c.grid(
            "dual-dana",
            &acme_grid(),
            |action, _| !TEAM_MANAGEMENT.contains(&action),
            "view-only + read-write = read-write",
        );
        c.finish();
    }

    #[test]
    fn tenants_are_isolated() {
        let why = "contract: tenant isolation, including admins";
        let mut c = checker();
        for (user, action, resource) in [
            ("ada-admin", "view", "Source::globex-src-events"),
            ("ada-admin", "delete", "Destination::globex-dest-s3"),
            ("ada-admin", "viewSecrets", "Destination::globex-dest-s3"),
            ("ada-admin", "sync", "Source::globex-src-cloud"),
            ("ada-admin", "inviteUser", "Workspace::globex"),
            ("ada-admin", "changeRole", "User::gus-view"),
            ("ada-admin", "removeMember", "User::greg-rw"),
            ("rita-rw", "modify", "Transformation::globex-tx-enrich"),
            ("vera-view", "viewTeam", "Workspace::globex"),
            ("gina-admin", "viewAuditLogs", "Workspace::acme"),
            ("gus-view", "view", "Connection::acme-conn-web-to-bigquery"),
        ] {
            c.deny(user, action, resource, why);
        }
        c.finish();
    }

    #[test]
    fn outsiders_with_their_own_entities() {
        let mut c = checker().with_entities(
            r#"
- uid: {type: RudderStack::Workspace, id: pied-piper}
  attrs: {plan: free, teammates: 1}
- uid: {type: RudderStack::User, id: richard}
  attrs: {workspace: {type: RudderStack::Workspace, id: pied-piper}}
  parents: [{type: RudderStack::Role, id: admin}, {type: RudderStack::Workspace, id: pied-piper}]
- uid: {type: RudderStack::Source, id: pp-cloud}
  attrs: {category: cloud-extract}
  parents: [{type: RudderStack::Workspace, id: pied-piper}]
- uid: {type: RudderStack::User, id: new-viewer}
  attrs: {workspace: {type: RudderStack::Workspace, id: acme}}
  parents: [{type: RudderStack::Role, id: view-only}, {type: RudderStack::Workspace, id: acme}]
"#,
        );
        c.allow(
            "richard",
            "sync",
            "Source::pp-cloud",
            "admin, own workspace",
        );
        c.allow(
            "richard",
            "inviteUser",
            "Workspace::pied-piper",
            "free, 1 teammate",
        );
        c.deny(
            "richard",
            "view",
            "Source::acme-src-cloud",
            "another tenant",
        );
        c.deny(
            "richard",
            "removeMember",
            "User::new-viewer",
            "another tenant",
        );
        c.allow(
            "ada-admin",
            "removeMember",
            "User::new-viewer",
            "admin, own workspace",
        );
        c.allow(
            "new-viewer",
            "viewLiveEvents",
            "Source::acme-src-events",
            "view-only",
        );
        c.deny(
            "new-viewer",
            "viewSecrets",
            "Destination::acme-dest-bigquery",
            "view-only: secrets hidden",
        );
        c.deny("new-viewer", "view", "Source::pp-cloud", "another tenant");
        c.finish();
    }
}

// ======================================================================
// fireworks (004_3b6991c454659e1a.txt): inference-user, contributor, user, admin
// ======================================================================

mod fireworks {
    use super::*;

    const RESOURCES: [&str; 4] = ["Deployment", "Model", "FineTuningJob", "Dataset"];

    fn checker() -> Checker {
        Checker::new("fireworks", "Fireworks")
    }

    /// (action, resource, owner of the resource) for acme's resources.
    fn resources_grid() -> Vec<(&'static str, &'static str, &'static str)> {
        let owned = [
            ("Deployment::deploy-ada", "ada-admin"),
            ("Deployment::deploy-uma", "uma-user"),
            ("Deployment::deploy-cora", "cora-contributor"),
            ("Deployment::deploy-ivan", "ivan-inference"),
            ("Model::model-uma", "uma-user"),
            ("Model::model-cora", "cora-contributor"),
            ("Model::model-ada", "ada-admin"),
            ("FineTuningJob::ftjob-uma", "uma-user"),
            ("FineTuningJob::ftjob-cora", "cora-contributor"),
            ("Dataset::dataset-uma", "uma-user"),
            ("Dataset::dataset-cora", "cora-contributor"),
            ("Dataset::dataset-ivan", "ivan-inference"),
        ];
        let mut grid = Vec::new();
        for (resource, owner) in owned {
            for action in ["view", "update", "delete"] {
                grid.push((action, resource, owner));
            }
            if resource.starts_with("Deployment") {
                grid.push(("runInference", resource, owner));
            }
        }
        grid
    }

    /// Checks the resource table for one user of the given rights.
    fn check_resources(c: &mut Checker, user: &str, create: bool, own: bool, others: bool) {
        for (action, resource, owner) in resources_grid() {
            let allow = match action {
                "runInference" | "view" => true,
                _ if owner == user => own,
                _ => others,
            };
            c.expect(
                allow,
                user,
                action,
                resource,
                None,
                "Resource management table: inference and viewing for all; \"Manage their own resources (edit/delete)\"; \"Manage resources owned by others (edit/delete)\"",
            );
        }
        for new in [
            "Deployment::new-deploy-cora",
            "Model::new-model-ivan",
            "FineTuningJob::new-ftjob-uma",
            "Dataset::new-dataset-ada",
        ] {
            c.expect(
                create,
                user,
                "create",
                new,
                None,
                "\"Create new resources (deployments, models, fine tuning jobs, datasets)\"",
            );
        }
    }

    /// Checks the API key & account table for one user.
    fn check_keys_and_users(c: &mut Checker, user: &str, own_key: &str, admin: bool) {
        c.allow(
            user,
            "createApiKey",
            own_key,
            "\"Manage self-owned API keys (create/delete)\": every role",
        );
        c.allow(
            user,
            "deleteApiKey",
            own_key,
            "\"Manage self-owned API keys (create/delete)\": every role",
        );
        c.allow(
            user,
            "viewUsers",
            "Account::acme",
            "\"View all users and service accounts\": every role",
        );
        c.expect(
            admin,
            user,
            "createApiKey",
            "ApiKey::new-svc-key-ada",
            None,
            "\"Create service account API keys\": admin only",
        );
        c.expect(
            admin,
            user,
            "deleteApiKey",
            "ApiKey::svc-key-ada",
            None,
            "\"Delete other users and service accounts API keys\": admin only",
        );
        let other = if user == "uma-user" {
            "ApiKey::key-cora"
        } else {
            "ApiKey::key-uma"
        };
        c.expect(
            admin,
            user,
            "deleteApiKey",
            other,
            None,
            "\"Delete other users and service accounts API keys\": admin only",
        );
        if !admin && user != "ivan-inference" {
            c.deny(
                user,
                "createApiKey",
                "ApiKey::new-key-ivan",
                "self-owned keys only: not a key in someone else's name",
            );
        }
        c.expect(
            admin,
            user,
            "addUser",
            "Account::acme",
            None,
            "\"Add/modify/delete users and their access\": admin only",
        );
        c.expect(
            admin,
            user,
            "updateUserRole",
            "User::nora-norole",
            None,
            "\"Add/modify/delete users and their access\": admin only",
        );
        c.expect(
            admin,
            user,
            "deleteUser",
            "User::nora-norole",
            None,
            "\"Add/modify/delete users and their access\": admin only",
        );
    }

    #[test]
    fn inference_user_views_and_runs_inference() {
        let mut c = checker();
        check_resources(&mut c, "ivan-inference", false, false, false);
        check_keys_and_users(&mut c, "ivan-inference", "ApiKey::key-ivan", false);
        c.allow(
            "ivan-inference",
            "createApiKey",
            "ApiKey::new-key-ivan",
            "self-owned key",
        );
        c.finish();
    }

    #[test]
    fn contributor_creates_and_manages_its_own_resources() {
        let mut c = checker();
        check_resources(&mut c, "cora-contributor", true, true, false);
        check_keys_and_users(&mut c, "cora-contributor", "ApiKey::key-cora", false);
        c.finish();
    }

    #[test]
    fn user_manages_every_resource_but_not_users() {
        let mut c = checker();
        check_resources(&mut c, "uma-user", true, true, true);
        check_keys_and_users(&mut c, "uma-user", "ApiKey::key-uma", false);
        c.deny(
            "uma-user",
            "createApiKey",
            "ApiKey::new-svc-key-uma",
            "\"Create service account API keys\": admin only, even in one's own name",
        );
        c.finish();
    }

    #[test]
    fn admin_has_full_administrative_control() {
        let mut c = checker();
        check_resources(&mut c, "ada-admin", true, true, true);
        check_keys_and_users(&mut c, "ada-admin", "ApiKey::key-ada", true);
        c.allow(
            "ada-admin",
            "deleteApiKey",
            "ApiKey::key-nora",
            "admin deletes other users' keys",
        );
        c.allow(
            "ada-admin",
            "updateUserRole",
            "User::uma-user",
            "admin manages users",
        );
        c.allow(
            "ada-admin",
            "deleteUser",
            "User::ivan-inference",
            "admin manages users",
        );
        c.finish();
    }

    #[test]
    fn a_user_without_a_role_may_do_nothing() {
        let why = "contract: no role, nothing (not even its own key)";
        let mut c = checker();
        for (action, resource, _) in resources_grid() {
            c.deny("nora-norole", action, resource, why);
        }
        for resource in RESOURCES {
            let new = match resource {
                "Deployment" => "Deployment::new-deploy-cora",
                "Model" => "Model::new-model-ivan",
                "FineTuningJob" => "FineTuningJob::new-ftjob-uma",
                _ => "Dataset::new-dataset-ada",
            };
            c.deny("nora-norole", "create", new, why);
        }
        c.deny("nora-norole", "deleteApiKey", "ApiKey::key-nora", why);
        c.deny("nora-norole", "viewUsers", "Account::acme", why);
        c.finish();
    }

    #[test]
    fn several_roles_give_the_union_of_their_grants() {
        let mut c = checker();
        // contributor + inference user: the contributor's grants
        c.allow(
            "dan-contributor-inference",
            "update",
            "Deployment::deploy-dan",
            "contributor: own resource",
        );
        c.allow(
            "dan-contributor-inference",
            "runInference",
            "Deployment::deploy-uma",
            "inference on any deployment",
        );
        c.deny(
            "dan-contributor-inference",
            "delete",
            "Deployment::deploy-uma",
            "neither role manages others' resources",
        );
        c.allow(
            "dan-contributor-inference",
            "create",
            "Model::new-model-ivan",
            "contributor creates",
        );
        c.allow(
            "dan-contributor-inference",
            "deleteApiKey",
            "ApiKey::key-dan",
            "self-owned key",
        );
        c.deny(
            "dan-contributor-inference",
            "deleteApiKey",
            "ApiKey::key-cora",
            "others' keys: admin only",
        );
        c.finish();
    }

    #[test]
    fn tenants_are_isolated() {
        let why = "contract: tenant isolation, including admins";
        let mut c = checker();
        for (user, action, resource) in [
            ("ada-admin", "view", "Deployment::globex-deploy-gina"),
            (
                "ada-admin",
                "runInference",
                "Deployment::globex-deploy-gina",
            ),
            ("ada-admin", "delete", "Model::globex-model-gil"),
            ("ada-admin", "update", "FineTuningJob::globex-ftjob-gina"),
            ("ada-admin", "view", "Dataset::globex-dataset-gil"),
            ("ada-admin", "deleteApiKey", "ApiKey::globex-key-gil"),
            ("ada-admin", "deleteApiKey", "ApiKey::globex-svc-key-gina"),
            ("ada-admin", "viewUsers", "Account::globex"),
            ("ada-admin", "addUser", "Account::globex"),
            ("ada-admin", "deleteUser", "User::gil-contributor"),
            (
                "ivan-inference",
                "runInference",
                "Deployment::globex-deploy-gina",
            ),
            ("gina-admin", "view", "Deployment::deploy-ada"),
            ("gina-admin", "updateUserRole", "User::ada-admin"),
            ("gil-contributor", "view", "Model::model-cora"),
        ] {
            c.deny(user, action, resource, why);
        }
        c.finish();
    }

    #[test]
    fn outsiders_with_their_own_entities() {
        // a deployment about to be made in acme by the contributor, a key for
        // a new user, and a stranger from a third account
        let mut c = checker().with_entities(
            r#"
- uid: {type: Fireworks::Account, id: initech}
- uid: {type: Fireworks::User, id: peter-admin}
  attrs: {account: {type: Fireworks::Account, id: initech}}
  parents: [{type: Fireworks::Role, id: admin}, {type: Fireworks::Account, id: initech}]
- uid: {type: Fireworks::Deployment, id: initech-deploy}
  attrs: {owner: {type: Fireworks::User, id: peter-admin}}
  parents: [{type: Fireworks::Account, id: initech}]
- uid: {type: Fireworks::Deployment, id: cora-next}
  attrs: {owner: {type: Fireworks::User, id: cora-contributor}}
  parents: [{type: Fireworks::Account, id: acme}]
- uid: {type: Fireworks::User, id: ivy-new}
  attrs: {account: {type: Fireworks::Account, id: acme}}
  parents: [{type: Fireworks::Role, id: inference-user}, {type: Fireworks::Account, id: acme}]
- uid: {type: Fireworks::ApiKey, id: ivy-key}
  attrs: {owner: {type: Fireworks::User, id: ivy-new}, serviceAccount: false}
  parents: [{type: Fireworks::Account, id: acme}]
"#,
        );
        c.allow(
            "cora-contributor",
            "create",
            "Deployment::cora-next",
            "contributor creates",
        );
        c.allow(
            "cora-contributor",
            "delete",
            "Deployment::cora-next",
            "contributor: own resource",
        );
        c.deny(
            "ivy-new",
            "create",
            "Deployment::cora-next",
            "inference users do not create",
        );
        c.allow(
            "ivy-new",
            "runInference",
            "Deployment::cora-next",
            "inference on any deployment",
        );
        c.allow(
            "ivy-new",
            "createApiKey",
            "ApiKey::ivy-key",
            "self-owned key",
        );
        c.allow(
            "ada-admin",
            "deleteApiKey",
            "ApiKey::ivy-key",
            "admin deletes others' keys",
        );
        c.allow(
            "peter-admin",
            "delete",
            "Deployment::initech-deploy",
            "admin, own account",
        );
        c.deny(
            "peter-admin",
            "runInference",
            "Deployment::cora-next",
            "another tenant",
        );
        c.deny(
            "peter-admin",
            "deleteUser",
            "User::ivy-new",
            "another tenant",
        );
        c.deny(
            "ada-admin",
            "view",
            "Deployment::initech-deploy",
            "another tenant",
        );
        c.finish();
    }

    #[test]
    fn outsiders_on_the_command_line() {
        // the same kind of request through `--entities`, with Cedar's JSON entity format
        let store = common::TempStore::new();
        let file = store.write(
            "outsider.entities.json",
            r#"[
  {"uid": {"type": "Fireworks::Account", "id": "initech"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Fireworks::User", "id": "peter-admin"},
   "attrs": {"account": {"__entity": {"type": "Fireworks::Account", "id": "initech"}}},
   "parents": [{"type": "Fireworks::Role", "id": "admin"}, {"type": "Fireworks::Account", "id": "initech"}]}
]"#,
        );
        let file = file.to_str().unwrap();
        let ask = |principal: &str, action: &str, resource: &str| {
            let run = common::run(&[
                "authorize",
                "-p",
                "fireworks",
                "--entities",
                file,
                "--principal",
                principal,
                "--action",
                action,
                "--resource",
                resource,
                "--format",
                "json",
            ]);
            run.assert_code(0);
            run.stdout
        };
        assert_eq!(
            ask(
                r#"Fireworks::User::"peter-admin""#,
                r#"Fireworks::Action::"view""#,
                r#"Fireworks::Deployment::"deploy-ada""#
            ),
            "{\"decision\":\"deny\",\"reasons\":[\"tenant-isolation\"],\"errors\":[]}\n"
        );
        assert_eq!(
            ask(
                r#"Fireworks::User::"peter-admin""#,
                r#"Fireworks::Action::"addUser""#,
                r#"Fireworks::Account::"initech""#
            ),
            "{\"decision\":\"allow\",\"reasons\":[\"add-modify-delete-users\"],\"errors\":[]}\n"
        );
    }
}

// ======================================================================
// every product
// ======================================================================

#[test]
fn every_seed_product_loads_strictly() {
    let store = common::store();
    let products = store.products().unwrap();
    for product in [
        "dataimporter",
        "fireworks",
        "imagekit",
        "imagekit-2020",
        "rudderstack",
    ] {
        assert!(products.iter().any(|p| p == product), "{product} missing");
        let snapshot = common::load(product);
        assert!(snapshot.warnings().is_empty(), "{product} has warnings");
        assert!(snapshot.policy_count() > 0);
        assert!(snapshot.entity_count() > 0);
    }
}
