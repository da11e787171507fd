//! TinyLFU as moka 0.12 implements it: an LRU list whose admission is
//! filtered by a frequency sketch — when the cache is full, a new key gets
//! in only if it has been asked for more often (recently) than the key LRU
//! would evict; otherwise it is not cached. (Caffeine's W-TinyLFU adds an
//! admission window in front; moka does not have one yet.)

use super::Policy;
use super::list::{Links, List};
use super::sketch::FrequencySketch;

pub struct TinyLfu {
    capacity: u32,
    links: Links,
    list: List,
    cached: Vec<bool>,
    sketch: FrequencySketch,
}

impl TinyLfu {
    pub fn new(capacity: u32, keys: u32) -> TinyLfu {
        TinyLfu {
            capacity: capacity.max(1),
            links: Links::new(keys),
            list: List::default(),
            cached: vec![false; keys as usize],
            sketch: FrequencySketch::new(capacity),
        }
    }
}

impl Policy for TinyLfu {
    #[inline]
    fn access(&mut self, key: u32) -> bool {
        self.sketch.increment(key);
        if self.cached[key as usize] {
            self.list.move_to_front(&mut self.links, key);
            return true;
        }
        if self.list.len >= self.capacity {
            let Some(victim) = self.list.back() else {
                return false;
            };
            if self.sketch.frequency(key) <= self.sketch.frequency(victim) {
                return false;
            }
            self.list.pop_back(&mut self.links);
            self.cached[victim as usize] = false;
        }
        self.list.push_front(&mut self.links, key);
        self.cached[key as usize] = true;
        false
    }
}
