//! An intrusive doubly-linked list over dense key ids: O(1) push to the
//! front, unlink and pop from the back, with the links in two arrays
//! indexed by key. Several lists may share one `Links` (a key is in at
//! most one of them), which is how the segmented policies are built.

pub const NIL: u32 = u32::MAX;

/// The prev / next links of every key.
pub struct Links {
    prev: Vec<u32>,
    next: Vec<u32>,
}

impl Links {
    pub fn new(keys: u32) -> Links {
        Links {
            prev: vec![NIL; keys as usize],
            next: vec![NIL; keys as usize],
        }
    }
}

/// One list: its ends and length. Front = most recent.
#[derive(Clone, Copy)]
pub struct List {
    head: u32,
    tail: u32,
    pub len: u32,
}

impl Default for List {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

impl List {
    pub fn push_front(&mut self, links: &mut Links, key: u32) {
        links.prev[key as usize] = NIL;
        links.next[key as usize] = self.head;
        if self.head != NIL {
            links.prev[self.head as usize] = key;
        } else {
            self.tail = key;
        }
        self.head = key;
        self.len += 1;
    }

    /// Removes `key`, which must be in this list.
    pub fn unlink(&mut self, links: &mut Links, key: u32) {
        let (p, n) = (links.prev[key as usize], links.next[key as usize]);
        if p != NIL {
            links.next[p as usize] = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            links.prev[n as usize] = p;
        } else {
            self.tail = p;
        }
        self.len -= 1;
    }

    pub fn move_to_front(&mut self, links: &mut Links, key: u32) {
        if self.head != key {
            self.unlink(links, key);
            self.push_front(links, key);
        }
    }

    pub fn back(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    pub fn pop_back(&mut self, links: &mut Links) -> Option<u32> {
        let key = self.back()?;
        self.unlink(links, key);
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_move_and_pop_keep_order() {
        let mut links = Links::new(5);
        let mut l = List::default();
        for k in 0..4 {
            l.push_front(&mut links, k);
        }
        l.move_to_front(&mut links, 0);
        l.unlink(&mut links, 2);
        let mut order = Vec::new();
        while let Some(k) = l.pop_back(&mut links) {
            order.push(k);
        }
        assert_eq!(order, vec![1, 3, 0]);
        assert_eq!(l.len, 0);
    }
}
