//! A visitor's request to be contacted: the lead and its validation, contact details in canonical
//! form, and consent scoped to one purpose.

pub mod consent;
pub mod contact;
pub mod json;
pub mod lead;
