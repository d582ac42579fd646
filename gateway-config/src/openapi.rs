//! The JSON API's OpenAPI 3.1 document, made from the descriptor set the gRPC-JSON
//! transcoder reads, so that the two cannot disagree.
//!
//! Each `google.api.http` rule (and additional binding) is an operation: its path
//! template, path parameters, a request body for `body: "*"` (or the named field),
//! query parameters for the other fields of a rule without a body. Schemas follow the
//! proto3 JSON mapping as the gateway prints it: lowerCamel names, 64-bit integers as
//! strings, enums by name, `Timestamp` as RFC 3339, `FieldMask` as comma-separated
//! paths, no field required in a response (fields left at their default are not
//! printed). A `google.api.HttpBody` reply is its media type (the cover's PNG); a
//! server stream is newline-delimited JSON, one message a line. The protos' comments
//! become summaries and descriptions. What a request must hold comes from the fields'
//! annotations: `google.api.field_behavior = REQUIRED` and our `superstar.v1.bounds`
//! (most characters, largest count, UUID); a read mask lists the reply's fields.
//!
//! Written by hand: no maintained generator of OpenAPI 3.1 from `google.api.http` rules
//! builds from the package registries. `docs/openapi.json` is this document as
//! committed; a test fails when the two drift apart.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, FileDescriptor, Kind,
    MessageDescriptor, MethodDescriptor, Value,
};
use serde_json::{Map, Value as Json, json};

/// The services the gateway serves over JSON.
const SERVICES: [&str; 2] = ["superstar.v1.SongProducer", "superstar.v1.CoverDesigner"];

/// The media type of the one `google.api.HttpBody` the API answers with: a cover.
const HTTP_BODY_MEDIA_TYPE: &str = "image/png";

/// The error of an operation on a resource by id.
const NOT_FOUND: (&str, &str) = ("404", "No resource has this id.");

/// The errors every operation may answer with, beside its own: the gateway's
/// (401, 413, 429) and the services' (400, 409, 499, 500, 503, 504).
const ERRORS: [(&str, &str); 9] = [
    (
        "400",
        "A field is invalid (INVALID_ARGUMENT); `details` has a `google.rpc.BadRequest` naming it.",
    ),
    ("401", "No API key, or one the gateway does not know."),
    (
        "409",
        "The attempt lost its claim on its `request_id` while it ran (ABORTED, `CLAIM_LOST`): retry with the same id for the order's outcome.",
    ),
    ("413", "The request body is larger than 64 KiB."),
    (
        "429",
        "A rate limit or the model budget is spent; a service's refusal has a `google.rpc.RetryInfo`, the gateway's `x-ratelimit-*` headers.",
    ),
    (
        "503",
        "A service or the model provider is unavailable; try again.",
    ),
    (
        "499",
        "The call was cancelled (CANCELLED): the caller went away before the answer.",
    ),
    (
        "500",
        "The service failed (INTERNAL); the details are in its log, under the response's `x-request-id`.",
    ),
    ("504", "The deadline passed."),
];

/// A string with a character that is not white space: the services trim text, and
/// white space is what Rust's `char::is_whitespace` calls so (Unicode's White_Space,
/// spelled out: regex engines differ on `\s`).
const NOT_BLANK: &str = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// A read mask's type.
const FIELD_MASK: &str = "google.protobuf.FieldMask";

/// A UUID in its hyphenated form.
const UUID: &str = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/// The document, as JSON.
pub fn document() -> Json {
    let pool = DescriptorPool::decode(superstar_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled descriptor set decodes");
    let http = pool
        .get_extension_by_name("google.api.http")
        .expect("the descriptor set carries google/api/annotations.proto");
    let mut paths: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    let mut schemas = Schemas::new(&pool);
    for service in SERVICES {
        let service = pool
            .get_service_by_name(service)
            .expect("the service is in the descriptor set");
        for method in service.methods() {
            let options = method.options();
            if !options.has_extension(&http) {
                continue; // gRPC only
            }
            let Value::Message(rule) = options.get_extension(&http).into_owned() else {
                continue;
            };
            let mut rules = vec![rule.clone()];
            if let Some(Value::List(more)) = field(&rule, "additional_bindings") {
                rules.extend(more.into_iter().filter_map(|binding| match binding {
                    Value::Message(binding) => Some(binding),
                    _ => None,
                }));
            }
            for (index, rule) in rules.iter().enumerate() {
                let Some((verb, template)) = ["get", "put", "post", "delete", "patch"]
                    .into_iter()
                    .find_map(|verb| text(rule, verb).map(|path| (verb, path)))
                else {
                    continue;
                };
                let body = text(rule, "body").unwrap_or_default();
                let (path, operation) = operation(&method, &template, &body, index, &mut schemas);
                paths
                    .entry(path)
                    .or_default()
                    .insert(verb.to_owned(), operation);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Superstar",
            "version": "v1",
            "description": "Albums, songs and covers made by models, over JSON. Generated from the protos (`proto/superstar/v1`) by the gateway, which serves this document at `/openapi.json`. gRPC clients use the same API through reflection.",
        },
        "servers": [{"url": "https://localhost:8443"}],
        "security": [{"apiKey": []}, {"bearer": []}],
        "tags": SERVICES.map(|name| {
            let service = pool.get_service_by_name(name).expect("the service is in the descriptor set");
            json!({"name": short_name(name), "description": comments(&service.parent_file(), service.path())})
        }),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "The API key as a bearer token."},
            },
            "schemas": schemas.finish(),
            "responses": ERRORS.into_iter().chain([NOT_FOUND]).map(|(status, description)| (status.to_owned(), json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }))).collect::<Map<_, _>>(),
        },
    })
}

/// The operation of `method` for one HTTP rule: its OpenAPI path and object.
fn operation(
    method: &MethodDescriptor,
    template: &str,
    body: &str,
    index: usize,
    schemas: &mut Schemas,
) -> (String, Json) {
    let input = method.input();
    // `{id}` or `{id=…}`: the field's name, as the transcoder matches it.
    let mut path_fields = BTreeSet::new();
    let mut path = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("a closed path variable") + start;
        let variable = &rest[start + 1..end];
        let name = variable.split('=').next().unwrap_or(variable);
        path.push_str(&rest[..start]);
        path.push_str(&format!("{{{name}}}"));
        path_fields.insert(name.to_owned());
        rest = &rest[end + 1..];
    }
    path.push_str(rest);

    let mut parameters: Vec<Json> = path_fields
        .iter()
        .map(|name| {
            let field = input
                .get_field_by_name(name)
                .expect("a path variable names a field");
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description(&field),
                "schema": schemas.field(&field),
            })
        })
        .collect();
    let mut operation = Map::new();
    let (summary, explained) = summary(&comments(&method.parent_file(), method.path()));
    operation.insert("operationId".into(), json!(operation_id(method, index)));
    operation.insert(
        "tags".into(),
        json!([short_name(method.parent_service().full_name())]),
    );
    operation.insert("summary".into(), json!(summary));
    if explained != summary {
        operation.insert("description".into(), json!(explained));
    }
    let unbound = input
        .fields()
        .filter(|field| !path_fields.contains(field.name()));
    match body {
        "" => parameters.extend(unbound.map(|field| {
            let mut schema = schemas.field(&field);
            let kind = field.kind();
            if kind.as_message().map(MessageDescriptor::full_name) == Some(FIELD_MASK) {
                // The fields of what the method returns, e.g. `title,lyrics`.
                let names: Vec<_> = method
                    .output()
                    .fields()
                    .map(|field| field.json_name().to_owned())
                    .collect();
                let name = names.join("|");
                schema["pattern"] = json!(format!("^(({name})(,({name}))*)?$"));
            }
            json!({
                "name": field.json_name(),
                "in": "query",
                "description": description(&field),
                "schema": schema,
            })
        })),
        "*" => {
            let schema = if path_fields.is_empty() {
                schemas.request(&input)
            } else {
                schemas.object(&input, unbound, true)
            };
            operation.insert(
                "requestBody".into(),
                json!({
                    "required": true,
                    "content": {"application/json": {"schema": schema}},
                }),
            );
        }
        name => {
            let field = input
                .get_field_by_name(name)
                .expect("a rule's body names a field");
            operation.insert(
                "requestBody".into(),
                json!({
                    "required": true,
                    "content": {"application/json": {"schema": schemas.field(&field)}},
                }),
            );
        }
    }
    if !parameters.is_empty() {
        operation.insert("parameters".into(), json!(parameters));
    }
    let output = method.output();
    let reply = if output.full_name() == "google.api.HttpBody" {
        json!({
            "description": format!("The image itself ({HTTP_BODY_MEDIA_TYPE})."),
            "content": {HTTP_BODY_MEDIA_TYPE: {"schema": {"type": "string", "contentMediaType": HTTP_BODY_MEDIA_TYPE}}},
        })
    } else if method.is_server_streaming() {
        json!({
            "description": format!("A stream of `{}`, newline-delimited: one JSON message a line, each sent as it is made. An error after the first message ends the stream.", output.name()),
            "content": {"application/json": {"schema": schemas.reference(&output), "x-stream": "newline-delimited"}},
        })
    } else {
        json!({
            "description": format!("The `{}`.", output.name()),
            "content": {"application/json": {"schema": schemas.reference(&output)}},
        })
    };
    let mut responses = Map::new();
    responses.insert("200".into(), reply);
    let not_found = path_fields.contains("id").then_some(NOT_FOUND);
    for (status, _) in ERRORS.into_iter().chain(not_found) {
        responses.insert(
            status.into(),
            json!({"$ref": format!("#/components/responses/{status}")}),
        );
    }
    operation.insert("responses".into(), Json::Object(responses));
    (path, Json::Object(operation))
}

/// The schemas the operations refer to, each message once.
struct Schemas {
    done: BTreeMap<String, Json>,
    pending: Vec<MessageDescriptor>,
    /// The messages that are a request's body.
    requests: BTreeSet<String>,
    /// `google.api.field_behavior`, and our own `superstar.v1.bounds`.
    behavior: ExtensionDescriptor,
    bounds: ExtensionDescriptor,
}

impl Schemas {
    fn new(pool: &DescriptorPool) -> Self {
        let extension = |name| {
            pool.get_extension_by_name(name)
                .unwrap_or_else(|| panic!("the descriptor set carries {name}"))
        };
        Self {
            done: BTreeMap::new(),
            pending: Vec::new(),
            requests: BTreeSet::new(),
            behavior: extension("google.api.field_behavior"),
            bounds: extension("superstar.v1.bounds"),
        }
    }

    /// Whether the field is `google.api.field_behavior = REQUIRED`.
    fn required(&self, field: &FieldDescriptor) -> bool {
        const REQUIRED: i32 = 2;
        match field.options().get_extension(&self.behavior).as_ref() {
            Value::List(behaviors) => behaviors
                .iter()
                .any(|behavior| behavior.as_enum_number() == Some(REQUIRED)),
            _ => false,
        }
    }

    /// What the protos say a field's value must be beyond its type, as schema keywords:
    /// its `superstar.v1.bounds`, and for a required string, not blank.
    fn bounded(&self, field: &FieldDescriptor, schema: &mut Json) {
        let options = field.options();
        let bounds = options.get_extension(&self.bounds);
        let Some(bounds) = bounds.as_message() else {
            return;
        };
        let get = |name: &str| {
            bounds
                .get_field_by_name(name)
                .map(|value| value.into_owned())
        };
        let required = self.required(field);
        match field.kind() {
            Kind::String => {
                if get("uuid").and_then(|value| value.as_bool()) == Some(true) {
                    schema["pattern"] = match required {
                        true => json!(format!("^{UUID}$")),
                        false => json!(format!("^({UUID})?$")),
                    };
                } else if required {
                    schema["minLength"] = json!(1);
                    schema["pattern"] = json!(NOT_BLANK);
                }
                match get("max_length").and_then(|value| value.as_u32()) {
                    Some(0) | None => {}
                    Some(most) => schema["maxLength"] = json!(most),
                }
            }
            Kind::Int32 => match get("maximum").and_then(|value| value.as_i32()) {
                Some(0) | None => {}
                Some(most) => {
                    schema["minimum"] = json!(0);
                    schema["maximum"] = json!(most);
                }
            },
            _ => {}
        }
    }

    /// A reference to `message`'s schema, written when [`finish`](Self::finish)ed. A
    /// schema is named by its message's short name (`Song`), as a generated client's
    /// class is: every message is in one package.
    fn reference(&mut self, message: &MessageDescriptor) -> Json {
        if !self.done.contains_key(message.name())
            && !self.pending.iter().any(|pending| pending == message)
        {
            assert!(
                self.pending
                    .iter()
                    .all(|pending| pending.name() != message.name()),
                "two messages named {}",
                message.name()
            );
            self.pending.push(message.clone());
        }
        json!({"$ref": format!("#/components/schemas/{}", message.name())})
    }

    /// A reference to the schema of `message` as a request's body.
    fn request(&mut self, message: &MessageDescriptor) -> Json {
        self.requests.insert(message.name().to_owned());
        self.reference(message)
    }

    /// The object schema of `fields` of `message`. As a `request`, it is what the
    /// transcoder reads: `null` for a field that is not required (proto3 JSON reads it
    /// as the field's default), an integer as a number or a string, and fields it does
    /// not know (skipped) as long as they have a name.
    fn object(
        &mut self,
        message: &MessageDescriptor,
        fields: impl Iterator<Item = FieldDescriptor>,
        request: bool,
    ) -> Json {
        let mut required = Vec::new();
        let properties: Map<String, Json> = fields
            .map(|field| {
                let mut schema = self.field(&field);
                if let Some(text) = description(&field) {
                    schema["description"] = json!(text);
                }
                if self.required(&field) {
                    required.push(field.json_name().to_owned());
                } else if let (true, Some(kind)) = (request, schema["type"].as_str()) {
                    schema["type"] = json!([kind, "null"]);
                }
                // proto3 JSON reads an integer from a string too: "2", "+2", "02".
                if let (true, Some(most)) = (request, schema["maximum"].as_u64()) {
                    if let Some(kinds) = schema["type"].as_array_mut() {
                        kinds.push(json!("string"));
                    }
                    schema["pattern"] = json!(count_pattern(most));
                }
                (field.json_name().to_owned(), schema)
            })
            .collect();
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        if request {
            // The transcoder skips a field it does not know, but refuses one without a name.
            schema["propertyNames"] = json!({"minLength": 1});
        }
        let mut text = comments(&message.parent_file(), message.path());
        for oneof in message.oneofs() {
            let names: Vec<_> = oneof
                .fields()
                .map(|field| format!("`{}`", field.json_name()))
                .collect();
            text += &format!("\n\nAt most one of {}.", names.join(", "));
        }
        if !text.trim().is_empty() {
            schema["description"] = json!(text.trim());
        }
        schema
    }

    /// The schema of one field's value, by the proto3 JSON mapping.
    fn field(&mut self, field: &FieldDescriptor) -> Json {
        let value = match field.kind() {
            Kind::String => json!({"type": "string"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "int64", "minimum": 0})
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
                json!({"type": "string", "format": "int64", "description": "A 64-bit integer, as a string."})
            }
            Kind::Double | Kind::Float => json!({"type": "number"}),
            Kind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
            Kind::Enum(enumeration) => json!({
                "type": "string",
                "enum": enumeration.values().map(|value| value.name().to_owned()).collect::<Vec<_>>(),
            }),
            Kind::Message(message) => match message.full_name() {
                "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
                FIELD_MASK => json!({
                    "type": "string",
                    "description": "Field names, lowerCamel, separated by commas (e.g. `title,lyrics`); empty means every field. Fields left out are absent from the reply.",
                }),
                "google.protobuf.Duration" => {
                    json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"})
                }
                _ => self.reference(&message),
            },
        };
        if field.is_list() {
            json!({"type": "array", "items": value})
        } else {
            let mut value = value;
            self.bounded(field, &mut value);
            value
        }
    }

    /// Every schema referred to, and the error's.
    fn finish(mut self) -> Json {
        while let Some(message) = self.pending.pop() {
            let request = self.requests.contains(message.name());
            let schema = self.object(&message, message.fields(), request);
            self.done.insert(message.name().to_owned(), schema);
        }
        self.done.insert("Error".into(), json!({
            "type": "object",
            "description": "Every error: the gRPC status code, a sentence, and details a program can act on (Google's AIP-193: `google.rpc.ErrorInfo`, `BadRequest`, `RetryInfo`). The gateway's own refusals have no details.",
            "properties": {
                "code": {"type": "integer", "description": "The gRPC status code (3 INVALID_ARGUMENT, 5 NOT_FOUND, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, 16 UNAUTHENTICATED, …)."},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"@type": {"type": "string"}},
                    "required": ["@type"],
                }},
            },
            "required": ["code", "message"],
        }));
        json!(self.done)
    }
}

/// The decimal numbers `0..=most` as text, in every spelling proto3 JSON reads as
/// those numbers: leading zeros and a `+` allowed, and `-0`.
fn count_pattern(most: u64) -> String {
    let numbers: Vec<_> = (0..=most).map(|number| number.to_string()).collect();
    format!("^(\\+?0*({})|-0+)$", numbers.join("|"))
}

/// A field's own comment.
fn description(field: &FieldDescriptor) -> Option<String> {
    let text = comments(&field.parent_file(), field.path());
    (!text.is_empty()).then_some(text)
}

/// The leading comment of the element at `path` in `file`, without the `//` margins.
fn comments(file: &FileDescriptor, path: &[i32]) -> String {
    file.file_descriptor_proto()
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|location| location.path == path))
        .and_then(|location| location.leading_comments.as_deref())
        .map(|text| {
            text.lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

/// The first sentence of `text` as a summary, and the whole text unwrapped.
fn summary(text: &str) -> (String, String) {
    let unwrapped = text
        .split("\n\n")
        .map(|paragraph| paragraph.split('\n').collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n");
    let first = unwrapped
        .split_inclusive(". ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    (first, unwrapped)
}

fn operation_id(method: &MethodDescriptor, index: usize) -> String {
    match index {
        0 => method.name().to_owned(),
        index => format!("{}{index}", method.name()),
    }
}

fn short_name(service: &str) -> &str {
    service.rsplit('.').next().unwrap_or(service)
}

fn field(message: &DynamicMessage, name: &str) -> Option<Value> {
    message
        .get_field_by_name(name)
        .map(std::borrow::Cow::into_owned)
}

fn text(message: &DynamicMessage, name: &str) -> Option<String> {
    match field(message, name)? {
        Value::String(text) if !text.is_empty() => Some(text),
        _ => None,
    }
}
