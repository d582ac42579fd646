//! The API's JSON for any of its messages: the proto3 JSON mapping the gateway's
//! transcoder prints (lowerCamelCase names, every field), read from the same descriptor
//! set, so `superstar --json` and `curl` print the same thing.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(superstar_proto::FILE_DESCRIPTOR_SET).expect("our own descriptor set")
});

/// `message`, whose full proto name is `name` (e.g. `superstar.v1.Song`), as JSON.
pub fn to_json(message: &impl prost::Message, name: &str) -> Value {
    let descriptor = POOL
        .get_message_by_name(name)
        .unwrap_or_else(|| panic!("{name} is in the contract"));
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .expect("a message decodes as its own type");
    let mut serializer = serde_json::Serializer::new(Vec::new());
    dynamic
        .serialize_with_options(
            &mut serializer,
            &SerializeOptions::new().skip_default_fields(false),
        )
        .expect("JSON");
    serde_json::from_slice(&serializer.into_inner()).expect("JSON")
}
