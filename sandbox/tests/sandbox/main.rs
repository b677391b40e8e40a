//! End-to-end tests of the sandbox over real HTTP on loopback.

mod auth;
mod bills;
mod certificates;
mod common;
mod config;
mod coupons;
mod errors;
mod faults;
mod flow;
mod media;
mod payments;
mod persistence;
mod refunds;
