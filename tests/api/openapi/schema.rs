//! Schema validation for the OpenAPI test: the served document with its component schemas
//! closed, and a checker that calls routes on a [`Desk`] and validates each answer.

use crate::desk::Desk;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every named schema that some `allOf` composes (a flattened struct): closing it would
/// refuse the fields its neighbours in the composition add.
fn composed_names(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(parts)) = object.get("allOf") {
                for part in parts {
                    if let Some(Value::String(target)) = part.get("$ref") {
                        names.insert(target.trim_start_matches("#/components/schemas/").into());
                    }
                }
            }
            object
                .values()
                .for_each(|child| composed_names(child, names));
        }
        Value::Array(items) => items.iter().for_each(|child| composed_names(child, names)),
        _ => {}
    }
}

/// `schema` with every object that lists its properties closed to other fields, except
/// the direct parts of an `allOf` (each sees only some of the fields).
fn close(schema: &mut Value, in_all_of: bool) {
    let Value::Object(object) = schema else {
        return;
    };
    if !in_all_of
        && object.contains_key("properties")
        && !object.contains_key("additionalProperties")
    {
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, child) in object.iter_mut() {
        match (key.as_str(), child) {
            ("properties", Value::Object(properties)) => {
                properties.values_mut().for_each(|p| close(p, false));
            }
            ("allOf", Value::Array(parts)) => parts.iter_mut().for_each(|p| close(p, true)),
            ("oneOf" | "anyOf", Value::Array(parts)) => {
                parts.iter_mut().for_each(|p| close(p, false));
            }
            ("items" | "additionalProperties", child @ Value::Object(_)) => close(child, false),
            _ => {}
        }
    }
}

/// The served document, with its component schemas closed (see [`close`]).
pub(super) struct Document {
    raw: Value,
    components: Value,
}

impl Document {
    fn new(raw: Value) -> Document {
        let mut components = raw["components"].clone();
        let mut composed = BTreeSet::new();
        composed_names(&raw, &mut composed);
        if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
            for (name, schema) in schemas.iter_mut() {
                close(schema, composed.contains(name));
            }
        }
        Document { raw, components }
    }

    /// The documented JSON schema of `method path`'s answer with `status`, if any.
    pub(super) fn schema(&self, method: &Method, path: &str, status: u16) -> Option<Value> {
        let operation = &self.raw["paths"][path][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is not documented");
        let schema =
            &operation["responses"][status.to_string()]["content"]["application/json"]["schema"];
        schema.as_object().filter(|object| !object.is_empty())?;
        Some(schema.clone())
    }

    /// Validates `answer` against `schema`, resolving references in the document.
    #[track_caller]
    pub(super) fn check(&self, what: &str, schema: Value, answer: &Value) {
        let mut part = schema;
        close(&mut part, false);
        let root = json!({ "allOf": [part], "components": self.components });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|error| panic!("{what}: the documented schema is invalid: {error}"));
        let errors: Vec<String> = validator
            .iter_errors(answer)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the answer drifts from its documented schema:\n{}\nanswer: {answer}",
            errors.join("\n")
        );
    }
}

/// Calls routes on a [`Desk`] and checks each answer against the document.
pub(super) struct Checker {
    pub(super) desk: Desk,
    pub(super) document: Document,
    pub(super) checked: BTreeSet<String>,
}

impl Checker {
    pub(super) async fn new() -> Checker {
        let desk = Desk::new().await;
        let (status, raw) = desk
            .call(Method::GET, "/openapi.json", &desk.admin, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        Checker {
            desk,
            document: Document::new(raw),
            checked: BTreeSet::new(),
        }
    }

    /// Calls `method uri` (documented as `path`) and checks the answer, which must have
    /// `expected` status; returns it.
    pub(super) async fn call(
        &mut self,
        method: Method,
        path: &str,
        uri: &str,
        token: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, answer) = self.desk.call(method.clone(), uri, token, body).await;
        let what = format!("{method} {uri} ({status})");
        assert_eq!(status.as_u16(), expected, "{what}: {answer}");
        match self.document.schema(&method, path, status.as_u16()) {
            Some(schema) => self.document.check(&what, schema, &answer),
            None => {
                assert!(
                    !status.is_success(),
                    "{what}: no schema is documented for this answer"
                );
                let error = json!({ "$ref": "#/components/schemas/ErrorBody" });
                self.document.check(&what, error, &answer);
            }
        }
        self.checked.insert(format!("{method} {path} {expected}"));
        answer
    }
}
