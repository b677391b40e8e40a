//! End-to-end tests of the sandbox over real HTTP on loopback.

mod auth;
mod bills;
mod callback_flows;
mod callbacks;
mod certificates;
mod common;
mod config;
mod control;
mod coupons;
mod errors;
mod faults;
mod flow;
mod media;
mod payer;
mod payments;
mod persistence;
mod profitsharing;
mod receiver;
mod refunds;
mod shares;
mod spec_ops;
mod transfers;
