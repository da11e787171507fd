//! Bélády's optimum (MIN): evict the key whose next use is farthest in the
//! future — or do not cache the new key at all when its own next use is
//! the farthest. No real cache can do better on the same stream, so it is
//! the upper bound the policies are measured against. It needs the whole
//! stream in advance: `next_use` is computed in one backward pass.

/// Hits of the optimal cache of `capacity` keys on `accesses`.
pub fn belady_hits(accesses: &[u32], keys: u32, capacity: u32) -> u64 {
    const NEVER: u32 = u32::MAX;
    let capacity = capacity.max(1) as usize;
    let mut next_use = vec![NEVER; accesses.len()];
    let mut last = vec![NEVER; keys as usize];
    for (i, &k) in accesses.iter().enumerate().rev() {
        next_use[i] = last[k as usize];
        last[k as usize] = i as u32;
    }
    // The cached keys by next use; stale heap entries are skipped lazily.
    let mut heap: std::collections::BinaryHeap<(u32, u32)> = std::collections::BinaryHeap::new();
    let mut cached_next = vec![NEVER; keys as usize];
    let mut cached = vec![false; keys as usize];
    let mut size = 0usize;
    let mut hits = 0u64;
    for (i, &k) in accesses.iter().enumerate() {
        let next = next_use[i];
        if cached[k as usize] {
            hits += 1;
            cached_next[k as usize] = next;
            heap.push((next, k));
            continue;
        }
        if next == NEVER {
            // Never asked for again: caching it cannot help.
            continue;
        }
        if size >= capacity {
            // The farthest cached key; lazily drop entries that are stale.
            let victim = loop {
                let (n, v) = heap.peek().copied().expect("a full cache has entries");
                if cached[v as usize] && cached_next[v as usize] == n {
                    break (n, v);
                }
                heap.pop();
            };
            if victim.0 <= next {
                continue;
            }
            heap.pop();
            cached[victim.1 as usize] = false;
            size -= 1;
        }
        cached[k as usize] = true;
        cached_next[k as usize] = next;
        heap.push((next, k));
        size += 1;
        // Keep the heap from growing without bound on long streams.
        if heap.len() > 4 * capacity + 1024 {
            heap.retain(|&(n, v)| cached[v as usize] && cached_next[v as usize] == n);
        }
    }
    hits
}
