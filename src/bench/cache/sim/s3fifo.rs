//! S3-FIFO (Yang et al., SOSP 2023): a small FIFO (10 % of the capacity)
//! that new keys enter, a main FIFO for keys asked for again, and a ghost
//! list remembering keys recently evicted from the small one. Hits only
//! bump a 2-bit counter — no list is touched on a hit. Leaving the small
//! FIFO, a key asked for again while there moves to main, others become
//! ghosts; a miss on a ghost goes straight to main. Main is a FIFO with
//! reinsertion: a key with a count left goes round again, one count less.

use super::Policy;
use std::collections::VecDeque;

const NOT_GHOST: u64 = u64::MAX;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    None,
    Small,
    Main,
}

pub struct S3Fifo {
    capacity: u32,
    small_capacity: u32,
    small: VecDeque<u32>,
    main: VecDeque<u32>,
    place: Vec<Place>,
    freq: Vec<u8>,
    /// Ghost membership: the ghost insertion number of a key; a key is a
    /// ghost while fewer than `ghost_capacity` ghosts came after it.
    ghost_at: Vec<u64>,
    ghosts: u64,
    ghost_capacity: u64,
}

impl S3Fifo {
    pub fn new(capacity: u32, keys: u32) -> S3Fifo {
        let capacity = capacity.max(1);
        let small_capacity = (capacity / 10).max(1);
        S3Fifo {
            capacity,
            small_capacity,
            small: VecDeque::new(),
            main: VecDeque::new(),
            place: vec![Place::None; keys as usize],
            freq: vec![0; keys as usize],
            ghost_at: vec![NOT_GHOST; keys as usize],
            ghosts: 0,
            ghost_capacity: u64::from(capacity - small_capacity.min(capacity - 1)),
        }
    }

    fn is_ghost(&self, key: u32) -> bool {
        let at = self.ghost_at[key as usize];
        at != NOT_GHOST && self.ghosts - at <= self.ghost_capacity
    }

    fn len(&self) -> usize {
        self.small.len() + self.main.len()
    }

    fn evict(&mut self) {
        if self.small.len() as u32 >= self.small_capacity || self.main.is_empty() {
            self.evict_small();
        } else {
            self.evict_main();
        }
    }

    fn evict_small(&mut self) {
        while let Some(key) = self.small.pop_front() {
            if self.freq[key as usize] > 0 {
                self.freq[key as usize] = 0;
                self.place[key as usize] = Place::Main;
                self.main.push_back(key);
                if self.main.len() as u32
                    > self.capacity - self.small_capacity.min(self.capacity - 1)
                {
                    self.evict_main();
                }
            } else {
                self.place[key as usize] = Place::None;
                self.ghosts += 1;
                self.ghost_at[key as usize] = self.ghosts;
                return;
            }
        }
    }

    fn evict_main(&mut self) {
        while let Some(key) = self.main.pop_front() {
            let f = &mut self.freq[key as usize];
            if *f > 0 {
                *f -= 1;
                self.main.push_back(key);
            } else {
                self.place[key as usize] = Place::None;
                return;
            }
        }
    }
}

impl Policy for S3Fifo {
    #[inline]
    fn access(&mut self, key: u32) -> bool {
        if self.place[key as usize] != Place::None {
            let f = &mut self.freq[key as usize];
            *f = (*f + 1).min(3);
            return true;
        }
        while self.len() >= self.capacity as usize {
            self.evict();
        }
        self.freq[key as usize] = 0;
        if self.is_ghost(key) {
            self.ghost_at[key as usize] = NOT_GHOST;
            self.place[key as usize] = Place::Main;
            self.main.push_back(key);
        } else {
            self.place[key as usize] = Place::Small;
            self.small.push_back(key);
        }
        false
    }
}
