//! gradhub: the distribution hub for the real-name registration of university graduates who
//! leave school without a job (离校未就业高校毕业生实名登记).
//!
//! Data flows one way: `web`, `jobs` and the command line call the services (`ingest`,
//! `registration`, `distribution`, `followup`, `unemployment`, `access`, `export`), which use `authz` for who may do what,
//! `domain` for rules and `db` for storage. `domain` imports nothing of the project; `authz` only `domain`.

pub mod access;
pub mod authz;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod distribution;
pub mod domain;
pub mod export;
pub mod followup;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod registration;
pub mod report;
pub mod startup;
pub mod telemetry;
pub mod unemployment;
pub mod views;
pub mod web;
