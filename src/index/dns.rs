//! A DNS resolver for the index client that looks each host up once per run.
//!
//! reqwest's default resolver calls `getaddrinfo` for every new connection, so a cold run with
//! 16 requests in flight sends 16 identical lookups at once. Resolvers that drop some of a
//! burst of UDP queries (container networks, conntrack races) then stall each lost lookup for
//! the resolver timeout, 5 s with glibc: measured on `scripts/bench-lock`, cold runs took
//! 0.3 s or 5 s or 10 s. One lookup per host removes the burst.
//!
//! The first connection to a host resolves it, on the blocking client's single runtime thread
//! (a lookup is a millisecond next to the requests); later connections read the map. Failures
//! are not remembered: the retry policy decides whether to try again. Ports come from the URL
//! (the connector sets them on the addresses returned here).

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Mutex;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Default)]
pub struct CachingResolver {
    hosts: Mutex<HashMap<String, Vec<SocketAddr>>>,
}

impl CachingResolver {
    fn lookup(&self, host: &str) -> std::io::Result<Vec<SocketAddr>> {
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(addrs) = hosts.get(host) {
            return Ok(addrs.clone());
        }
        let addrs: Vec<SocketAddr> = (host, 0).to_socket_addrs()?.collect();
        if !addrs.is_empty() {
            hosts.insert(host.to_string(), addrs.clone());
        }
        Ok(addrs)
    }
}

impl Resolve for CachingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let answer = self.lookup(name.as_str());
        Box::pin(async move {
            let addrs: Addrs = Box::new(answer?.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_looked_up_once_and_then_answered_from_memory() {
        let resolver = CachingResolver::default();
        let first = resolver.lookup("localhost").unwrap();
        assert!(!first.is_empty());
        assert!(resolver.hosts.lock().unwrap().contains_key("localhost"));
        // A planted entry proves the second answer comes from the map, not the system.
        let marker: SocketAddr = "192.0.2.1:0".parse().unwrap();
        resolver
            .hosts
            .lock()
            .unwrap()
            .insert("localhost".to_string(), vec![marker]);
        assert_eq!(resolver.lookup("localhost").unwrap(), [marker]);
    }

    #[test]
    fn a_failed_lookup_is_an_error_and_is_not_remembered() {
        let resolver = CachingResolver::default();
        assert!(resolver.lookup("no-such-host.invalid").is_err());
        assert!(resolver.hosts.lock().unwrap().is_empty());
    }
}
