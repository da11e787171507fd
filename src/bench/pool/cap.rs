//! How many pool connections a run may open (safety contract, point 6):
//! the server's max_connections less its reserved slots and the client
//! backends already in use, and no more than the role's and the database's
//! CONNECTION LIMIT leave (those do not bind superusers), less the
//! connections the run itself opens besides the pool. The superuser slots
//! are never used, even by a superuser: they are the DBA's way in.

use serde::Serialize;

/// The numbers the preflight reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Slots {
    pub max_connections: i64,
    pub superuser_reserved: i64,
    /// reserved_connections (PostgreSQL 16+), 0 before.
    pub reserved: i64,
    /// Client backends open, this run's control session included.
    pub in_use: i64,
    pub superuser: bool,
    /// The role's CONNECTION LIMIT, −1 for none.
    pub role_limit: i64,
    pub role_in_use: i64,
    /// The database's CONNECTION LIMIT, −1 for none.
    pub database_limit: i64,
    pub database_in_use: i64,
}

/// The largest pool allowed, and which limit set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cap {
    pub pool_size: i64,
    /// The limit that binds, in words with its arithmetic.
    pub reason: String,
}

/// `extra` connections the run opens besides the pool and the control
/// session (which `in_use` already counts): the wait-event sampler.
pub fn connection_cap(s: &Slots, extra: i64) -> Cap {
    let server = s.max_connections - s.superuser_reserved - s.reserved - s.in_use - extra;
    let mut cap = Cap {
        pool_size: server,
        reason: format!(
            "max_connections {} − {} superuser-reserved{} − {} in use (this run's control session included) − {extra} for the sampler = {server}",
            s.max_connections,
            s.superuser_reserved,
            if s.reserved > 0 {
                format!(" − {} reserved", s.reserved)
            } else {
                String::new()
            },
            s.in_use
        ),
    };
    if !s.superuser && s.role_limit >= 0 {
        let role = s.role_limit - s.role_in_use - extra;
        if role < cap.pool_size {
            cap = Cap {
                pool_size: role,
                reason: format!(
                    "the role's CONNECTION LIMIT {} − {} of its sessions open − {extra} for the sampler = {role}",
                    s.role_limit, s.role_in_use
                ),
            };
        }
    }
    if !s.superuser && s.database_limit >= 0 {
        let db = s.database_limit - s.database_in_use - extra;
        if db < cap.pool_size {
            cap = Cap {
                pool_size: db,
                reason: format!(
                    "the database's CONNECTION LIMIT {} − {} sessions open in it − {extra} for the sampler = {db}",
                    s.database_limit, s.database_in_use
                ),
            };
        }
    }
    cap.pool_size = cap.pool_size.max(0);
    cap
}

/// The sizes to run after the cap: sizes above it become the cap (once),
/// and the ones clipped are returned for the warning.
pub fn clip_sizes(sizes: &[u32], cap: i64) -> (Vec<u32>, Vec<u32>) {
    let cap = u32::try_from(cap.max(0)).unwrap_or(u32::MAX);
    let mut kept = Vec::new();
    let mut clipped = Vec::new();
    for &n in sizes {
        let n2 = if n > cap {
            clipped.push(n);
            cap
        } else {
            n
        };
        if n2 >= 1 && !kept.contains(&n2) {
            kept.push(n2);
        }
    }
    kept.sort_unstable();
    (kept, clipped)
}

/// `auto`: powers of two from 1 to 32 (six sizes, enough for the USL fit),
/// and the cap itself when it is below 32.
pub fn auto_sizes(cap: i64) -> Vec<u32> {
    let cap = u32::try_from(cap.max(0)).unwrap_or(u32::MAX);
    let mut sizes: Vec<u32> = [1, 2, 4, 8, 16, 32]
        .into_iter()
        .filter(|&n| n <= cap)
        .collect();
    if (1..32).contains(&cap) && !sizes.contains(&cap) {
        sizes.push(cap);
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots() -> Slots {
        Slots {
            max_connections: 100,
            superuser_reserved: 3,
            reserved: 0,
            in_use: 6,
            superuser: false,
            role_limit: -1,
            role_in_use: 1,
            database_limit: -1,
            database_in_use: 2,
        }
    }

    #[test]
    fn server_slots_less_reserved_in_use_and_sampler() {
        let c = connection_cap(&slots(), 1);
        assert_eq!(c.pool_size, 90);
        assert!(c.reason.contains("max_connections 100"), "{}", c.reason);
        let mut s = slots();
        s.reserved = 5;
        assert_eq!(connection_cap(&s, 1).pool_size, 85);
    }

    #[test]
    fn role_and_database_limits_bind_non_superusers_only() {
        let mut s = slots();
        s.role_limit = 4;
        let c = connection_cap(&s, 1);
        assert_eq!(c.pool_size, 2);
        assert!(
            c.reason.contains("role's CONNECTION LIMIT 4"),
            "{}",
            c.reason
        );
        s.database_limit = 3;
        assert_eq!(connection_cap(&s, 1).pool_size, 0);
        s.superuser = true;
        assert_eq!(connection_cap(&s, 1).pool_size, 90);
    }

    #[test]
    fn a_full_server_gives_zero_not_negative() {
        let mut s = slots();
        s.in_use = 120;
        assert_eq!(connection_cap(&s, 1).pool_size, 0);
    }

    #[test]
    fn sizes_above_the_cap_are_clipped_once() {
        let (kept, clipped) = clip_sizes(&[1, 2, 8, 100, 1000], 8);
        assert_eq!(kept, vec![1, 2, 8]);
        assert_eq!(clipped, vec![100, 1000]);
        let (kept, clipped) = clip_sizes(&[4, 2], 3);
        assert_eq!(kept, vec![2, 3]);
        assert_eq!(clipped, vec![4]);
        assert_eq!(clip_sizes(&[5], 0).0, Vec::<u32>::new());
    }

    #[test]
    fn auto_sizes_are_powers_of_two_up_to_the_cap() {
        assert_eq!(auto_sizes(90), vec![1, 2, 4, 8, 16, 32]);
        assert_eq!(auto_sizes(10), vec![1, 2, 4, 8, 10]);
        assert_eq!(auto_sizes(1), vec![1]);
        assert!(auto_sizes(0).is_empty());
    }
}
