//! OpenAPI pieces for routes declared from a table rather than one `#[utoipa::path]` per
//! handler (the chat actions, the two document kinds): an [`Operation`] described by a
//! [`Doc`] and the schemas it names, so such a route is documented by the same row that
//! routes it, as `utoipa_axum::routes!` does for an annotated handler.

use crate::http::error::ErrorBody;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};

/// Named schemas an OpenAPI document collects, as `utoipa_axum` gathers them.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// Adds `T`'s schema (and those it refers to) to `schemas`; returns a reference to it.
pub fn schema_of<T: utoipa::ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    Ref::from_schema_name(T::name()).into()
}

/// What one table-declared operation says about itself.
pub struct Doc<'a> {
    pub operation_id: &'a str,
    pub tag: &'a str,
    pub summary: &'a str,
    /// Path parameters with their descriptions, in path order.
    pub path_params: &'a [(&'a str, &'a str)],
    /// The JSON request body's schema, when the operation takes one.
    pub request: Option<RefOr<Schema>>,
    /// Success statuses with their description and JSON body schema.
    pub success: Vec<(u16, &'a str, RefOr<Schema>)>,
    /// Error statuses with the codes they carry (bodies are [`ErrorBody`]).
    pub errors: &'a [(u16, &'a str)],
}

impl Doc<'_> {
    /// The operation, registering [`ErrorBody`] in `schemas` when it has error answers.
    pub fn operation(self, schemas: &mut Schemas) -> Operation {
        let mut builder = OperationBuilder::new()
            .tag(self.tag)
            .operation_id(Some(self.operation_id))
            .summary(Some(self.summary));
        for (name, description) in self.path_params {
            builder = builder.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(*description))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
        }
        if let Some(schema) = self.request {
            builder = builder.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        for (status, description, schema) in self.success {
            builder = builder.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build(),
            );
        }
        if !self.errors.is_empty() {
            let error = schema_of::<ErrorBody>(schemas);
            for (status, description) in self.errors {
                builder = builder.response(
                    status.to_string(),
                    ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(error.clone())).build(),
                        )
                        .build(),
                );
            }
        }
        builder.build()
    }
}

/// A path item holding `operations` at their methods.
pub fn path_item(operations: Vec<(HttpMethod, Operation)>) -> PathItem {
    let mut operations = operations.into_iter();
    let Some((method, first)) = operations.next() else {
        return PathItem::default();
    };
    let mut item = PathItem::new(method, first);
    for (method, operation) in operations {
        item.merge_operations(PathItem::new(method, operation));
    }
    item
}
