//! Does it sell? The owner's numbers: the funnel per prompt (eligible → shown → accepted → lead →
//! delivered to the CRM) folded from stored events into daily rollups, and the deals a CRM reports
//! back, so each prompt shows the revenue it brought; and the results of experiments on prompts,
//! arm against arm. Uses `base`, `visitor`, `leads`, `prompts`
//! (the prompt engine decides what "eligible" means) and `outbound` (a lead's webhook id).
//!
//! Aggregates only: a rollup row counts visitors, it never names one. Under `consent: required`
//! the widget sends no event before consent, so nothing here exists for a visitor who has not
//! given it.

pub mod day;
pub mod deals;
pub mod experiment;
pub mod funnel;
pub mod rollup;
