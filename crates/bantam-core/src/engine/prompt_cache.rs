//! Prompts kept in memory after their slot moved on: a slot's KV cache is saved (llama.cpp's
//! per-sequence state) before another request overwrites it, and restored when a later
//! prompt starts the same way — a conversation picked up again after other chats used the
//! slots, an agent's growing history, more API clients than slots. Restoring is a memory
//! copy; prefilling the same tokens again is a forward pass over each (on a 2-core CPU,
//! ~85 tokens/s for short prompts side by side). llama-server keeps the same kind of cache
//! (`--cache-ram`). Bounded by bytes, the least recently used entry goes first.
//!
//! Generic over the saved state so the bookkeeping is tested without a model.

use llama_cpp_2::token::LlamaToken;

pub(crate) struct PromptCache<S> {
    entries: Vec<Entry<S>>,
    bytes: usize,
    limit: usize,
    tick: u64,
}

struct Entry<S> {
    tokens: Vec<LlamaToken>,
    state: S,
    bytes: usize,
    used: u64,
}

impl<S> PromptCache<S> {
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            entries: Vec::new(),
            bytes: 0,
            limit: limit_bytes,
            tick: 0,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.limit > 0
    }

    /// Whether `tokens` would add anything: not already held whole by an entry.
    pub fn wants(&self, tokens: &[LlamaToken]) -> bool {
        self.is_enabled() && !self.entries.iter().any(|e| e.tokens.starts_with(tokens))
    }

    /// Keeps `state` (of `bytes` bytes) for `tokens`. An entry that is a start of `tokens`
    /// is replaced; the least recently used entries go until the whole fits.
    pub fn insert(&mut self, tokens: Vec<LlamaToken>, state: S, bytes: usize) {
        if !self.wants(&tokens) || bytes > self.limit {
            return;
        }
        let mut i = 0;
        while i < self.entries.len() {
            if tokens.starts_with(&self.entries[i].tokens) {
                self.bytes -= self.entries.swap_remove(i).bytes;
            } else {
                i += 1;
            }
        }
        while self.bytes + bytes > self.limit {
            let Some(oldest) = (0..self.entries.len()).min_by_key(|&i| self.entries[i].used) else {
                break;
            };
            self.bytes -= self.entries.swap_remove(oldest).bytes;
        }
        self.tick += 1;
        self.bytes += bytes;
        self.entries.push(Entry {
            tokens,
            state,
            bytes,
            used: self.tick,
        });
    }

    /// The entry sharing the longest start with `prompt` if it shares more than
    /// `at_least` tokens: its tokens, its state and how many it shares. Marks it used.
    pub fn best(&mut self, prompt: &[LlamaToken], at_least: usize) -> Option<(&[LlamaToken], &S, usize)> {
        let (i, shared) = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, common_prefix(&e.tokens, prompt)))
            .filter(|&(_, shared)| shared > at_least)
            .max_by_key(|&(_, shared)| shared)?;
        self.tick += 1;
        let entry = &mut self.entries[i];
        entry.used = self.tick;
        Some((&entry.tokens, &entry.state, shared))
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

pub(crate) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::PromptCache;
    use llama_cpp_2::token::LlamaToken;

    fn t(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&i| LlamaToken(i)).collect()
    }

    #[test]
    fn the_longest_shared_start_is_found_and_must_beat_what_the_slot_has() {
        let mut cache = PromptCache::new(1000);
        cache.insert(t(&[1, 2, 3, 4]), "a", 10);
        cache.insert(t(&[1, 2, 9, 9, 9]), "b", 10);
        let (_, state, shared) = cache.best(&t(&[1, 2, 3, 4, 5]), 0).expect("a hit");
        assert_eq!((*state, shared), ("a", 4));
        let (_, state, shared) = cache.best(&t(&[1, 2, 9, 9, 1]), 0).expect("a hit");
        assert_eq!((*state, shared), ("b", 4));
        // No better than what the slot already holds: nothing.
        assert!(cache.best(&t(&[1, 2, 3, 4, 5]), 4).is_none());
        assert!(cache.best(&t(&[7]), 0).is_none());
    }

    #[test]
    fn a_longer_version_replaces_its_start_and_a_start_of_an_entry_adds_nothing() {
        let mut cache = PromptCache::new(1000);
        cache.insert(t(&[1, 2, 3]), "short", 30);
        cache.insert(t(&[1, 2, 3, 4, 5]), "long", 50);
        assert_eq!((cache.len(), cache.bytes()), (1, 50));
        assert!(!cache.wants(&t(&[1, 2, 3])));
        cache.insert(t(&[1, 2, 3]), "short again", 30);
        assert_eq!((cache.len(), cache.bytes()), (1, 50));
        assert_eq!(
            cache.best(&t(&[1, 2, 3]), 0).map(|(_, s, n)| (*s, n)),
            Some(("long", 3))
        );
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_limit_holds() {
        let mut cache = PromptCache::new(100);
        cache.insert(t(&[1]), "one", 40);
        cache.insert(t(&[2]), "two", 40);
        // "one" used since: "two" is the oldest.
        assert!(cache.best(&t(&[1, 5]), 0).is_some());
        cache.insert(t(&[3]), "three", 40);
        assert_eq!((cache.len(), cache.bytes()), (2, 80));
        assert!(cache.best(&t(&[2]), 0).is_none());
        assert!(cache.best(&t(&[1]), 0).is_some());
        // Bigger than the whole cache: not kept, nothing evicted for it.
        cache.insert(t(&[4]), "huge", 101);
        assert_eq!(cache.len(), 2);
        // Disabled: keeps nothing.
        let mut off = PromptCache::new(0);
        off.insert(t(&[1]), "x", 0);
        assert_eq!(off.len(), 0);
    }
}
