//! Pure rules of the hub: no I/O, no database, nothing of the rest of the project.
//!
//! Everything that decides whether a value is valid or where a person goes lives here, so that the
//! reject report, the API and the command line can never disagree.

pub mod address;
pub mod calendar;
pub mod catalogue;
pub mod codes;
pub mod dates;
pub mod deregistration;
pub mod division;
pub mod followup;
pub mod graduate;
pub mod id_number;
pub mod masking;
pub mod organisation;
pub mod routing;
pub mod text;
pub mod unemployment;
