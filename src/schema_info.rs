//! What the matrix needs from the schema that `cedar_policy::Schema` does not
//! tell: the order in which entity types and actions are declared (rows follow
//! the schema, as the documents' tables follow their prose), and the type of
//! each action's context (to choose context values to ask with).

use cedar_policy::{EntityUid, SchemaFragment};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The type of a context attribute, resolved from the schema's JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrType {
    String,
    Long,
    Bool,
    /// An entity type, fully qualified (`NS::Type`).
    Entity(String),
    Set(Box<AttrType>),
    Record(Vec<Attr>),
    /// Anything the matrix cannot enumerate (extension types, unknown names).
    Other(String),
}

/// One attribute of a record type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    pub name: String,
    pub ty: AttrType,
    pub required: bool,
}

/// Declaration order and context types of one schema.
#[derive(Debug, Default)]
pub(crate) struct SchemaInfo {
    type_order: HashMap<String, usize>,
    action_order: HashMap<(String, String), usize>,
    contexts: HashMap<(String, String), Vec<Attr>>,
}

/// `(namespace, id)` of an action uid, the key of the maps above.
pub(crate) fn action_key(action: &EntityUid) -> (String, String) {
    (
        action.type_name().namespace(),
        action.id().unescaped().to_owned(),
    )
}

impl SchemaInfo {
    /// Reads the schema text (Cedar syntax). A schema that does not parse
    /// gives an empty `SchemaInfo` (the snapshot was built from it, so this
    /// only happens when the file changed since).
    pub fn from_cedarschema(text: &str) -> Self {
        let mut info = Self::default();
        scan_order(text, &mut info);
        if let Ok((fragment, _warnings)) = SchemaFragment::from_cedarschema_str(text)
            && let Ok(json) = fragment.to_json_value()
        {
            info.read_contexts(&json);
        }
        info
    }

    /// Where an entity type (`NS::Type`) was declared, if known.
    pub fn type_position(&self, name: &str) -> Option<usize> {
        self.type_order.get(name).copied()
    }

    /// Where an action was declared, if known.
    pub fn action_position(&self, action: &EntityUid) -> Option<usize> {
        self.action_order.get(&action_key(action)).copied()
    }

    /// The attributes of an action's context (empty when it has none).
    pub fn context(&self, action: &EntityUid) -> &[Attr] {
        self.contexts
            .get(&action_key(action))
            .map_or(&[], Vec::as_slice)
    }

    fn read_contexts(&mut self, json: &Value) {
        let Some(namespaces) = json.as_object() else {
            return;
        };
        // entity and common type names of every namespace, for name resolution
        let mut entity_types = Vec::new();
        let mut common_types: BTreeMap<String, &Value> = BTreeMap::new();
        for (ns, def) in namespaces {
            if let Some(types) = def.get("entityTypes").and_then(Value::as_object) {
                entity_types.extend(types.keys().map(|t| qualify(ns, t)));
            }
            if let Some(types) = def.get("commonTypes").and_then(Value::as_object) {
                for (name, ty) in types {
                    common_types.insert(qualify(ns, name), ty);
                }
            }
        }
        let resolver = Resolver {
            entity_types: &entity_types,
            common_types: &common_types,
        };
        for (ns, def) in namespaces {
            let Some(actions) = def.get("actions").and_then(Value::as_object) else {
                continue;
            };
            for (id, action) in actions {
                let Some(context) = action.get("appliesTo").and_then(|a| a.get("context")) else {
                    continue;
                };
                if let AttrType::Record(attrs) = resolver.resolve(ns, context, 0) {
                    self.contexts.insert((ns.clone(), id.clone()), attrs);
                }
            }
        }
    }
}

fn qualify(ns: &str, name: &str) -> String {
    if ns.is_empty() || name.contains("::") {
        name.to_owned()
    } else {
        format!("{ns}::{name}")
    }
}

struct Resolver<'a> {
    entity_types: &'a [String],
    common_types: &'a BTreeMap<String, &'a Value>,
}

impl Resolver<'_> {
    fn resolve(&self, ns: &str, ty: &Value, depth: usize) -> AttrType {
        if depth > 32 {
            return AttrType::Other("deeply nested type".to_owned());
        }
        let kind = ty.get("type").and_then(Value::as_str).unwrap_or_default();
        let name = ty.get("name").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "String" => AttrType::String,
            "Long" => AttrType::Long,
            "Boolean" | "Bool" => AttrType::Bool,
            "Entity" => AttrType::Entity(self.entity_name(ns, name)),
            "Extension" => AttrType::Other(name.to_owned()),
            "Set" => match ty.get("element") {
                Some(element) => AttrType::Set(Box::new(self.resolve(ns, element, depth + 1))),
                None => AttrType::Other("Set".to_owned()),
            },
            "Record" => {
                let mut attrs = Vec::new();
                if let Some(fields) = ty.get("attributes").and_then(Value::as_object) {
                    for (field, field_ty) in fields {
                        attrs.push(Attr {
                            name: field.clone(),
                            ty: self.resolve(ns, field_ty, depth + 1),
                            required: field_ty
                                .get("required")
                                .and_then(Value::as_bool)
                                .unwrap_or(true),
                        });
                    }
                }
                AttrType::Record(attrs)
            }
            "EntityOrCommon" => self.named(ns, name, depth),
            other => self.named(ns, other, depth),
        }
    }

    /// A name that may be a common type, an entity type or a primitive.
    fn named(&self, ns: &str, name: &str, depth: usize) -> AttrType {
        for candidate in [qualify(ns, name), name.to_owned()] {
            if let Some(ty) = self.common_types.get(&candidate) {
                let owner = candidate.rsplit_once("::").map_or("", |(n, _)| n);
                return self.resolve(owner, ty, depth + 1);
            }
            if self.entity_types.contains(&candidate) {
                return AttrType::Entity(candidate);
            }
        }
        match name.trim_start_matches("__cedar::") {
            "String" => AttrType::String,
            "Long" => AttrType::Long,
            "Bool" | "Boolean" => AttrType::Bool,
            other => AttrType::Other(other.to_owned()),
        }
    }

    fn entity_name(&self, ns: &str, name: &str) -> String {
        let qualified = qualify(ns, name);
        if self.entity_types.contains(&qualified) {
            qualified
        } else {
            name.to_owned()
        }
    }
}

/// A token of Cedar schema text, as far as the order scan needs.
#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    Str(String),
    Punct(char),
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while bytes.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
        } else if b == b'"' {
            let mut value = String::new();
            i += 1;
            let mut chars = text.get(i..).unwrap_or_default().char_indices();
            let mut end = text.len();
            while let Some((offset, c)) = chars.next() {
                match c {
                    '"' => {
                        end = i + offset + 1;
                        break;
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    c => value.push(c),
                }
            }
            i = end;
            tokens.push(Token::Str(value));
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            let start = i;
            while bytes
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                i += 1;
            }
            tokens.push(Token::Ident(text.get(start..i).unwrap_or_default()));
        } else if b == b':' && bytes.get(i + 1) == Some(&b':') {
            tokens.push(Token::Punct(':'));
            i += 2;
        } else {
            // a multi-byte character is skipped whole
            let width = text
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            if b.is_ascii() {
                tokens.push(Token::Punct(char::from(b)));
            }
            i += width;
        }
    }
    tokens
}

/// Records the order of `entity` and `action` declarations, tracking
/// `namespace X { ... }` blocks. One pass over the schema's tokens, kept
/// whole as the state machine it is.
fn scan_order(text: &str, info: &mut SchemaInfo) {
    let tokens = tokenize(text);
    let mut namespaces: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut position = 0usize;
    let mut i = 0;
    let mut statement_start = true;
    while let Some(token) = tokens.get(i) {
        match token {
            Token::Punct('{') => {
                depth += 1;
                statement_start = true;
            }
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if namespaces.last().is_some_and(|(_, d)| *d == depth) {
                    namespaces.pop();
                }
                statement_start = true;
            }
            Token::Punct(';') => statement_start = true,
            Token::Punct('@') => {
                // annotation: `@name` or `@name("value")`; skip it whole
                i += 1;
                if tokens.get(i + 1) == Some(&Token::Punct('(')) {
                    i += 1;
                    while tokens.get(i).is_some_and(|t| *t != Token::Punct(')')) {
                        i += 1;
                    }
                }
                statement_start = true;
            }
            Token::Ident("namespace") if statement_start => {
                let mut name = String::new();
                i += 1;
                while let Some(t) = tokens.get(i) {
                    match t {
                        Token::Ident(part) => name.push_str(part),
                        Token::Punct(':') => name.push_str("::"),
                        _ => break,
                    }
                    i += 1;
                }
                if tokens.get(i) == Some(&Token::Punct('{')) {
                    namespaces.push((name, depth));
                    depth += 1;
                }
                statement_start = true;
            }
            Token::Ident(keyword @ ("entity" | "action")) if statement_start => {
                let ns = namespaces.last().map_or("", |(n, _)| n.as_str()).to_owned();
                let is_action = *keyword == "action";
                i += 1;
                loop {
                    let name = match tokens.get(i) {
                        Some(Token::Ident(name)) => (*name).to_owned(),
                        Some(Token::Str(name)) if is_action => name.clone(),
                        _ => break,
                    };
                    if is_action {
                        info.action_order
                            .entry((ns.clone(), name))
                            .or_insert(position);
                    } else {
                        info.type_order
                            .entry(qualify(&ns, &name))
                            .or_insert(position);
                    }
                    position += 1;
                    if tokens.get(i + 1) == Some(&Token::Punct(',')) {
                        i += 2;
                    } else {
                        break;
                    }
                }
                statement_start = false;
            }
            _ => statement_start = false,
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn order_follows_declarations() -> Result<(), Box<dyn std::error::Error>> {
        let text = r#"
            // entity Ignored;
            namespace App {
              @doc("the tenant") entity Account { plan: String };
              entity Role;
              entity File, Folder in [Account];
              action "view", edit appliesTo { principal: Account, resource: File,
                context: { role: String, level?: Long, who: Account, flags: Set<Bool> } };
              action share appliesTo { principal: Account, resource: [File, Folder] };
            }
        "#;
        let info = SchemaInfo::from_cedarschema(text);
        let pos = |t: &str| info.type_position(t);
        assert!(pos("App::Account") < pos("App::Role"));
        assert!(pos("App::File") < pos("App::Folder"));
        assert_eq!(pos("Ignored"), None);
        let action =
            |id: &str| EntityUid::from_str(&format!("App::Action::\"{id}\"")).map_err(Box::new);
        let (view, edit, share) = (action("view")?, action("edit")?, action("share")?);
        assert!(info.action_position(&view) < info.action_position(&edit));
        assert!(info.action_position(&edit) < info.action_position(&share));
        let context = info.context(&edit);
        let find = |name: &str| {
            context
                .iter()
                .find(|a| a.name == name)
                .ok_or_else(|| format!("no context attribute {name}"))
        };
        assert_eq!(find("role")?.ty, AttrType::String);
        assert_eq!(find("level")?.ty, AttrType::Long);
        assert!(!find("level")?.required);
        assert_eq!(find("who")?.ty, AttrType::Entity("App::Account".to_owned()));
        assert_eq!(find("flags")?.ty, AttrType::Set(Box::new(AttrType::Bool)));
        assert!(info.context(&share).is_empty());
        Ok(())
    }
}
