//! End-to-end tests of the sandbox over real HTTP on loopback.

mod auth;
mod bills;
mod callbacks;
mod certificates;
mod common;
mod config;
mod control;
mod errors;
mod faults;
mod flow;
mod media;
mod receiver;
mod shares;
