//! The remote, running on a random port, against a local JWKS server whose keys the tests
//! generate. One binary, so linking happens once.

mod cors;
mod environments;
mod fit_cache;
mod fit_layer;
mod fit_rejections;
mod helpers;
mod hostile;
mod jose_crosscheck;
mod jwks;
mod lifecycle;
mod limits;
mod metrics;
mod readiness;
mod slow_clients;
mod tasks;
mod whoami;
