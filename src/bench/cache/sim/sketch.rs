//! A Count-Min frequency sketch with 4 rows of saturating 4-bit counts
//! (kept in bytes, capped at 15) and periodic halving, as TinyLFU uses to
//! estimate how often a key was asked for recently.

pub struct FrequencySketch {
    table: Vec<u8>,
    mask: usize,
    additions: u32,
    /// Halve every count after this many additions (10 × capacity).
    sample_size: u32,
}

const SEEDS: [u64; 4] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0x27D4_EB2F_1656_67C5,
];

impl FrequencySketch {
    pub fn new(capacity: u32) -> FrequencySketch {
        let width = (capacity.max(16) as usize).next_power_of_two() * 4;
        FrequencySketch {
            table: vec![0; width],
            mask: width - 1,
            additions: 0,
            sample_size: capacity.max(16).saturating_mul(10),
        }
    }

    #[inline]
    fn slot(&self, key: u32, row: usize) -> usize {
        let h = (u64::from(key) ^ (row as u64)).wrapping_mul(SEEDS[row]);
        ((h >> 32) as usize) & self.mask
    }

    #[inline]
    pub fn increment(&mut self, key: u32) {
        for row in 0..4 {
            let i = self.slot(key, row);
            if self.table[i] < 15 {
                self.table[i] += 1;
            }
        }
        self.additions += 1;
        if self.additions >= self.sample_size {
            for c in &mut self.table {
                *c >>= 1;
            }
            self.additions /= 2;
        }
    }

    #[inline]
    pub fn frequency(&self, key: u32) -> u8 {
        (0..4)
            .map(|row| self.table[self.slot(key, row)])
            .min()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_estimate_frequencies_and_age() {
        let mut s = FrequencySketch::new(1000);
        for _ in 0..10 {
            s.increment(7);
        }
        s.increment(8);
        assert!(s.frequency(7) >= 10);
        assert!(s.frequency(8) >= 1 && s.frequency(8) < 10);
        for k in 0..20_000 {
            s.increment(100 + k % 5000);
        }
        assert!(s.frequency(7) < 10, "aged: {}", s.frequency(7));
    }
}
