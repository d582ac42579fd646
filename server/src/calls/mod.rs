//! Calling another service: what a call carries on from the request that made it
//! ([`call_context`]), and which replica it goes to ([`balance`]).

pub mod balance;
pub mod call_context;
