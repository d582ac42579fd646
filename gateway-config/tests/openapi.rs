//! The OpenAPI document: committed as generated, every HTTP binding of the protos in it,
//! and its schemas in the proto3 JSON mapping the gateway prints.

use std::{collections::BTreeSet, path::Path};

use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&gateway_config::openapi_json()).unwrap()
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let generated = gateway_config::openapi_json();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&committed, &generated).unwrap();
    }
    assert!(
        std::fs::read_to_string(&committed).unwrap() == generated,
        "docs/openapi.json and the protos drifted apart: UPDATE_EXPECT=1 cargo test -p gateway-config --test openapi"
    );
}

/// Read from the protos' text, not from the descriptor set the generator reads.
#[test]
fn every_http_binding_of_the_protos_is_an_operation() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/superstar/v1");
    let mut bindings = BTreeSet::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for verb in ["get", "put", "post", "delete", "patch"] {
            for (at, _) in text.match_indices(&format!("{verb}: \"")) {
                let rest = &text[at + verb.len() + 3..];
                let path = &rest[..rest.find('"').unwrap()];
                bindings.insert((verb.to_owned(), path.to_owned()));
            }
        }
    }
    assert_eq!(bindings.len(), 10, "{bindings:?}");
    let document = document();
    let operations: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |verb| (verb.clone(), path.clone()))
        })
        .collect();
    assert_eq!(operations, bindings);
}

#[test]
fn schemas_follow_the_proto3_json_mapping() {
    let document = document();
    let schema = |name: &str| &document["components"]["schemas"][name];
    let song = &schema("Song")["properties"];
    assert_eq!(song["createTime"]["format"], "date-time");
    assert_eq!(song["albumId"]["type"], "string");
    assert!(song.get("album_id").is_none(), "lowerCamel names");
    assert!(schema("Song").get("required").is_none());
    let album = &schema("Album")["properties"];
    assert_eq!(album["songs"]["items"]["$ref"], "#/components/schemas/Song");

    let operation = |path: &str, verb: &str| &document["paths"][path][verb];
    let get_song = operation("/v1/songs/{id}", "get");
    let parameters = get_song["parameters"].as_array().unwrap();
    assert_eq!(parameters[0]["in"], "path");
    assert_eq!(parameters[0]["name"], "id");
    assert_eq!(parameters[1]["name"], "readMask");
    assert_eq!(parameters[1]["schema"]["type"], "string", "a FieldMask");
    assert_eq!(
        get_song["responses"]["404"]["$ref"],
        "#/components/responses/404"
    );
    assert_eq!(
        get_song["summary"],
        "Returns one song, or only the fields named in `read_mask`."
    );

    let make = operation("/v1/albums", "post");
    assert_eq!(
        make["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/MakeMeSuperstarRequest"
    );
    assert!(make.get("parameters").is_none());
    let image = operation("/v1/covers/{id}/image", "get");
    assert!(image["responses"]["200"]["content"]["image/png"].is_object());
    let stream = operation("/v1/lyrics:stream", "post");
    assert!(
        stream["responses"]["200"]["description"]
            .as_str()
            .unwrap()
            .contains("newline-delimited")
    );
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        (&schemes["apiKey"]["in"], &schemes["apiKey"]["name"]),
        (&"header".into(), &"x-api-key".into())
    );
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let error = &schema("Error");
    assert_eq!(error["required"], serde_json::json!(["code", "message"]));
}

/// What a request must hold, from the protos' `google.api.field_behavior` and
/// `superstar.v1.bounds`.
#[test]
fn requests_carry_the_contracts_bounds() {
    let document = document();
    let make = &document["components"]["schemas"]["MakeMeSuperstarRequest"];
    assert_eq!(make["required"], serde_json::json!(["genre", "theme"]));
    let field = |name: &str| &make["properties"][name];
    assert_eq!(field("genre")["maxLength"], 64);
    assert_eq!(field("genre")["minLength"], 1);
    assert_eq!(field("theme")["maxLength"], 500);
    assert_eq!(
        (
            &field("songsCount")["minimum"],
            &field("songsCount")["maximum"]
        ),
        (&0.into(), &10.into())
    );
    assert!(
        field("coverDescription").get("minLength").is_none(),
        "optional"
    );
    // What the transcoder reads: null for an optional field's default, an integer in
    // a string, fields it does not know if they have a name.
    assert_eq!(
        field("requestId")["type"],
        serde_json::json!(["string", "null"])
    );
    assert_eq!(field("genre")["type"], "string");
    assert_eq!(make["propertyNames"]["minLength"], 1);
    let count = matcher(&field("songsCount")["pattern"]);
    for read in ["0", "10", "010", "+2", "-0", "7"] {
        assert!(count(read), "{read}");
    }
    for refused in ["11", "-1", "2.0", "", " 2", "100"] {
        assert!(!count(refused), "{refused}");
    }
    let page_size = &document["paths"]["/v1/songs"]["get"]["parameters"][0]["schema"];
    assert_eq!(
        page_size["maximum"], 100,
        "a query parameter is text anyway"
    );

    // A required text is not blank; an optional UUID may be empty.
    let not_blank = matcher(&field("theme")["pattern"]);
    assert!(not_blank("  rain ") && !not_blank(" \t\u{3000}\u{85}"));
    let optional_id = matcher(&field("requestId")["pattern"]);
    assert!(optional_id("") && optional_id("0195F0A4-7c3e-7d52-9d1c-3f1a2b3c4d5e"));
    assert!(!optional_id("0195f0a47c3e7d529d1c3f1a2b3c4d5e"));

    let get_song = &document["paths"]["/v1/songs/{id}"]["get"]["parameters"];
    let id = matcher(&get_song[0]["schema"]["pattern"]);
    assert!(id("0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e") && !id(""));
    let mask = matcher(&get_song[1]["schema"]["pattern"]);
    assert!(mask("") && mask("title,lyrics") && mask("createTime"));
    assert!(!mask("title,") && !mask("create_time") && !mask("nope"));
}

/// The schema's `pattern` as a matcher, with the `regex` crate (whose syntax covers
/// what the document uses: classes, ranges, `\uXXXX` escapes, anchors).
fn matcher(pattern: &Value) -> impl Fn(&str) -> bool {
    let pattern = regex::Regex::new(pattern.as_str().expect("a pattern")).unwrap();
    move |text| pattern.is_match(text)
}
