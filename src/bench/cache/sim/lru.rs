//! Least recently used: a hit moves the key to the front; a miss evicts
//! the back when full. moka with `EvictionPolicy::lru()` behaves like this,
//! which is what the live L1 run checks against.

use super::Policy;
use super::list::{Links, List};

pub struct Lru {
    capacity: u32,
    links: Links,
    list: List,
    cached: Vec<bool>,
}

impl Lru {
    pub fn new(capacity: u32, keys: u32) -> Lru {
        Lru {
            capacity: capacity.max(1),
            links: Links::new(keys),
            list: List::default(),
            cached: vec![false; keys as usize],
        }
    }
}

impl Policy for Lru {
    #[inline]
    fn access(&mut self, key: u32) -> bool {
        if self.cached[key as usize] {
            self.list.move_to_front(&mut self.links, key);
            return true;
        }
        if self.list.len >= self.capacity
            && let Some(victim) = self.list.pop_back(&mut self.links)
        {
            self.cached[victim as usize] = false;
        }
        self.list.push_front(&mut self.links, key);
        self.cached[key as usize] = true;
        false
    }
}
