//! The library behind the `migrate` tool: its configuration, the PlanetScale deploy-request and
//! branch automation ([`planetscale`]) and the migration safety lint ([`lint`]). The schema
//! itself and applying it live in the `schema` crate, which the services link.

pub mod config;
pub mod lint;
pub mod planetscale;
